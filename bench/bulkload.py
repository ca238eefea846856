"""Bulk rows for the bench: citizens cloned from one CLI-made account, and token history.

Citizens are copies of an account that ``flask users create`` made, so every column
(including the argon2id hash at the configured parameters) is what the app itself
writes; only the national code, subject and mobile differ. All copies share the
template's password. PostgreSQL rows go in with COPY; SQLite with ``executemany``.
"""

from __future__ import annotations

import os
import random
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta

import psycopg

from idp.identity.national_id import check_digit

_CHUNK = 20_000


def connect(database_url: str):
    """Open a DB-API connection to an IdP database URL (SQLite or PostgreSQL)."""
    if database_url.startswith("sqlite:///"):
        return sqlite3.connect(database_url.removeprefix("sqlite:///"))
    return psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://", 1))


def national_codes(count: int, avoid: str) -> list[str]:
    """Return ``count`` distinct, valid national codes (never ``avoid``).

    Three-digit prefixes from 800 on with a non-zero six-digit serial, so the zero-serial
    and all-same-digit codes the sign-in form refuses never occur.
    """
    codes = []
    i = 0
    while len(codes) < count:
        body = f"{800 + i // 999_999:03d}{i % 999_999 + 1:06d}"
        code = body + str(check_digit(body))
        if code != avoid:
            codes.append(code)
        i += 1
    return codes


def clone_users(conn, template_id: int, codes: list[str]) -> None:
    """Insert one account per code, copied from the account ``template_id``."""
    postgres = not isinstance(conn, sqlite3.Connection)
    mark = "%s" if postgres else "?"
    cur = conn.cursor()
    # Column names come from the table itself, never from input.
    cur.execute(f"SELECT * FROM users WHERE id = {mark}", (template_id,))  # noqa: S608
    names = [d[0] for d in cur.description]
    template = dict(zip(names, cur.fetchone(), strict=True))
    columns = [n for n in names if n != "id"]

    def rows():
        for i, code in enumerate(codes):
            row = {**template, "id_code": code, "subject": secrets.token_urlsafe(24),
                   "mobile": f"0912{i % 10_000_000:07d}", "email": None}
            yield tuple(row[c] for c in columns)

    column_list = ", ".join(columns)
    if postgres:
        with cur.copy(f"COPY users ({column_list}) FROM STDIN") as copy:
            for row in rows():
                copy.write_row(row)
    else:
        cur.executemany(f"INSERT INTO users ({column_list}) VALUES "  # noqa: S608
                        f"({', '.join('?' * len(columns))})", rows())
    conn.commit()


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f+00")


def _copy_lines(cur, statement: str, lines) -> None:
    with cur.copy(statement) as copy:
        chunk = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= _CHUNK:
                copy.write("".join(chunk))
                chunk.clear()
        if chunk:
            copy.write("".join(chunk))


def load_token_history(conn, client_id: str, scope: str, families: int, tokens: int,
                       seed: int = 0) -> None:
    """COPY a month of token history into PostgreSQL: ``families`` grants (one per
    citizen in turn), half of ``tokens`` refresh tokens and half access tokens.

    Refresh tokens form rotation chains (all but the newest of a family rotated);
    access tokens live an hour, so nearly all have expired, as in a running system.
    """
    rng = random.Random(seed)
    now = datetime.now(UTC)
    month = 30 * 86400
    cur = conn.cursor()
    user_ids = [r[0] for r in cur.execute("SELECT id FROM users ORDER BY id")]
    first = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM token_families").fetchone()[0]

    def family_lines():
        for f in range(families):
            made = _ts(now - timedelta(seconds=rng.randrange(month)))
            yield (f"{first + f}\t{client_id}\t{user_ids[f % len(user_ids)]}\t{scope}\t"
                   f'["pwd"]\t{made}\t{made}\n')

    _copy_lines(cur, "COPY token_families (id, client_id, user_id, scope, amr, auth_time, "
                     "created_at) FROM STDIN", family_lines())
    cur.execute("SELECT setval(pg_get_serial_sequence('token_families', 'id'), %s)",
                (first + families - 1,))
    refresh = tokens // 2

    def refresh_lines():
        per_family, extra = divmod(refresh, families)
        for k in range(refresh):
            f, generation = k % families, k // families
            chain = per_family + (1 if f < extra else 0)
            made = now - timedelta(seconds=rng.randrange(month))
            rotated = _ts(made + timedelta(seconds=rng.randrange(1, 3600))) \
                if generation < chain - 1 else "\\N"
            yield (f"{first + f}\t{os.urandom(32).hex()}\t{_ts(made + timedelta(days=30))}\t"
                   f"{rotated}\t{_ts(made)}\n")

    _copy_lines(cur, "COPY refresh_tokens (family_id, token_hash, expires_at, rotated_at, "
                     "created_at) FROM STDIN", refresh_lines())

    def access_lines():
        for k in range(tokens - refresh):
            made = now - timedelta(seconds=rng.randrange(month))
            yield (f"{secrets.token_hex(16)}\t{first + k % families}\t"
                   f"{_ts(made + timedelta(hours=1))}\t\\N\t{_ts(made)}\n")

    _copy_lines(cur, "COPY access_tokens (jti, family_id, expires_at, revoked_at, created_at) "
                     "FROM STDIN", access_lines())
    conn.commit()


def analyze(conn) -> None:
    """Refresh the planner's statistics after a bulk load (PostgreSQL)."""
    conn.commit()
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE")
    conn.autocommit = False
