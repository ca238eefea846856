"""Client applications: register, change and remove the portals that use the IdP.

The CLI (``flask clients …``), the admin pages and dynamic client registration all call
these same functions, so a client is the same whichever way it was made. Every change is
an audit event carrying the admin's id (``actor_id``) and a bump of the change counter
that per-process client caches watch (``idp.clients.cache``), in one unit of work. The
metadata rules live in ``idp.clients.rules``, the secrets in ``idp.clients.credentials``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select

from .. import audit, settings
from ..errors import DomainError
from ..extensions import db, now
from ..models import BackchannelLogoutJob, Client
from ..unit_of_work import unit_of_work
from . import cache
from .credentials import hash_client_secret, new_client_secret
from .keys import public_jwks
from .rules import validate
from .spec import SECRET_METHODS, SPEC_FIELDS, ClientSpec


def create_client(spec: ClientSpec, actor_id: int | None = None,
                  **audit_fields) -> tuple[Client, str | None]:
    """Validate and add a client to the session without committing (see ``register_client``).

    :raises DomainError: when the specification is invalid or the client id is taken.
    """
    spec = validate(spec)
    # 32 hex digits: never starts with "-" (a CLI argument) and survives any URL or log.
    client_id = spec.client_id or secrets.token_hex(16)
    if db.session.scalar(select(Client.id).where(Client.client_id == client_id)):
        raise DomainError("client_id_taken", field="client_id")
    _check_resource_uri_free(spec.resource_uri, client_id)
    secret = new_client_secret() if spec.token_endpoint_auth_method in SECRET_METHODS else None
    values = {k: v for k, v in vars(spec).items() if k != "client_id"}
    client = Client(client_id=client_id, secret_hash=secret and hash_client_secret(secret),
                    response_types=["code"] if spec.redirect_uris else [], **values)
    db.session.add(client)
    db.session.flush()
    cache.changed()
    audit.record("client_created", actor_id=actor_id, client_id=client_id,
                 client_type=spec.client_type, **audit_fields)
    return client, secret


def register_client(spec: ClientSpec, actor_id: int | None = None,
                    ip: str | None = None) -> tuple[Client, str | None]:
    """Validate and store a client; return it with its secret (shown once, never stored).

    Public clients and ``private_key_jwt`` clients get no secret. ``spec.client_id`` may
    fix the id (demo data, imports).

    :raises DomainError: when the specification is invalid or the client id is taken.
    """
    with unit_of_work():
        client, secret = create_client(spec, actor_id, ip=ip)
    return client, secret


def get_client(client_id: str) -> Client:
    """Return the client or raise ``DomainError("client_not_found")``."""
    client = db.session.scalar(select(Client).where(Client.client_id == client_id))
    if client is None:
        raise DomainError("client_not_found", field="client_id")
    return client


def list_clients(search: str = "") -> list[Client]:
    """Return the clients whose id or name contains ``search`` (all when empty), by name."""
    query = select(Client).order_by(Client.name_fa, Client.id)
    search = search.strip()
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(or_(func.lower(Client.client_id).like(pattern),
                                func.lower(Client.name_fa).like(pattern),
                                func.lower(Client.name_en).like(pattern)))
    return list(db.session.scalars(query))


def spec_of(client: Client) -> ClientSpec:
    """Return the specification a stored client corresponds to (for editing)."""
    values = {name: getattr(client, name) for name in SPEC_FIELDS}
    values["redirect_uris"] = list(values["redirect_uris"] or [])
    values["post_logout_redirect_uris"] = list(values["post_logout_redirect_uris"] or [])
    values["grant_types"] = list(values["grant_types"] or [])
    return ClientSpec(client_id=client.client_id, **values)


def update_client(client_id: str, changes: dict, actor_id: int | None = None,
                  **audit_fields) -> tuple[Client, str | None]:
    """Change some metadata of a client; return it with a secret if one was just made.

    ``changes`` maps ``ClientSpec`` field names to new values. The type of a client is
    fixed at registration. Moving a confidential client to a secret-based method gives
    it a new secret (returned, shown once); moving it to ``private_key_jwt`` drops its
    secrets.

    :raises DomainError: when the client is unknown or the result is invalid.
    """
    with unit_of_work():
        client = get_client(client_id)
        spec = spec_of(client)
        unknown = set(changes) - set(SPEC_FIELDS)
        if unknown:
            raise ValueError(f"not client fields: {sorted(unknown)}")
        if changes.get("client_type", client.client_type) != client.client_type:
            raise DomainError("client_type_immutable", field="client_type")
        for name, value in changes.items():
            setattr(spec, name, value)
        spec = validate(spec)
        _check_resource_uri_free(spec.resource_uri, client_id)
        changed = sorted(name for name in SPEC_FIELDS
                         if getattr(spec, name) != getattr(client, name))
        for name in changed:
            setattr(client, name, getattr(spec, name))
        client.response_types = ["code"] if spec.redirect_uris else []
        secret = None
        if spec.token_endpoint_auth_method in SECRET_METHODS:
            if client.secret_hash is None:
                secret = new_client_secret()
                client.secret_hash = hash_client_secret(secret)
        else:
            _forget_secrets(client)
        cache.changed()
        audit.record("client_updated", actor_id=actor_id, client_id=client_id, fields=changed,
                     **audit_fields)
    return client, secret


def _check_resource_uri_free(resource_uri: str | None, client_id: str) -> None:
    if resource_uri and db.session.scalar(select(Client.id).where(
            Client.resource_uri == resource_uri, Client.client_id != client_id)):
        raise DomainError("resource_uri_taken", field="resource_uri")


def _forget_secrets(client: Client) -> None:
    client.secret_hash = None
    client.previous_secret_hash = None
    client.previous_secret_expires_at = None


def rotate_secret(client_id: str, actor_id: int | None = None, grace: int | None = None,
                  ip: str | None = None) -> tuple[Client, str]:
    """Give a client a new secret; return the client and the secret (shown once).

    The old secret keeps working for ``grace`` seconds (default
    ``CLIENT_SECRET_GRACE_PERIOD``; ``0`` ends it at once) so the portal can be
    redeployed without an outage. A secret still in its grace period from an earlier
    rotation is dropped.

    :raises DomainError: ``client_has_no_secret`` for public and ``private_key_jwt`` clients.
    """
    with unit_of_work():
        client = get_client(client_id)
        if client.token_endpoint_auth_method not in SECRET_METHODS:
            raise DomainError("client_has_no_secret", field="client_id")
        if grace is None:
            grace = settings.current().client_secret_grace_period
        if grace < 0:
            raise DomainError("grace_invalid", field="grace")
        secret = new_client_secret()
        if grace and client.secret_hash:
            client.previous_secret_hash = client.secret_hash
            client.previous_secret_expires_at = now() + timedelta(seconds=grace)
        else:
            client.previous_secret_hash = None
            client.previous_secret_expires_at = None
        client.secret_hash = hash_client_secret(secret)
        cache.changed()
        audit.record("client_secret_rotated", actor_id=actor_id, client_id=client_id, ip=ip,
                     grace=grace)
    return client, secret


def set_enabled(client_id: str, enabled: bool, actor_id: int | None = None,
                ip: str | None = None) -> Client:
    """Enable or disable a client.

    A disabled client is refused everywhere: authorization, token, introspection (its
    tokens are inactive) and userinfo all check ``enabled``, at once in this process and
    within ``CLIENT_CACHE_SECONDS`` in the others (``idp.clients.cache``). Its tokens are
    kept, so enabling it again restores the sessions that have not expired meanwhile.
    """
    with unit_of_work():
        client = get_client(client_id)
        if client.enabled != enabled:
            client.enabled = enabled
            cache.changed()
            audit.record("client_enabled" if enabled else "client_disabled",
                         actor_id=actor_id, client_id=client_id, ip=ip)
    return client


def delete_client(client_id: str, actor_id: int | None = None, **audit_fields) -> None:
    """Remove a client with its codes, tokens, consents and pending requests.

    The database cascades the delete (every table referring to ``clients.client_id``
    does so ``ON DELETE CASCADE``). Audit events keep the ``client_id``.
    """
    with unit_of_work():
        client = get_client(client_id)
        name = client.name_fa
        db.session.execute(delete(Client).where(Client.id == client.id))
        db.session.expire_all()
        cache.changed()
        audit.record("client_deleted", actor_id=actor_id, client_id=client_id, name=name,
                     **audit_fields)


def client_summary(client: Client) -> dict:
    """Return the stored metadata of a client as JSON-ready data (never a secret)."""
    names = ["client_id", "name_fa", "name_en", "client_type", "logo_uri", "redirect_uris",
             "post_logout_redirect_uris", "backchannel_logout_uri", "grant_types", "scope",
             "token_endpoint_auth_method", "jwks", "jwks_uri", "id_token_signed_response_alg",
             "first_party", "subject_type", "sector_identifier", "is_resource_server",
             "resource_uri", "access_token_ttl", "refresh_token_ttl", "enabled",
             "require_pushed_authorization_requests", "request_object_signing_alg",
             "dpop_bound_access_tokens", "introspection_signed_response_alg",
             "authorization_signed_response_alg", "profile", "default_acr_values",
             "minimum_acr"]
    data = {name: getattr(client, name) for name in names}
    data["jwks"] = public_jwks(data["jwks"])
    data["previous_secret_expires_at"] = (client.previous_secret_expires_at.isoformat()
                                          if client.previous_secret_expires_at else None)
    return data


@dataclass(frozen=True)
class LogoutDeliveries:
    """Back-channel logouts a client has not accepted yet (``pending``: still retried;
    ``abandoned``: given up after ``OIDC_BACKCHANNEL_MAX_ATTEMPTS``)."""

    pending: int
    abandoned: int
    last_error: str | None
    next_attempt_at: datetime | None


def logout_deliveries(client_id: str) -> LogoutDeliveries:
    """Summarise the undelivered back-channel logout jobs of a client (admin client page)."""
    limit = settings.current().oidc_backchannel_max_attempts
    jobs = list(db.session.scalars(select(BackchannelLogoutJob).where(
        BackchannelLogoutJob.client_id == client_id, BackchannelLogoutJob.delivered_at.is_(None))
        .order_by(BackchannelLogoutJob.id)))
    pending = [j for j in jobs if j.attempts < limit]
    errors = [j.last_error for j in jobs if j.last_error]  # by job id: the newest is last
    return LogoutDeliveries(
        pending=len(pending), abandoned=len(jobs) - len(pending),
        last_error=errors[-1] if errors else None,
        next_attempt_at=min((j.next_attempt_at for j in pending), default=None))
