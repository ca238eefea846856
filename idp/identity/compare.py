"""Compare what a citizen typed with a civil-registry record (pure; one rule for everyone)."""

from __future__ import annotations

from datetime import date

from ..text import name_key, normalize_digits
from .ports import IdentityRecord

#: The comparable fields, in the order the registration form shows them.
FIELDS = ("first_name", "last_name", "father_name", "certificate_number", "birth_date",
          "gender")


def certificate_key(value: str | None) -> str:
    """Birth-certificate numbers compare as digits without leading zeros."""
    return normalize_digits(value).lstrip("0")


def compare_with_record(record: IdentityRecord, first_name: str, last_name: str,
                        father_name: str, certificate_number: str, birth_date: date,
                        gender: str) -> list[str]:
    """Return the names of the fields that do not match ``record`` (empty: all match).

    Names are compared by :func:`idp.text.name_key` (so spaces, ZWNJ and Arabic letter
    forms do not matter), the certificate number as digits without leading zeros, the
    birth date and gender exactly. The record's values are never part of the answer, so
    callers can tell a citizen *which* part to re-check without revealing the registry.
    """
    typed = {"first_name": name_key(first_name), "last_name": name_key(last_name),
             "father_name": name_key(father_name),
             "certificate_number": certificate_key(certificate_number),
             "birth_date": birth_date, "gender": gender}
    known = {"first_name": name_key(record.first_name), "last_name": name_key(record.last_name),
             "father_name": name_key(record.father_name),
             "certificate_number": certificate_key(record.certificate_number),
             "birth_date": record.birth_date, "gender": record.gender}
    return [name for name in FIELDS if not typed[name] or typed[name] != known[name]]
