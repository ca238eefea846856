"""The OpenID Connect provider. Only this package imports Authlib/joserfc."""

from __future__ import annotations

from .. import settings
from ..extensions import now
from . import metadata
from .keys import KeyStore


def init_app(app) -> None:
    cfg = settings.of(app)
    store = KeyStore(cfg.keys_dir, cfg.keys_passphrase, cfg.keys_rotation_delay)
    if cfg.keys_auto_generate:
        with app.app_context():
            store.ensure(now())
    app.extensions["idp.keys"] = store
    app.extensions["idp.discovery"] = metadata.render(cfg)

    from ..accounts.session import session_ended
    from . import logout, openapi, registration, server
    from .outbound import HttpxPort
    from .views import bp

    app.extensions["idp.oidc_http"] = HttpxPort()
    app.extensions["idp.openapi"] = openapi.render(cfg)
    server.init_app(app)
    # Connected once per process (blinker keeps one entry per receiver); the sender is
    # the app whose sessions ended.
    session_ended.connect(logout.on_session_ended)
    app.register_blueprint(bp)
    registration.init_app(app)  # RFC 7591/7592 (idp.oidc.registration)
