"""Database engine set-up: the server connection pool and the SQLite pragmas.

SQLite (the embedded default) runs in WAL mode with ``synchronous=NORMAL``: a commit is
durable once it is in the write-ahead log, which survives a crash of any process; only
a power loss or kernel crash can lose the last commits before a checkpoint (the file
itself stays consistent). ``FULL`` would fsync on every commit, 13–20% of a token
request's CPU.

A PostgreSQL statement running over ``DB_STATEMENT_TIMEOUT`` seconds is cancelled by the
server (``SET statement_timeout`` on each new connection, so it also holds behind
PgBouncer's session mode), so a stuck query cannot hold a worker thread for ever.

PostgreSQL connections are not pinged on checkout (``DB_POOL_PRE_PING`` off): that is a
round trip on every request. They are recycled after ``DB_POOL_RECYCLE`` seconds, before
a firewall or the server drops them idle; a connection killed anyway (server restart,
failover) fails one request, and SQLAlchemy, seeing the disconnect error, discards every
pooled connection so the next requests connect afresh.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter, ValidationError

from . import settings


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # per connection; see the module doc
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def engine_options(cfg: settings.Settings) -> dict:
    """Return the SQLAlchemy engine options the ``DB_*`` settings ask for."""
    return {"pool_size": cfg.db_pool_size, "max_overflow": cfg.db_max_overflow,
            "pool_recycle": cfg.db_pool_recycle, "pool_pre_ping": cfg.db_pool_pre_ping}


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in a URL: a row id, so at most a signed 64-bit integer. A longer number
    is no route (404) instead of an overflow in SQLite or PostgreSQL (a 500)."""

    MAX = 2**63 - 1

    def to_python(self, value: str) -> int:
        if len(value) > len(str(self.MAX)) or int(value) > self.MAX:
            raise ValidationError()
        return super().to_python(value)


def init_app(app) -> None:
    """Set the pool options of a database server; make sure the instance folder exists;
    bound the ``int`` URL converter to row ids (before any route is added).

    Call before Flask-SQLAlchemy's ``init_app``, which creates the engines. SQLite keeps
    SQLAlchemy's own pool choice (a file needs no recycling; ``:memory:`` has no queue).
    """
    cfg = app.config
    if not cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {**cfg.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
                                            **engine_options(settings.of(app))}
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.url_map.converters["int"] = RowIdConverter


def limit_statements(engine, seconds: float) -> None:
    """Have PostgreSQL cancel any statement of ``engine`` running over ``seconds``
    (``DB_STATEMENT_TIMEOUT``), set once per new connection; 0 leaves no limit."""
    if seconds <= 0 or engine.dialect.name != "postgresql":
        return
    milliseconds = max(int(seconds * 1000), 1)

    @event.listens_for(engine, "connect")
    def _statement_timeout(dbapi_connection, _record) -> None:
        # Outside any transaction, so that the pool's reset (a rollback) keeps it.
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {milliseconds}")
        dbapi_connection.autocommit = False
