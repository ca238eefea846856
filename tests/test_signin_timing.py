"""Sign-in does the same database work whether or not the typed code has an account
(issue 9, finding 8): a never-seen code must not cost an extra insert and commit."""

from __future__ import annotations

import re

from flask import current_app

from .factories import make_user, national_code
from .statement_budget import commits, statements


def shape(seen: list[str]) -> list[str]:
    """The kind of each statement: a read, a write (an upsert is one), a savepoint, …"""
    kinds = {"INSERT": "write", "UPDATE": "write", "DELETE": "write", "SELECT": "read"}
    return [kinds.get(re.match(r"\w+", s)[0].upper(), s) for s in seen]


def failed_sign_in(app, id_code: str) -> tuple[list[str], list[str]]:
    browser = app.test_client()
    with current_app.app_context(), statements() as seen, commits() as committed:
        response = browser.post("/login", data={"id_code": id_code, "password": "Wrong12345"})
    assert response.status_code == 200
    return seen, committed


def test_unknown_and_known_codes_cost_the_same_statements(app, configure):
    """The first wrong password of an existing account and the first attempt with a code
    never seen send the same kinds of statements and commit once each; so do the
    failures that reach the lockout."""
    configure(LOGIN_MAX_FAILURES=2)
    failed_sign_in(app, make_user().id_code)  # warm: pool, caches
    failed_sign_in(app, national_code())

    user = make_user()
    unknown = national_code()
    known_seen, known_commits = failed_sign_in(app, user.id_code)
    unknown_seen, unknown_commits = failed_sign_in(app, unknown)
    listing = "\n".join(["known:", *known_seen, "unknown:", *unknown_seen])
    assert shape(known_seen) == shape(unknown_seen), listing
    assert len(known_commits) == len(unknown_commits) == 1

    known_seen, _ = failed_sign_in(app, user.id_code)  # reaches the limit: locks
    unknown_seen, _ = failed_sign_in(app, unknown)
    listing = "\n".join(["known:", *known_seen, "unknown:", *unknown_seen])
    assert shape(known_seen) == shape(unknown_seen), listing
