"""Dynamic client registration (RFC 7591/7592) behind admin-issued initial access tokens.

An admin issues an initial access token (single use or a few uses, with an expiry) to a
ministry's automation; with it, the automation registers a client and receives a
registration access token for reading, changing and deleting that client later. Only
SHA-256 hashes of both tokens are stored. The protocol side (JSON in and out) lives in
``idp.oidc.registration``; the rules are the same ``validate`` the admin pages use.
Dynamically registered clients are never first-party and never resource servers: only
an admin grants those.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from .. import audit, settings
from ..errors import DomainError
from ..extensions import db, now
from ..models import Client, InitialAccessToken
from ..security.hashing import sha256
from ..unit_of_work import failure_record, transactional
from . import service
from .rules import validate
from .spec import SPEC_FIELDS, ClientSpec

MAX_USES = 1000
TTL_RANGE = (3600, 365 * 86400)  # one hour to one year


def enabled() -> bool:
    return bool(settings.current().dcr_enabled)


@transactional
def issue_initial_token(label: str, ttl: int | None = None, max_uses: int = 1,
                        actor_id: int | None = None,
                        ip: str | None = None) -> tuple[InitialAccessToken, str]:
    """Issue an initial access token; return its row and the token (shown once).

    :param ttl: lifetime in seconds (default ``DCR_TOKEN_TTL``).
    :raises DomainError: ``required``, ``iat_ttl_invalid`` or ``max_uses_invalid``.
    """
    ttl = settings.current().dcr_token_ttl if ttl is None else ttl
    if not (label or "").strip():
        raise DomainError("required", field="label")
    if not TTL_RANGE[0] <= ttl <= TTL_RANGE[1]:
        raise DomainError("iat_ttl_invalid", field="ttl_hours")
    if not 1 <= max_uses <= MAX_USES:
        raise DomainError("max_uses_invalid", field="max_uses")
    raw = secrets.token_urlsafe(32)
    moment = now()
    row = InitialAccessToken(token_hash=sha256(raw), label=label.strip(), created_by=actor_id,
                             max_uses=max_uses, uses=0, created_at=moment,
                             expires_at=moment + timedelta(seconds=ttl))
    db.session.add(row)
    db.session.flush()
    audit.record("dcr_token_issued", actor_id=actor_id, ip=ip, initial_token_id=row.id,
                 max_uses=max_uses, ttl=ttl)
    return row, raw


def list_initial_tokens() -> list[InitialAccessToken]:
    return list(db.session.scalars(select(InitialAccessToken)
                                   .order_by(InitialAccessToken.created_at.desc())))


@transactional
def revoke_initial_token(token_id: int, actor_id: int | None = None,
                         ip: str | None = None) -> InitialAccessToken:
    row = db.session.get(InitialAccessToken, token_id)
    if row is None:
        raise DomainError("iat_not_found")
    if row.revoked_at is None:
        row.revoked_at = now()
        audit.record("dcr_token_revoked", actor_id=actor_id, ip=ip, initial_token_id=row.id)
    return row


def _usable():
    return (InitialAccessToken.revoked_at.is_(None), InitialAccessToken.expires_at > now(),
            InitialAccessToken.uses < InitialAccessToken.max_uses)


def _find_usable(raw: str | None) -> InitialAccessToken:
    row = raw and db.session.scalar(select(InitialAccessToken).where(
        InitialAccessToken.token_hash == sha256(raw), *_usable()))
    if not row:
        raise DomainError("iat_invalid")
    return row


@transactional
def register(spec: ClientSpec, initial_token: str | None,
             ip: str | None = None) -> tuple[Client, str | None, str]:
    """Register a client for the holder of a usable initial access token.

    Returns the client, its secret (or ``None``) and its registration access token;
    both are shown once. The token's use is counted by a conditional UPDATE, so a
    single-use token registers one client even when two requests race.

    :raises DomainError: ``iat_invalid`` (missing, unknown, expired, revoked or used up),
        or a metadata rule naming its field.
    """
    token = _find_usable(initial_token)
    spec.first_party = False
    spec.is_resource_server = False
    spec.resource_uri = None
    spec.minimum_acr = None  # set by an operator only
    spec.client_id = None
    validate(spec)
    claimed = db.session.execute(
        update(InitialAccessToken).where(InitialAccessToken.id == token.id, *_usable())
        .values(uses=InitialAccessToken.uses + 1).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise DomainError("iat_invalid")  # a parallel request took the last use
    client, secret = service.create_client(spec, ip=ip, via="dcr", initial_token_id=token.id)
    registration_token = new_registration_token(client)
    return client, secret, registration_token


@transactional
def new_registration_token(client: Client) -> str:
    """Give ``client`` a new registration access token (the old one stops working).

    Only its hash is kept, so every answer that must carry the token (RFC 7592 §3)
    rotates it, which RFC 7592 §4 allows to limit its exposure.
    """
    registration_token = secrets.token_urlsafe(32)
    client.registration_token_hash = sha256(registration_token)
    return registration_token


def refuse(reason: str, ip: str | None = None, client_id: str | None = None) -> None:
    """Record a refused registration or management call (bad or missing token).

    The record survives the refusal: whatever the refused call wrote is dropped first.
    """
    with failure_record():
        audit.record("dcr_refused", ip=ip, client_id=client_id, reason=reason)


def authorize(client_id: str, registration_token: str | None) -> Client:
    """Return the client a registration access token manages (RFC 7592 §3).

    :raises DomainError: ``registration_token_invalid``.
    """
    client = db.session.scalar(select(Client).where(Client.client_id == client_id))
    if (client is None or not registration_token or not client.registration_token_hash
            or not hmac.compare_digest(client.registration_token_hash,
                                       sha256(registration_token))):
        raise DomainError("registration_token_invalid")
    return client


def replace(client_id: str, registration_token: str | None, spec: ClientSpec,
            ip: str | None = None) -> tuple[Client, str | None]:
    """Replace a registered client's metadata (RFC 7592 §2.2: omitted fields are reset).

    :raises DomainError: ``registration_token_invalid`` or a metadata rule.
    """
    client = authorize(client_id, registration_token)
    changes = {name: getattr(spec, name) for name in SPEC_FIELDS}
    changes["first_party"] = client.first_party
    changes["is_resource_server"] = client.is_resource_server
    changes["resource_uri"] = client.resource_uri
    changes["minimum_acr"] = client.minimum_acr
    return service.update_client(client_id, changes, ip=ip, via="dcr")


def remove(client_id: str, registration_token: str | None, ip: str | None = None) -> None:
    """Delete a registered client with its tokens and consents (RFC 7592 §2.3)."""
    authorize(client_id, registration_token)
    service.delete_client(client_id, ip=ip, via="dcr")


def token_state(row: InitialAccessToken) -> str:
    """``active``, ``expired``, ``used`` or ``revoked`` (for the admin list)."""
    if row.revoked_at:
        return "revoked"
    if row.uses >= row.max_uses:
        return "used"
    return "expired" if row.expires_at <= now() else "active"

