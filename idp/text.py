"""Pure text helpers: digit folding, input normalisation, masking of personal numbers,
Persian digits."""

from __future__ import annotations

import re
import unicodedata

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


# --- input normalisation (DOMAIN.md §6) -------------------------------------------------------
# Invisible characters people paste from contacts and chat apps: zero-width space/joiner,
# LRM/RLM, the bidi embeddings/overrides/isolates and the BOM. ZWNJ (U+200C) is kept in names.
_INVISIBLE = "\u200b\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_DROP_INVISIBLE = {ord(c): None for c in _INVISIBLE}
_ZWNJ = "\u200c"
# Arabic letters typed on Arabic keyboards → their Persian forms; tatweel and harakat dropped.
_ARABIC_TO_PERSIAN = {ord("\u064a"): "\u06cc", ord("\u0649"): "\u06cc", ord("\u0643"): "\u06a9",
                      ord("\u0640"): None, ord("\u0670"): None,
                      **{c: None for c in range(0x064B, 0x0660)}}
_NAME_TABLE = {**_DROP_INVISIBLE, **_ARABIC_TO_PERSIAN, ord("\u00a0"): " "}
_SPACES = re.compile(r"\s+")
_ZWNJ_RUN = re.compile(_ZWNJ + "+")
_ZWNJ_EDGE = re.compile(rf"(^|\s){_ZWNJ}|{_ZWNJ}(?=\s|$)")
_MOBILE_NOISE = re.compile(r"[\s\-().]")
_CANONICAL_MOBILE = re.compile(r"09[0-9]{9}", re.ASCII)


def normalize_digits(value: str | None) -> str:
    """Return an identifier, code, mobile or date as typed, made comparable.

    Persian and Arabic-Indic digits become ASCII, invisible and bidi marks (and ZWNJ) are
    removed, and every whitespace character is dropped, so ``"۰۰۱ ۲۳۴‎۵۶۷۹"`` becomes
    ``"0012345679"``. Nothing is validated: check the result with ``[0-9]`` patterns
    (``re.ASCII``), never with ``str.isdigit`` which accepts Persian digits.
    """
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).translate(_TO_ASCII)
    text = text.translate(_DROP_INVISIBLE).replace(_ZWNJ, "")
    return _SPACES.sub("", text)


def normalize_name(value: str | None) -> str:
    """Return a Persian name (or other free text) in the form we store and show.

    NFKC first (Arabic presentation forms), then ي/ى → ی and ك → ک, tatweel and harakat
    removed, invisible characters removed, NBSP and runs of whitespace collapsed to one
    space, ZWNJ kept inside words but collapsed and dropped at word edges, ends trimmed.
    """
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).translate(_NAME_TABLE)
    text = _SPACES.sub(" ", text.translate(_TO_ASCII))
    text = _ZWNJ_RUN.sub(_ZWNJ, text)
    text = _ZWNJ_EDGE.sub(lambda m: m[1] or "", text)
    return _SPACES.sub(" ", text).strip()


def name_key(value: str | None) -> str:
    """Return the key two names are compared by: normalised, without spaces or ZWNJ.

    ``"محمد حسین"``, ``"محمد‌حسین"`` and ``"محمدحسين"`` share one key. Latin letters
    (names of foreign nationals) are case-folded.
    """
    return normalize_name(value).replace(_ZWNJ, "").replace(" ", "").casefold()


def normalize_mobile(value: str | None) -> str | None:
    """Return the canonical ``09XXXXXXXXX`` form of an Iranian mobile number, or ``None``.

    Digits are folded; spaces, ``-``, ``()``, dots and bidi marks removed; then a leading
    ``+98``, ``0098`` or (when 12 digits remain) ``98`` is stripped and a leading ``0`` is
    added to a 10-digit number starting with ``9``. The common ``+98 0912…`` mistake is
    accepted. The operator prefix is never checked (numbers are portable).
    """
    text = _MOBILE_NOISE.sub("", normalize_digits(value))
    if text.startswith("+98"):
        text = text[3:]
    elif text.startswith("0098"):
        text = text[4:]
    elif text.startswith("98") and len(text) == 12:
        text = text[2:]
    if len(text) == 10 and text.startswith("9"):
        text = "0" + text
    return text if _CANONICAL_MOBILE.fullmatch(text) else None


def mobile_e164(mobile: str) -> str:
    """``09121234567`` → ``+989121234567`` (the form in the ``phone_number`` claim)."""
    canonical = normalize_mobile(mobile)
    if canonical is None:
        raise ValueError("not an Iranian mobile number")
    return "+98" + canonical[1:]


def normalize_email(value: str | None) -> str:
    """Return an email address trimmed, invisible marks removed, with a lower-cased domain.

    The local part is kept as given (it may be case-sensitive). Nothing is validated:
    see :func:`is_valid_email`.
    """
    text = unicodedata.normalize("NFKC", str(value or "")).translate(_DROP_INVISIBLE)
    text = text.replace(_ZWNJ, "").strip()
    local, at, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}" if at else text


_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}", re.ASCII)


def is_valid_email(value: str) -> bool:
    """Tell whether ``value`` is a plain ASCII ``local@domain.tld`` address (≤ 254 chars)."""
    return len(value) <= 254 and bool(_EMAIL.fullmatch(value))


def mask_email(email: str) -> str:
    """``citizen@example.ir`` → ``c***@example.ir``: enough for a log line, not an address."""
    local, _, domain = (email or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
