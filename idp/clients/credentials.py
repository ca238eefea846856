"""Client secrets: generated here, stored as a keyed hash, checked with a rotation grace.

A secret has 256 random bits, so a keyed SHA-256 is enough to store it (a slow hash
would only burn CPU on machine traffic); it is shown once and never stored in clear.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from ..extensions import now
from ..security.hashing import keyed_hash, matches


def hash_client_secret(secret: str) -> str:
    """Return the keyed hash stored for ``secret``."""
    return keyed_hash(secret, "client_secret")


def new_client_secret() -> str:
    """Return a fresh client secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def secret_matches(client, secret: str, at: datetime | None = None) -> bool:
    """Tell whether ``secret`` authenticates ``client`` (a ``Client`` row or a snapshot).

    The current secret always does; the secret it replaced (``previous_secret_hash``)
    does too until ``previous_secret_expires_at``, so a portal keeps working while its
    operators deploy a rotated secret. Comparisons are constant-time.
    """
    if matches(secret, client.secret_hash, "client_secret"):
        return True
    expires = client.previous_secret_expires_at
    return bool(expires and expires > (at or now())
                and matches(secret, client.previous_secret_hash, "client_secret"))
