"""Database engine set-up: SQLite pragmas (WAL, foreign keys) for the embedded default."""

from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def init_app(app) -> None:
    """Make sure the instance folder (home of the SQLite file) exists."""
    from pathlib import Path

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
