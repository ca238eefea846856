"""The identity provider's application factory (the composition root)."""

from __future__ import annotations

import logging

from flask import Flask

from . import settings

__all__ = ["create_app"]


def create_app(config: dict | None = None, *, require_keys: bool = True) -> Flask:
    """Create and configure an IdP application.

    :param config: settings that override every other source (tests use this); a
        ``CLOCK`` entry replaces the system clock.
    :param require_keys: refuse production without signing keys. Only ``flask keys``
        passes ``False``: it is the command that creates them.
    :raises settings.SettingsError: when a setting is unknown, mistyped or, in
        production, unsafe.
    """
    config = dict(config or {})
    clock = config.pop("CLOCK", None)
    app = Flask(
        __name__,
        instance_path=settings.instance_path(config),
        template_folder=str(settings.PROJECT_ROOT / "templates"),
        static_folder=str(settings.PROJECT_ROOT / "static"),
    )
    cfg = settings.load(app, config)
    from . import logs

    logs.configure(cfg.log_level, cfg.log_format)
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
        mail,
        observability,
        oidc,
        registration,
        site,
        sms,
    )
    from .extensions import SystemClock, csrf, db, migrate
    from .oidc.documents import StaticDocuments
    from .security import captcha, headers, ratelimit

    app.extensions["idp.clock"] = clock or SystemClock()
    database.init_app(app)  # engine options first: db.init_app creates the engines
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            database.limit_statements(engine, cfg.db_statement_timeout)
    observability.init_app(app)  # first before_request hook: every request has its route
    migrate.init_app(app, db, directory=str(settings.PROJECT_ROOT / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    app.context_processor(lambda: {"brand": _brand(cfg)})
    headers.init_app(app)
    captcha.init_app(app)
    for package in (identity, sms, mail, accounts, registration, admin, oidc, health, site,
                    commands):
        package.init_app(app)
    ratelimit.init_app(app)  # after the blueprints: it wraps their views
    if cfg.proxy_fix_x_for:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = cfg.proxy_fix_x_for
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    observability.wrap(app)  # request id, per-route counts and latency
    # Outermost: discovery and the JWKS are answered before the telemetry wrapper, Flask
    # and ProxyFix run (they set their request id and count themselves).
    app.wsgi_app = StaticDocuments(app.wsgi_app, app)
    settings.check(cfg, keys_present=app.extensions["idp.keys"].has_keys(),
                   require_keys=require_keys)
    return app


def _brand(cfg: settings.Settings) -> dict:
    from .i18n import current_locale

    if current_locale() == "en":
        return {"organisation": cfg.brand_organisation_en, "system": cfg.brand_system_en,
                "footer": cfg.brand_footer_en, "logo_url": cfg.brand_logo_url}
    return {"organisation": cfg.brand_organisation, "system": cfg.brand_system,
            "footer": cfg.brand_footer, "logo_url": cfg.brand_logo_url}
