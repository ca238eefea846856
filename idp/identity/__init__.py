"""Identity: national/FIDA codes, Jalali dates and the civil-registry/mobile-ownership ports.

``IDENTITY_BACKEND`` chooses the adapter: ``local`` (the registry table) or ``http``.
"""

from __future__ import annotations

from flask import current_app

from .. import settings
from .compare import compare_with_record
from .ports import IdentityRecord, IdentityRegistry, Result, Status

__all__ = ["IdentityRecord", "IdentityRegistry", "Result", "Status", "compare_with_record",
           "init_app", "registry"]


def registry() -> IdentityRegistry:
    """Return the app's identity adapter (``app.extensions["idp.identity"]``)."""
    return current_app.extensions["idp.identity"]


def init_app(app) -> None:
    backend = settings.of(app).identity_backend
    if backend == "local":
        from .local import LocalIdentityRegistry

        app.extensions["idp.identity"] = LocalIdentityRegistry()
    elif backend == "http":
        from .http import HttpIdentityRegistry

        app.extensions["idp.identity"] = HttpIdentityRegistry.from_config(app.config)
    else:
        raise ValueError(f"IDENTITY_BACKEND must be 'local' or 'http', not {backend!r}")
