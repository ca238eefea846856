"""A fresh IdP for one bench run: instance folder, keys, scratch database, portal, citizens.

Everything is made through the ``flask`` CLI in the production settings the server will
run with, except the bulk of the citizens (and, in the data-size mode, the token
history), which :mod:`bulkload` copies in.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import bulkload
import psycopg
from signin import Portal

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG = Path(__file__).resolve().with_name("idp.toml")
BIN_DIR = Path(sys.executable).parent  # the venv's bin: flask, granian
PASSWORD = "Bench1403Citizen"  # every bench citizen's password
PORTAL_ID = "bench-portal"
REDIRECT_URI = "https://portal.bench.test/callback"
SCOPE = "openid profile offline_access"
# Environment the caller may have set that must not leak into the IdP under test.
_FOREIGN = ("DATABASE_URL", "REDIS_URL", "FLASK_APP")


class SetupError(RuntimeError):
    """A ``flask`` command of the set-up failed; the message carries its stderr."""


class Instance:
    """The files and database of one IdP under test; ``drop()`` removes the database."""

    def __init__(self, db: str, folder: Path, pg_url: str, pg_database: str):
        self.db, self.folder = db, folder
        self.secrets = {"IDP_SECRET_KEY": secrets.token_hex(32),
                        "IDP_HASH_KEY": secrets.token_hex(32)}
        if db == "sqlite":
            self.database_url = f"sqlite:///{folder / 'instance' / 'idp.sqlite3'}"
            self.pg_database = None
        else:
            self.pg_base = pg_url.rstrip("/")
            self.pg_database = pg_database
            self.database_url = f"{self.pg_base}/{pg_database}"
        self.portal: Portal | None = None
        self.codes: list[str] = []

    def env(self, **settings) -> dict:
        """Return the environment of the IdP (CLI or server), with ``IDP_<name>`` settings."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("IDP_") and k not in _FOREIGN}
        env["PATH"] = f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}"
        env.update(IDP_ENV="production", IDP_CONFIG=str(CONFIG),
                   IDP_INSTANCE_PATH=str(self.folder / "instance"),
                   IDP_KEYS_DIR=str(self.folder / "keys"), DATABASE_URL=self.database_url,
                   **self.secrets)
        for name, value in settings.items():
            env[f"IDP_{name}"] = json.dumps(value) if isinstance(value, bool) else str(value)
        return env

    def flask(self, *args: str, stdin: str | None = None, **settings) -> str:
        """Run ``flask --app idp ARGS`` and return its standard output."""
        done = subprocess.run([str(BIN_DIR / "flask"), "--app", "idp", *args],  # noqa: S603
                              cwd=PROJECT_ROOT,
                              env=self.env(**settings), input=stdin, capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            raise SetupError(f"flask {' '.join(args)} failed:\n{done.stderr.strip()}")
        return done.stdout

    def create(self, users: int, token_rows: int = 0) -> None:
        """Make the database, keys, the portal and ``users`` citizens (plus token history)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.pg_database:
            self._pg_admin(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)',
                           f'CREATE DATABASE "{self.pg_database}"')
        self.flask("keys", "rotate", "--delay", "0")
        self.flask("db", "upgrade")
        created = json.loads(self.flask(
            "clients", "create", "--name", "بنچ", "--name-en", "bench", "--client-id", PORTAL_ID,
            "--type", "confidential", "--redirect-uri", REDIRECT_URI,
            "--grant-type", "authorization_code", "--grant-type", "refresh_token",
            "--grant-type", "client_credentials", "--scope", SCOPE, "--first-party",
            # An hour, so the access-token pools outlive a whole run.
            "--access-token-ttl", "3600", "--json"))
        self.portal = Portal(created["client_id"], created["client_secret"], REDIRECT_URI, SCOPE)
        template = self._template_citizen()
        self.codes = [template["id_code"], *bulkload.national_codes(users - 1,
                                                                     template["id_code"])]
        conn = bulkload.connect(self.database_url)
        try:
            bulkload.clone_users(conn, template["user_id"], self.codes[1:])
            if token_rows:
                bulkload.load_token_history(conn, PORTAL_ID, SCOPE, families=users,
                                            tokens=token_rows)
            if self.pg_database:
                bulkload.analyze(conn)
        finally:
            conn.close()

    def _template_citizen(self) -> dict:
        """Create one account the way an operator does; return its ``users create`` JSON.

        ``users create`` checks the registry record through the identity adapter, so
        this one command runs with the local registry (development settings) on the
        same database, keys and secrets.
        """
        self.flask("registry", "seed", "--count", "1", "--seed", "1403")
        out = self.flask("users", "create", "--from-registry", "--password-stdin", "--json",
                         stdin=PASSWORD + "\n", ENV="development", IDENTITY_BACKEND="local",
                         SMS_BACKEND="outbox")
        return json.loads(out)

    def row_counts(self) -> dict[str, int]:
        """Return the row counts of the tables the scenarios read."""
        conn = bulkload.connect(self.database_url)
        try:
            return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                    for table in ("users", "token_families", "refresh_tokens", "access_tokens")}
        finally:
            conn.close()

    def drop(self) -> None:
        """Drop the scratch PostgreSQL database (SQLite goes with the temporary folder)."""
        if self.pg_database:
            self._pg_admin(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')

    def _pg_admin(self, *statements: str) -> None:
        url = self.pg_base.replace("postgresql+psycopg://", "postgresql://", 1) + "/postgres"
        with psycopg.connect(url, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)
