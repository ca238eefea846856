"""The identity provider's application factory (the composition root)."""

from __future__ import annotations

import logging

from flask import Flask

from . import settings

__all__ = ["create_app"]


def create_app(config: dict | None = None) -> Flask:
    """Create and configure an IdP application.

    :param config: settings that override every other source (tests use this); a
        ``CLOCK`` entry replaces the system clock.
    :raises settings.SettingsError: when production settings are unsafe.
    """
    config = dict(config or {})
    clock = config.pop("CLOCK", None)
    app = Flask(
        __name__,
        instance_path=settings.instance_path(config),
        template_folder=str(settings.PROJECT_ROOT / "templates"),
        static_folder=str(settings.PROJECT_ROOT / "static"),
    )
    settings.load(app, config)
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # start-up noise

    from . import (
        accounts,
        admin,
        commands,
        database,
        errors,
        health,
        i18n,
        identity,
        oidc,
        registration,
        sms,
    )
    from .extensions import SystemClock, csrf, db, migrate
    from .oidc.documents import StaticDocuments
    from .security import headers, ratelimit

    app.extensions["idp.clock"] = clock or SystemClock()
    database.init_app(app)  # engine options first: db.init_app creates the engines
    db.init_app(app)
    migrate.init_app(app, db, directory=str(settings.PROJECT_ROOT / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    app.context_processor(lambda: {"brand": _brand(app.config)})
    headers.init_app(app)
    for package in (identity, sms, accounts, registration, admin, oidc, health, commands):
        package.init_app(app)
    ratelimit.init_app(app)  # after the blueprints: it wraps their views
    if app.config["PROXY_FIX_X_FOR"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX_X_FOR"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    # Outermost: discovery and the JWKS are answered before Flask (and ProxyFix) run.
    app.wsgi_app = StaticDocuments(app.wsgi_app, app)
    settings.check(app, keys_present=app.extensions["idp.keys"].has_keys())
    return app


def _brand(cfg) -> dict:
    from .i18n import current_locale

    suffix = "_EN" if current_locale() == "en" else ""
    return {"organisation": cfg[f"BRAND_ORGANISATION{suffix}"],
            "system": cfg[f"BRAND_SYSTEM{suffix}"], "footer": cfg[f"BRAND_FOOTER{suffix}"],
            "logo_url": cfg["BRAND_LOGO_URL"]}
