"""Identity: national/FIDA codes, Jalali dates and the civil-registry/mobile-ownership ports.

``IDENTITY_BACKEND`` chooses the adapter: ``local`` (the registry table) or ``http``.
"""

from __future__ import annotations

from flask import current_app

from .. import metrics, settings
from .compare import compare_with_record
from .ports import IdentityRecord, IdentityRegistry, Result, Status

__all__ = ["IdentityRecord", "IdentityRegistry", "Result", "Status", "compare_with_record",
           "init_app", "registry"]


def registry() -> IdentityRegistry:
    """Return the app's identity adapter (``app.extensions["idp.identity"]``)."""
    return current_app.extensions["idp.identity"]


class MeasuredRegistry:
    """The configured adapter, with each call's latency and failures counted
    (``idp_adapter_*{adapter="registry"|"mobile_ownership"}``)."""

    def __init__(self, adapter: IdentityRegistry):
        self.adapter = adapter

    def verify_mobile_owner(self, id_type: str, id_code: str, mobile: str) -> Result:
        return self._measured("mobile_ownership", self.adapter.verify_mobile_owner,
                              id_type, id_code, mobile)

    def lookup_identity(self, id_type: str, id_code: str, birth_date) -> Result:
        return self._measured("registry", self.adapter.lookup_identity,
                              id_type, id_code, birth_date)

    @staticmethod
    def _measured(adapter: str, call, *args) -> Result:
        with metrics.adapter_call(adapter, call.__name__):
            result = call(*args)
        if result.status is Status.UNAVAILABLE:
            metrics.adapter_failures.labels(adapter, call.__name__).inc()
        return result


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
    if settings.of(app).metrics_enabled:
        app.extensions["idp.identity"] = MeasuredRegistry(app.extensions["idp.identity"])
