"""Frozen records of what was granted and issued, as the hot paths read them.

The token, UserInfo and introspection endpoints read these on every request. Each record
is a slotted frozen dataclass filled from one SQLAlchemy Core row of exactly its columns
(``columns`` builds the select list, ``take`` cuts a record out of a row), never an ORM
entity: a Core select costs about a third of an ORM load, and nothing here can be
changed and flushed by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy import Column, Table


@dataclass(frozen=True, slots=True)
class GrantUser:
    """The citizen a grant was made to: the status checked on every use, and the claims."""

    id: int
    subject: str
    status: str
    id_type: str
    id_code: str
    mobile: str
    email: str | None
    email_verified_at: datetime | None  # the email_verified claim
    first_name: str
    last_name: str
    father_name: str
    birth_date: date
    gender: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class Grant:
    """A token family: everything issued from one code or one client-credentials call."""

    id: int
    client_id: str
    user_id: int | None
    scope: str
    claims: dict | None
    resources: list | None
    auth_time: datetime | None
    acr: str | None
    amr: list
    sid: str | None
    revoked_at: datetime | None
    dpop_jkt: str | None  # RFC 9449: the DPoP key the grant was issued to


@dataclass(frozen=True, slots=True)
class Code:
    """An authorization code, found by its hash."""

    id: int
    client_id: str
    user_id: int
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    claims: dict | None
    resources: list | None
    auth_time: datetime
    acr: str | None
    amr: list
    sid: str | None
    expires_at: datetime
    used_at: datetime | None
    dpop_jkt: str | None  # RFC 9449 §10: the key the exchange must prove


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    """A refresh token (by hash): when it expires, and whether it was exchanged."""

    id: int
    family_id: int
    expires_at: datetime
    rotated_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """An access token (by ``jti``): the grant it belongs to and whether it was revoked."""

    jti: str
    family_id: int
    expires_at: datetime
    revoked_at: datetime | None


def columns(table: Table, record: type) -> list[Column]:
    """Return the columns of ``table`` named like the fields of ``record``, in order."""
    return [table.c[f.name] for f in fields(record)]


def take(record: type, row, start: int = 0):
    """Build ``record`` from ``row[start:]``; ``None`` when an outer join found nothing."""
    values = row[start:start + len(record.__slots__)]
    return None if values[0] is None else record(*values)
