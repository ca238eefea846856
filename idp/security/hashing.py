"""Hashes for secrets at rest: SHA-256 for high-entropy tokens, keyed HMAC otherwise."""

from __future__ import annotations

import hashlib
import hmac

from .. import settings


def sha256(value: str) -> str:
    """Hash a high-entropy bearer value (token, code, session id) for storage and lookup."""
    return hashlib.sha256(value.encode()).hexdigest()


def purpose_key(purpose: str) -> bytes:
    """Return the server key for ``purpose``: ``<PURPOSE>_SECRET``, or one derived from
    ``HASH_KEY`` (``SECRET_KEY`` outside production when that is empty).

    A key per purpose means a leak of one (say the OTP key) tells nothing about another.
    The derivation base is not ``SECRET_KEY`` in production, so the session key can be
    rotated without invalidating every stored client secret and pairwise subject.
    """
    cfg = settings.current()
    explicit = getattr(cfg, f"{purpose}_secret", "")
    if explicit:
        return explicit.encode()
    base = (cfg.hash_key or cfg.secret_key).encode()
    return hmac.new(base, f"idp:{purpose}".encode(), hashlib.sha256).digest()


def keyed_hash(value: str, purpose: str) -> str:
    """HMAC-SHA256 ``value`` under the key of ``purpose`` (client secrets, SMS codes)."""
    return hmac.new(purpose_key(purpose), value.encode(), hashlib.sha256).hexdigest()


def matches(value: str, stored: str | None, purpose: str) -> bool:
    """Compare ``value`` against a stored keyed hash in constant time."""
    return bool(stored) and hmac.compare_digest(keyed_hash(value, purpose), stored)
