"""Per-client-IP rate limits on the endpoints that guess, send SMS or cost money.

Flask-Limiter with a fixed window; counters live in Redis (``REDIS_URL``) so every app
instance shares them, or in process memory for a single development server. The limits
are settings (``RATELIMIT_*``), generous enough for carrier-grade NAT, where many
citizens share one address; the per-account lockout and the per-mobile SMS caps are the
finer-grained defences behind them.
"""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from .. import settings

# endpoint → (Settings field holding the limit, methods it applies to)
LIMITED_ENDPOINTS = {
    "accounts.login": ("ratelimit_login", ["POST"]),
    "accounts.expired_password": ("ratelimit_login", ["POST"]),
    "accounts.recover": ("ratelimit_sms", ["POST"]),
    "accounts.recover_resend": ("ratelimit_sms", ["POST"]),
    "accounts.recover_code": ("ratelimit_login", ["POST"]),
    "accounts.change_mobile": ("ratelimit_sms", ["POST"]),
    "accounts.resend_mobile_code": ("ratelimit_sms", ["POST"]),
    "registration.start": ("ratelimit_registration", ["POST"]),
    "registration.step": ("ratelimit_registration", ["POST"]),
    "admin.verify": ("ratelimit_login", ["POST"]),
    "oidc.token": ("ratelimit_token", ["POST"]),
    "oidc.introspect": ("ratelimit_token", ["POST"]),
    "oidc.revoke": ("ratelimit_token", ["POST"]),
    "dcr.register": ("ratelimit_registration", ["POST"]),
}


def init_app(app) -> None:
    """Attach the limits to the registered views; call after every blueprint is registered."""
    limiter = Limiter(get_remote_address, app=app, strategy="fixed-window",
                      headers_enabled=True, key_prefix="idp")
    cfg = settings.of(app)
    for endpoint, (name, methods) in LIMITED_ENDPOINTS.items():
        view = app.view_functions.get(endpoint)
        if view is not None:
            limit = getattr(cfg, name)
            app.view_functions[endpoint] = limiter.limit(lambda limit=limit: limit,
                                                         methods=methods)(view)
    app.extensions["idp.limiter"] = limiter
