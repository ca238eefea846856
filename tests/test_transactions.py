"""One transaction per use case (issue 13 §4): what a failing use case keeps and undoes.

The request and the test share one session, so every check here reads through a
connection of its own: only what was committed counts.
"""

from __future__ import annotations

from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, User

from .factories import make_user
from .test_login import login


def committed(statement) -> list[tuple]:
    """Rows of ``statement`` as another connection sees them."""
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(statement)]


def committed_events() -> list[str]:
    return [event for (event,) in committed(select(AuditEvent.event).order_by(AuditEvent.id))]


def test_the_lockout_is_committed_although_the_sign_in_fails(client, app):
    """The wrong password that reaches the limit locks the account: the counter, the lock
    and their audit rows outlive the rollback of the sign-in that raised."""
    app.config.update(LOGIN_MAX_FAILURES=2, LOGIN_LOCKOUT_SECONDS=600)
    user = make_user()
    login(client, user.id_code, "Wrong1234")
    assert committed(select(User.failed_logins).where(User.id == user.id)) == [(1,)]
    login(client, user.id_code, "Wrong1234")
    [(failures, locked_until)] = committed(
        select(User.failed_logins, User.locked_until).where(User.id == user.id))
    assert failures == 0 and locked_until is not None
    assert committed_events() == ["login_failed", "login_failed", "login_lockout"]
