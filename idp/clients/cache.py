"""Client rows cached per process: frozen snapshots checked against a change counter.

The token, introspection, revocation and UserInfo endpoints need a client on every
request; a :class:`ClientSnapshot` (a frozen copy of the row, never a live ORM object)
saves that SELECT. Every change made through ``idp.clients.service`` (register, update,
rotate a secret, enable or disable, delete; dynamic registration goes through it too)
calls :func:`changed` in its own transaction, which bumps the ``clients_version`` row:

- the process that made the change drops its snapshots at once, and again when the
  transaction commits;
- every other process reads the counter at most once per ``CLIENT_CACHE_SECONDS`` and
  drops its snapshots when the counter moved.

So a disabled client is refused at once by the process that disabled it and within
``CLIENT_CACHE_SECONDS`` (default 2; 0 reads the counter on every lookup) by the others.
Unknown client ids are never cached: the cache holds at most one entry per registered
client, whatever ids a caller invents.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, insert, select, update

from .. import settings
from ..extensions import db, now
from ..models import Client, ClientsVersion
from ..unit_of_work import after_commit

_CLIENTS = Client.__table__
_VERSION = ClientsVersion.__table__
_CACHE = "idp.client_cache"


@dataclass(frozen=True, slots=True)
class ClientSnapshot:
    """A registered client as it was when read; the columns the protocol needs."""

    client_id: str
    secret_hash: str | None
    previous_secret_hash: str | None
    previous_secret_expires_at: datetime | None
    name_fa: str
    name_en: str
    logo_uri: str | None
    client_type: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    backchannel_logout_uri: str | None
    grant_types: tuple[str, ...]
    response_types: tuple[str, ...]
    scope: str
    token_endpoint_auth_method: str
    jwks: dict | None  # read-only by convention: handed to joserfc as registered
    jwks_uri: str | None
    id_token_signed_response_alg: str
    introspection_signed_response_alg: str | None
    authorization_signed_response_alg: str | None
    profile: str | None
    first_party: bool
    subject_type: str
    sector_identifier: str | None
    is_resource_server: bool
    resource_uri: str | None
    access_token_ttl: int | None
    refresh_token_ttl: int | None
    default_acr_values: tuple[str, ...]
    minimum_acr: str | None
    enabled: bool
    require_pushed_authorization_requests: bool
    request_object_signing_alg: str | None
    dpop_bound_access_tokens: bool


_FIELDS = tuple(f.name for f in fields(ClientSnapshot))
_LISTS = frozenset({"redirect_uris", "post_logout_redirect_uris", "grant_types",
                    "response_types", "default_acr_values"})
_SELECT_CLIENT = select(*(_CLIENTS.c[name] for name in _FIELDS)).where(
    _CLIENTS.c.client_id == bindparam("client_id"))
_SELECT_VERSION = select(_VERSION.c.version).where(_VERSION.c.id == 1)
_BUMP_VERSION = update(_VERSION).where(_VERSION.c.id == 1).values(
    version=_VERSION.c.version + 1)


def _snapshot(row) -> ClientSnapshot:
    return ClientSnapshot(*(tuple(value or ()) if name in _LISTS else value
                            for name, value in zip(_FIELDS, row, strict=True)))


class ClientCache:
    """The snapshots of one app, valid while ``clients_version`` keeps its value."""

    def __init__(self):
        self.entries: dict[str, ClientSnapshot] = {}
        self.version: int | None = None
        self.checked_at: datetime | None = None

    def get(self, client_id: str, moment: datetime, max_age: float) -> ClientSnapshot | None:
        """Return the snapshot of ``client_id`` (enabled or not), or ``None`` if unknown."""
        if self.checked_at is None or moment < self.checked_at \
                or (moment - self.checked_at).total_seconds() >= max_age:
            version = db.session.execute(_SELECT_VERSION).scalar()
            if version != self.version:
                self.entries = {}
                self.version = version
            self.checked_at = moment
        # A snapshot goes into the dict that was current when its row was read: if a drop
        # replaced that dict meanwhile (another thread saw a change), it is thrown away
        # with it instead of outliving the change.
        entries = self.entries
        snapshot = entries.get(client_id)
        if snapshot is None:
            row = db.session.execute(_SELECT_CLIENT, {"client_id": client_id}).first()
            if row is None:
                return None
            snapshot = entries[client_id] = _snapshot(row)
        return snapshot

    def drop(self) -> None:
        """Forget every snapshot; the next lookups read the rows again.

        The dict is replaced, never cleared, so a lookup that read its row before the
        drop stores its snapshot in the discarded dict (see ``get``).
        """
        self.entries = {}


def _cache() -> ClientCache:
    cache = current_app.extensions.get(_CACHE)
    if cache is None:
        cache = current_app.extensions[_CACHE] = ClientCache()
    return cache


def find(client_id: str) -> ClientSnapshot | None:
    """Return the snapshot of a registered client (enabled or not), or ``None``."""
    return _cache().get(client_id, now(), settings.current().client_cache_seconds)


def changed() -> None:
    """Record, in the current transaction, that a client was created, changed or deleted.

    Bumps ``clients_version`` (other processes notice within ``CLIENT_CACHE_SECONDS``)
    and drops this process's snapshots now and again once the transaction commits, so
    no request here keeps a snapshot read before the change.
    """
    if db.session.execute(_BUMP_VERSION).rowcount == 0:
        # A database made without the migration's row: start the counter.
        db.session.execute(insert(_VERSION).values(id=1, version=1))
    cache = _cache()
    cache.drop()
    after_commit(cache.drop)
