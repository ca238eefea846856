"""Citizen accounts: sign-in, the SSO session, registration, recovery and the account page."""

from __future__ import annotations

from .. import settings
from . import notices, passwords, session


def init_app(app) -> None:
    app.extensions["idp.password_hasher"] = passwords.make_hasher(settings.of(app))
    session.init_app(app)
    notices.init_app(app)

    from . import (  # noqa: F401  (routes on the same blueprint)
        account_views,
        captcha_views,
        email_views,
        factor_views,
        passkey_views,
        recovery_views,
    )
    from .views import bp

    app.register_blueprint(bp)
