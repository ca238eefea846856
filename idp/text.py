"""Pure text helpers: digit folding, masking of personal numbers, Persian digits."""

from __future__ import annotations

import re

_TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

# A mobile (09XXXXXXXXX or +989XXXXXXXXX) or a 10/12-digit national/FIDA code, standing alone.
_MOBILE = re.compile(r"(?<!\d)(\+98|0)(9\d{2})\d{3}(\d{4})(?!\d)", re.ASCII)
_CODE = re.compile(r"(?<!\d)(\d{3})\d{5,7}(\d{2})(?!\d)", re.ASCII)


def to_ascii_digits(value: str) -> str:
    """Return ``value`` with Persian and Arabic-Indic digits folded to ASCII."""
    return value.translate(_TO_ASCII)


def fa_digits(value: object) -> str:
    """Return ``value`` as text with ASCII digits shown as Persian digits (a template filter)."""
    return str(value).translate(_TO_PERSIAN)


def mask_mobile(mobile: str) -> str:
    """``09121234567`` → ``0912***4567``."""
    return _MOBILE.sub(lambda m: f"{m[1]}{m[2]}***{m[3]}", mobile)


def mask_personal_numbers(text: str) -> str:
    """Mask every mobile number and national/FIDA code inside ``text`` (for logs)."""
    text = mask_mobile(text)
    return _CODE.sub(lambda m: f"{m[1]}{'*' * (len(m[0]) - 5)}{m[2]}", text)
