"""Citizen registration: the five-step wizard at ``/register`` (docs/FLOWS.md, "Registration")."""

from __future__ import annotations


def init_app(app) -> None:
    from .views import bp

    app.register_blueprint(bp)
