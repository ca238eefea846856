"""Password hashing with argon2id (argon2-cffi); parameters come from settings.

Defaults follow OWASP's argon2id profile (m = 19 MiB, t = 2, p = 1). Hashes made with
other parameters verify and are upgraded on the next successful sign-in (``needs_rehash``).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def make_hasher(config) -> PasswordHasher:
    return PasswordHasher(
        time_cost=config["PASSWORD_ARGON2_TIME_COST"],
        memory_cost=config["PASSWORD_ARGON2_MEMORY_COST"],
        parallelism=config["PASSWORD_ARGON2_PARALLELISM"],
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
