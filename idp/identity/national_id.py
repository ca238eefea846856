"""National code (کد ملی) and FIDA code checks (DOMAIN.md §1–2). Pure functions."""

from __future__ import annotations

import re

from ..errors import DomainError
from ..text import normalize_digits

_TEN = re.compile(r"[0-9]{10}", re.ASCII)
_TWELVE = re.compile(r"[0-9]{12}", re.ASCII)


def check_digit(first_nine: str) -> int:
    """Return the check digit for the first nine digits of a national code."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(first_nine))
    r = total % 11
    return r if r < 2 else 11 - r


def is_valid_national_code(code: str) -> bool:
    """Tell whether ``code`` (ASCII digits) is a well-formed national code.

    Ten digits, right check digit, not all the same digit (those pass the checksum)
    and not a zero serial (digits 4–9 ``000000``).
    """
    if not _TEN.fullmatch(code) or len(set(code)) == 1 or code[3:9] == "000000":
        return False
    return check_digit(code[:9]) == int(code[9])


def is_valid_fida_code(code: str) -> bool:
    """Tell whether ``code`` is a FIDA code: 12 digits (no public check digit exists)."""
    return bool(_TWELVE.fullmatch(code)) and len(set(code)) > 1


ID_TYPES = ("national", "fida")


def parse_id_code(value: str | None, id_type: str) -> str:
    """Normalise a typed national or FIDA code and return it as ASCII digits.

    Persian/Arabic-Indic digits, spaces, dashes and invisible marks are accepted
    (:func:`idp.text.normalize_digits`); the result must then be well-formed.

    :param id_type: ``"national"`` (10 digits with check digit) or ``"fida"`` (12 digits).
    :raises DomainError: ``national_code_length`` (not ten digits),
        ``national_code_check_digit`` (the tenth digit does not follow from the nine
        others), ``national_code_invalid`` (repeated digits, zero serial) or
        ``fida_code_invalid`` (field ``id_code``); ``required`` when nothing was typed.
    :raises ValueError: for an unknown ``id_type`` (a programming error).
    """
    if id_type not in ID_TYPES:
        raise ValueError(f"unknown id_type {id_type!r}")
    code = normalize_digits(value).replace("-", "")
    if not code:
        raise DomainError("required", field="id_code")
    if id_type == "national" and not is_valid_national_code(code):
        if not _TEN.fullmatch(code):
            raise DomainError("national_code_length", field="id_code")
        if len(set(code)) > 1 and code[3:9] != "000000":  # well-formed but for its check digit
            raise DomainError("national_code_check_digit", field="id_code")
        raise DomainError("national_code_invalid", field="id_code")
    if id_type == "fida" and not is_valid_fida_code(code):
        raise DomainError("fida_code_invalid", field="id_code")
    return code
