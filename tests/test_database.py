"""Engine set-up: SQLite pragmas, the PostgreSQL pool from settings, recovery after a kill."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from idp.database import engine_options
from idp.extensions import db
from idp.settings import Settings

from .conftest import TEST_DATABASE_URL

sqlite_only = pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite run only")
postgres_only = pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")


@sqlite_only
def test_sqlite_runs_wal_with_synchronous_normal(app):
    """WAL, synchronous=NORMAL (1), foreign keys on and a 5 s busy timeout per connection."""
    pragma = {name: db.session.execute(sa.text(f"PRAGMA {name}")).scalar()
              for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")}
    assert pragma == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1,
                      "busy_timeout": 5000}


def test_engine_options_follow_the_db_settings():
    config = Settings(db_pool_size=8, db_max_overflow=0, db_pool_recycle=600,
                      db_pool_pre_ping=True)
    assert engine_options(config) == {"pool_size": 8, "max_overflow": 0, "pool_recycle": 600,
                                      "pool_pre_ping": True}


@postgres_only
def test_postgres_pool_is_sized_by_settings(make_app):
    app = make_app(DB_POOL_SIZE=3, DB_MAX_OVERFLOW=1)
    with app.app_context():
        assert db.engine.pool.size() == 3
        assert db.engine.pool._max_overflow == 1


@postgres_only
def test_connection_killed_by_the_server_fails_one_request(app, client):
    """Without a pre-ping, a killed connection costs one failed request, then the pool heals."""
    assert client.get("/readyz").status_code == 200
    pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    db.session.commit()  # the connection goes back to the pool
    killer = sa.create_engine(TEST_DATABASE_URL)
    with killer.begin() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    killer.dispose()
    failed = client.get("/readyz")
    assert failed.status_code == 503 and failed.json["checks"]["database"] is False
    assert client.get("/readyz").status_code == 200


@postgres_only
def test_statement_timeout_cancels_a_long_statement(make_app):
    """DB_STATEMENT_TIMEOUT is set on each connection; a longer statement is cancelled."""
    app = make_app(DB_STATEMENT_TIMEOUT=0.2)
    with app.app_context():
        assert db.session.execute(sa.text("SHOW statement_timeout")).scalar() == "200ms"
        with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
            db.session.execute(sa.text("SELECT pg_sleep(3)"))
        db.session.rollback()
        assert db.session.execute(sa.text("SELECT 1")).scalar() == 1
        db.session.remove()
