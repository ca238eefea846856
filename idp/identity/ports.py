"""The identity ports: civil registry (ثبت احوال) and mobile ownership (Shahkar).

Both answer with a :class:`Result`. ``UNAVAILABLE`` (timeout, 5xx, refused credentials,
quota) is never a match and never a mismatch: callers say "try again later" and keep
what the citizen typed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import Protocol


class Status(enum.StrEnum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    INVALID_INPUT = "INVALID_INPUT"
    DECEASED = "DECEASED"
    UNAVAILABLE = "UNAVAILABLE"


@dataclass(frozen=True)
class IdentityRecord:
    """What the civil registry knows about a person (Gregorian birth date)."""

    id_type: str
    id_code: str
    first_name: str
    last_name: str
    father_name: str
    certificate_number: str
    birth_date: date
    gender: str  # "male" | "female"
    is_deceased: bool = False


@dataclass(frozen=True)
class Result:
    """An adapter's answer; ``record`` is set only for a ``MATCH`` of a lookup."""

    status: Status
    record: IdentityRecord | None = None
    detail: str = ""  # for logs only (never shown, never personal data)

    @property
    def ok(self) -> bool:
        return self.status is Status.MATCH


class IdentityRegistry(Protocol):
    """Civil registry and mobile ownership, as one adapter (both come from one provider)."""

    def verify_mobile_owner(self, id_type: str, id_code: str, mobile: str) -> Result:
        """Tell whether ``mobile`` (canonical ``09…``) is registered to the person."""

    def lookup_identity(self, id_type: str, id_code: str, birth_date: date) -> Result:
        """Return the person's record when code and birth date belong together."""
