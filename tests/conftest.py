"""Fixtures: an app per test on a real database, migrated once per session.

SQLite (default): the schema is migrated once into a template file that each test copies.
PostgreSQL (``TEST_DATABASE_URL``): the schema is migrated once into a schema private to
this test process; each test ends by truncating every table.

Besides ``client`` and ``runner``, two fixtures drive the app as a user would: ``oidc``
(a relying party and its citizen's browser) and ``auth`` (the sign-in form and the
administrators' TOTP). Rows are made by the plain functions in ``factories.py``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
from flask import request
from flask_migrate import upgrade
from joserfc import jwt
from joserfc.jwk import KeySet

from idp import create_app, settings
from idp.accounts.session import login_user
from idp.extensions import db, now
from idp.oidc.keys import KeyStore
from idp.security import totp

from .factories import (
    DEFAULT_PASSWORD,
    RECOVERY_CODE_RE,
    TOTP_SECRET_RE,
    auth_params,
    make_admin,
    query_of,
)

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
        "CAPTCHA_ENABLED": False,  # on in the CAPTCHA tests only
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
    from idp import mail
    from idp.oidc.logout import wait_for_deliveries

    wait_for_deliveries(app)
    mail.wait_for_deliveries(app)


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
def configure(app):
    """Change settings of the running test app, as if it had been started with them."""

    def change(**changes):
        app.extensions["idp.settings"] = dataclasses.replace(
            settings.of(app), **{name.lower(): value for name, value in changes.items()})
        app.config.update(changes)

    return change


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


class OIDCActions:
    """Drive the provider as a relying party and its citizen's browser would.

    Every action runs in the test's ``client`` unless ``browser`` names another test
    client (a second browser, or the client of another app).
    """

    def __init__(self, client):
        self.client = client

    def _browser(self, browser):
        return self.client if browser is None else browser

    def sign_in(self, user, amr=("pwd",), browser=None):
        """Start an SSO session for ``user`` and give its cookie to the browser."""
        browser = self._browser(browser)
        app = browser.application
        with app.test_request_context("/login", method="POST"):
            row = login_user(user, amr=list(amr))
            raw = request.environ["idp.sso"]["cookie"]
        browser.set_cookie(app.config["SSO_COOKIE_NAME"], raw, domain="localhost")
        return row

    def authorize(self, params: dict, browser=None):
        """Send the authorization request ``params`` (from ``auth_params``)."""
        return self._browser(browser).get(
            "/authorize", query_string={k: v for k, v in params.items()
                                        if not k.startswith("_") and v is not None})

    def get_code(self, client, browser=None, **extra) -> tuple[str, dict]:
        """Run the authorization request (already signed in, consent given); return the
        code and the request's parameters."""
        params = auth_params(client, **extra)
        response = self.authorize(params, browser=browser)
        assert response.status_code == 302, response.get_data(as_text=True)
        answer = query_of(response)
        assert "code" in answer, answer
        return answer["code"], params

    def exchange(self, client, secret, code, params, browser=None, **extra):
        """Redeem ``code`` at the token endpoint; a ``None`` secret sends ``client_id``."""
        data = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": params["redirect_uri"], "code_verifier": params["_verifier"],
                "client_id": None if secret else client.client_id}
        data.update(extra)
        return self._browser(browser).post(
            "/oauth/token", data={k: v for k, v in data.items() if v is not None},
            auth=(client.client_id, secret) if secret else None)

    def tokens_for(self, client, secret, user, browser=None, **extra) -> dict:
        """Sign in, authorize and exchange: return the token response body."""
        self.sign_in(user, browser=browser)
        code, params = self.get_code(client, browser=browser, **extra)
        response = self.exchange(client, secret, code, params, browser=browser)
        assert response.status_code == 200, response.json
        return response.json

    def decode(self, token: str, browser=None):
        """Verify a token against the published JWKS (as a relying party would)."""
        keys = KeySet.import_key_set(self._browser(browser).get("/jwks.json").json)
        return jwt.decode(token, keys)


class AuthActions:
    """Sign in through the real form, and enrol and use an administrator's TOTP."""

    def __init__(self, client, clock):
        self.client = client
        self.clock = clock

    def sign_in(self, user, password: str = DEFAULT_PASSWORD, browser=None) -> None:
        """Sign in through the real /login form."""
        browser = self.client if browser is None else browser
        response = browser.post("/login", data={"id_code": user.id_code, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)

    def enrol(self, user, browser=None) -> tuple[str, list[str]]:
        """Enrol TOTP through the pages; return the secret and the recovery codes shown."""
        browser = self.client if browser is None else browser
        page = browser.get("/admin/enrol").get_data(as_text=True)
        secret = TOTP_SECRET_RE.search(page)[1]
        code = pyotp.TOTP(secret).at(now())
        page = browser.post("/admin/enrol", data={"code": code}).get_data(as_text=True)
        codes = RECOVERY_CODE_RE.findall(page)
        assert codes, page
        return secret, codes

    def code_for(self, user, offset_steps: int = 0) -> str:
        """Return the TOTP code the admin's phone shows now (from the stored secret)."""
        db.session.refresh(user)
        secret = totp._secret_of(user)
        return pyotp.TOTP(secret).at(now(), counter_offset=offset_steps)

    def admin_session(self, browser=None, **overrides):
        """Return a signed-in admin who has enrolled TOTP in this browser session."""
        user = make_admin(**overrides)
        self.sign_in(user, browser=browser)
        self.enrol(user, browser=browser)
        self.clock.advance(30)  # the next TOTP code is a fresh one
        return user


@pytest.fixture
def oidc(client):
    return OIDCActions(client)


@pytest.fixture
def auth(client, clock):
    return AuthActions(client, clock)
