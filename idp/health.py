"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from . import settings
from .extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is alive and serving requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The database answers and signing keys are loaded; 503 otherwise."""
    checks = {"database": _database_ok(), "keys": current_app.extensions["idp.keys"].has_keys()}
    if settings.current().redis_url:
        checks["redis"] = _redis_ok()
    ready = all(checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "not ready"
        current_app.logger.warning("readiness: database unreachable", exc_info=True)
        db.session.rollback()
        return False


def _redis_ok() -> bool:
    import redis

    try:
        client = redis.Redis.from_url(settings.current().redis_url, socket_timeout=1)
        return bool(client.ping())
    except redis.RedisError:
        current_app.logger.warning("readiness: redis unreachable")
        return False


def init_app(app) -> None:
    app.register_blueprint(bp)
