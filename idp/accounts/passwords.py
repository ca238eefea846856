"""Password hashing with argon2id (argon2-cffi); parameters come from settings.

Defaults follow OWASP's argon2id profile (m = 19 MiB, t = 2, p = 1). Hashes made with
other parameters verify and are upgraded on the next successful sign-in (``needs_rehash``).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from ..settings import Settings

MIN_LENGTH = 8
MAX_LENGTH = 64
_ALLOWED = re.compile(r"[A-Za-z0-9]*", re.ASCII)
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


def make_hasher(cfg: Settings) -> PasswordHasher:
    """Return an argon2id hasher with the ``PASSWORD_ARGON2_*`` parameters of ``cfg``."""
    return PasswordHasher(
        time_cost=cfg.password_argon2_time_cost,
        memory_cost=cfg.password_argon2_memory_cost,
        parallelism=cfg.password_argon2_parallelism,
    )


def _hasher() -> PasswordHasher:
    return current_app.extensions["idp.password_hasher"]


def _dummy_hash() -> str:
    """A hash made once per app with the current parameters, for unknown accounts."""
    extensions = current_app.extensions
    if "idp.dummy_password_hash" not in extensions:
        extensions["idp.dummy_password_hash"] = _hasher().hash("dummy password for timing")
    return extensions["idp.dummy_password_hash"]


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password`` (never transformed or normalised)."""
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check ``password`` against ``stored_hash``.

    With no hash (unknown account) a dummy hash is verified instead, so the answer takes
    the same time whether or not the account exists.
    """
    hasher = _hasher()
    if not stored_hash:
        stored_hash = _dummy_hash()
        password = password + "\0"  # never matches the dummy's password
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Tell whether ``stored_hash`` was made with other parameters than the current ones."""
    return _hasher().check_needs_rehash(stored_hash)


@cache
def common_passwords() -> frozenset[str]:
    """Return the shipped list of very common passwords (lowercase), read once."""
    with _COMMON_FILE.open(encoding="ascii") as f:
        return frozenset(line.strip() for line in f if line.strip() and not line.startswith("#"))


def check_password_rules(password: str, id_code: str, current_hash: str | None = None
                         ) -> list[str]:
    """Return the codes of every password rule that ``password`` breaks (empty when fine).

    The six rules of the user guide (docs/FLOWS.md, "Password rules"): only Latin letters
    and digits, at least eight characters, a capital letter, a small letter, a digit, and
    not containing the national/FIDA code ``id_code``. Added here: at most 64 characters,
    not one of the very common passwords (case-insensitive), and, when ``current_hash`` is
    given, not the current password. Each code has its own Persian message in
    ``idp.messages``.

    The password is never transformed: Persian digits are refused, not folded.
    """
    errors = []
    if not _ALLOWED.fullmatch(password):
        errors.append("password_charset")
    if len(password) < MIN_LENGTH:
        errors.append("password_too_short")
    if len(password) > MAX_LENGTH:
        errors.append("password_too_long")
    if not re.search(r"[A-Z]", password):
        errors.append("password_no_upper")
    if not re.search(r"[a-z]", password):
        errors.append("password_no_lower")
    if not re.search(r"[0-9]", password):
        errors.append("password_no_digit")
    if id_code and id_code in password:
        errors.append("password_contains_id_code")
    if password.lower() in common_passwords():
        errors.append("password_too_common")
    if not errors and current_hash and verify_password(current_hash, password):
        errors.append("password_same_as_current")
    return errors
