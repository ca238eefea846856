"""Citizen registration: the five-step wizard at ``/register`` (FLOWS.md "ثبت نام")."""

from __future__ import annotations


def init_app(app) -> None:
    from .views import bp

    app.register_blueprint(bp)
