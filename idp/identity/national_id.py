"""National code (کد ملی) and FIDA code checks (DOMAIN.md §1–2). Pure functions."""

from __future__ import annotations

import re

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
