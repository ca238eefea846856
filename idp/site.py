"""Site-wide files browsers ask for by a fixed path (``/favicon.ico``)."""

from __future__ import annotations

from flask import Blueprint, current_app

bp = Blueprint("site", __name__)


@bp.get("/favicon.ico")
def favicon():
    """The icon every browser requests with a first page (a 404 is a console error)."""
    return current_app.send_static_file("favicon.ico")


def init_app(app) -> None:
    app.register_blueprint(bp)
