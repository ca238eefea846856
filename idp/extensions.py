"""Unbound extensions and accessors for the per-app services kept in ``app.extensions``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from flask import current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from .models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()


class Clock(Protocol):
    """The time source; a port so tests can move time instead of sleeping."""

    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def clock() -> Clock:
    """Return the app's clock (``app.extensions["idp.clock"]``)."""
    return current_app.extensions["idp.clock"]


def now() -> datetime:
    """Return the current aware UTC time from the app's clock."""
    return clock().now()
