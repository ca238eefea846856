"""Consent decisions: which client may read which scopes of a citizen.

A neutral service (no protocol library) so both the OpenID provider, which asks and
records, and the account page, which lists and revokes, can use it. One row per
user × client holds the union of the scopes granted so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from .. import audit
from ..extensions import db, now
from ..models import Client, Consent
from ..unit_of_work import unit_of_work
from .revocation import revoke_for_client


@dataclass(frozen=True)
class ConsentView:
    """A consent as the account page shows it."""

    client_id: str
    client_name: str
    client_logo_uri: str | None
    scopes: list[str]
    granted_at: datetime


def _live(user_id: int, client_id: str) -> Consent | None:
    return db.session.scalar(select(Consent).where(
        Consent.user_id == user_id, Consent.client_id == client_id))


def granted_scopes(user_id: int, client_id: str) -> set[str]:
    """Return the scopes the user has granted the client (empty when none or revoked)."""
    row = _live(user_id, client_id)
    if row is None or row.revoked_at is not None:
        return set()
    return set(row.scope.split())


def covers(user_id: int, client_id: str, scopes: set[str] | list[str]) -> bool:
    """Tell whether an earlier consent already covers every scope in ``scopes``."""
    return set(scopes) <= granted_scopes(user_id, client_id)


def grant(user_id: int, client_id: str, scopes: set[str] | list[str]) -> Consent:
    """Record that the user allowed the client ``scopes`` (added to any earlier grant).

    The caller commits; the audit row joins the same transaction.
    """
    row = _live(user_id, client_id)
    moment = now()
    if row is None:
        row = Consent(user_id=user_id, client_id=client_id, scope="", granted_at=moment)
        db.session.add(row)
        previous: set[str] = set()
    else:
        previous = set() if row.revoked_at is not None else set(row.scope.split())
    row.scope = " ".join(sorted(previous | set(scopes)))
    row.granted_at = moment
    row.revoked_at = None
    db.session.flush()
    audit.record("consent_granted", user_id=user_id, client_id=client_id, scope=row.scope)
    return row


def list_consents(user_id: int) -> list[ConsentView]:
    """Return the live consents of a user, newest first, with the client's display name."""
    rows = db.session.execute(
        select(Consent, Client).join(Client, Client.client_id == Consent.client_id)
        .where(Consent.user_id == user_id, Consent.revoked_at.is_(None))
        .order_by(Consent.granted_at.desc())
    ).all()
    return [ConsentView(client_id=c.client_id, client_name=cl.name_fa, client_logo_uri=cl.logo_uri,
                        scopes=c.scope.split(), granted_at=c.granted_at) for c, cl in rows]


def revoke(user_id: int, client_id: str, ip: str | None = None) -> bool:
    """Withdraw a user's consent to a client and end the user's grants to that client.

    Refresh and access tokens already issued stop working with their grants. The next
    sign-in at that client asks again. One unit of work. Returns whether there was a live
    consent.
    """
    with unit_of_work():
        changed = db.session.execute(
            update(Consent).where(Consent.user_id == user_id, Consent.client_id == client_id,
                                  Consent.revoked_at.is_(None)).values(revoked_at=now())
        ).rowcount
        revoke_for_client(client_id, user_id=user_id)
        if changed:
            audit.record("consent_revoked", user_id=user_id, client_id=client_id, ip=ip)
    return bool(changed)
