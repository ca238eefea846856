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

# endpoint → (setting holding the limit, methods it applies to)
LIMITED_ENDPOINTS = {
    "accounts.login": ("RATELIMIT_LOGIN", ["POST"]),
    "accounts.expired_password": ("RATELIMIT_LOGIN", ["POST"]),
    "accounts.recover": ("RATELIMIT_SMS", ["POST"]),
    "accounts.recover_resend": ("RATELIMIT_SMS", ["POST"]),
    "accounts.recover_code": ("RATELIMIT_LOGIN", ["POST"]),
    "accounts.change_mobile": ("RATELIMIT_SMS", ["POST"]),
    "accounts.resend_mobile_code": ("RATELIMIT_SMS", ["POST"]),
    "registration.start": ("RATELIMIT_REGISTRATION", ["POST"]),
    "registration.step": ("RATELIMIT_REGISTRATION", ["POST"]),
    "admin.verify": ("RATELIMIT_LOGIN", ["POST"]),
    "oidc.token": ("RATELIMIT_TOKEN", ["POST"]),
    "oidc.introspect": ("RATELIMIT_TOKEN", ["POST"]),
    "oidc.revoke": ("RATELIMIT_TOKEN", ["POST"]),
    "dcr.register": ("RATELIMIT_REGISTRATION", ["POST"]),
}


def init_app(app) -> None:
    """Attach the limits to the registered views; call after every blueprint is registered."""
    limiter = Limiter(get_remote_address, app=app, strategy="fixed-window",
                      headers_enabled=True, key_prefix="idp")
    for endpoint, (setting, methods) in LIMITED_ENDPOINTS.items():
        view = app.view_functions.get(endpoint)
        if view is not None:
            limit = app.config[setting]
            app.view_functions[endpoint] = limiter.limit(lambda limit=limit: limit,
                                                         methods=methods)(view)
    app.extensions["idp.limiter"] = limiter
