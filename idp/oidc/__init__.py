"""The OpenID Connect provider. Only this package imports Authlib/joserfc."""

from __future__ import annotations

from ..extensions import csrf, now
from . import metadata
from .keys import KeyStore


def init_app(app) -> None:
    cfg = app.config
    store = KeyStore(cfg["KEYS_DIR"], cfg["KEYS_PASSPHRASE"], cfg["KEYS_ROTATION_DELAY"])
    if cfg["KEYS_AUTO_GENERATE"]:
        with app.app_context():
            store.ensure(now())
    app.extensions["idp.keys"] = store
    app.extensions["idp.discovery"] = metadata.render(cfg)

    from .views import bp

    csrf.exempt(bp)
    app.register_blueprint(bp)
