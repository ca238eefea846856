"""Fixtures: an app per test on a real database, migrated once per session.

SQLite (default): the schema is migrated once into a template file that each test copies.
PostgreSQL (``TEST_DATABASE_URL``): the schema is migrated once into a schema private to
this test process; each test ends by truncating every table.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from idp import create_app
from idp.extensions import db
from idp.oidc.keys import KeyStore

IN_CI = os.environ.get("CI") == "true"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SECRET = "test-secret-key-that-is-long-enough-0123456789"


def require_service(name: str, reason: str):
    """Skip a test whose service is missing; in CI a missing service is a failure."""
    if IN_CI:
        pytest.fail(f"{name} is required in CI: {reason}")
    pytest.skip(f"{name} unavailable: {reason}")


class FrozenClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, start: datetime | None = None):
        self.current = start or datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


def postgres_schema_url(base_url: str, schema: str) -> str:
    return f"{base_url}?options=-csearch_path%3D{schema}"


def create_pg_schema(base_url: str) -> str:
    """Create a fresh schema in the PostgreSQL database; return its name."""
    schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(base_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as e:
        require_service("PostgreSQL", str(e).splitlines()[0])
    finally:
        engine.dispose()
    return schema


def drop_pg_schema(base_url: str, schema: str) -> None:
    engine = sa.create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def base_config(tmp_path, keys_dir, database_url: str) -> dict:
    return {
        "ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "ISSUER": "http://localhost",
        "DATABASE_URL": database_url,
        "KEYS_DIR": str(keys_dir),
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": "localhost",
        # Cheap argon2 parameters keep the suite fast; production uses the OWASP profile.
        "PASSWORD_ARGON2_TIME_COST": 1,
        "PASSWORD_ARGON2_MEMORY_COST": 1024,
    }


def finish_background_work(app) -> None:
    """Join the app's back-channel logout threads before its pool is closed.

    A thread still holding a connection when the engine is disposed would leave that
    connection to the garbage collector (a ResourceWarning, an error under our filters).
    """
    from idp.oidc.logout import wait_for_deliveries

    wait_for_deliveries(app)


@pytest.fixture(scope="session")
def session_keys(tmp_path_factory):
    """RS256 and ES256 keys generated once for the whole run."""
    directory = tmp_path_factory.mktemp("keys")
    KeyStore(directory).ensure(datetime(2026, 1, 1, tzinfo=UTC))
    return directory


@pytest.fixture(scope="session")
def database_template(tmp_path_factory, session_keys):
    """Migrate an empty database once; yield how each test gets its own copy."""
    root = tmp_path_factory.mktemp("db")
    if TEST_DATABASE_URL:
        schema = create_pg_schema(TEST_DATABASE_URL)
        url = postgres_schema_url(TEST_DATABASE_URL, schema)
    else:
        url = f"sqlite:///{root / 'template.sqlite3'}"
    app = create_app(base_config(root, session_keys, url))
    with app.app_context():
        upgrade()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        db.engine.dispose()
    yield {"url": url, "template": root / "template.sqlite3", "tables": tables}
    if TEST_DATABASE_URL:
        drop_pg_schema(TEST_DATABASE_URL, schema)


@pytest.fixture
def clock():
    return FrozenClock()


@pytest.fixture
def app_config(tmp_path, session_keys, database_template, clock):
    """The mapping given to ``create_app``; override entries in a test module's fixture."""
    keys_dir = tmp_path / "keys"
    shutil.copytree(session_keys, keys_dir)
    if TEST_DATABASE_URL:
        url = database_template["url"]
    else:
        path = tmp_path / "idp.sqlite3"
        shutil.copyfile(database_template["template"], path)
        url = f"sqlite:///{path}"
    return {**base_config(tmp_path, keys_dir, url), "CLOCK": clock}


@pytest.fixture
def app(app_config, database_template):
    app = create_app(app_config)
    with app.app_context():
        yield app
        finish_background_work(app)
        db.session.remove()
        if TEST_DATABASE_URL:
            names = ", ".join(f'"{t}"' for t in database_template["tables"])
            with db.engine.begin() as conn:
                conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def make_app(app_config):
    """Build extra apps from ``app_config`` plus overrides; their pools are closed afterwards."""
    made = []

    def factory(**overrides):
        extra = create_app({**app_config, **overrides})
        made.append(extra)
        return extra

    yield factory
    for extra in made:
        finish_background_work(extra)
        with extra.app_context():
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def redis_url():
    """A reachable Redis (database 15), flushed before the test."""
    import redis

    try:
        connection = redis.Redis.from_url(REDIS_URL, socket_timeout=1)
        connection.flushdb()
    except redis.RedisError as e:
        require_service("Redis", str(e))
    return REDIS_URL
