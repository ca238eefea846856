"""Sign-in as ordered steps on a server-side pending-authentication record."""

from __future__ import annotations

from sqlalchemy import select

from idp.accounts import passwords, steps
from idp.accounts.steps import new_password, password, second_factor
from idp.accounts.steps.context import Context
from idp.admin import support
from idp.extensions import db
from idp.messages import message
from idp.models import PendingAuthentication, SsoSession, User
from idp.security.hashing import sha256
from tests.factories import DEFAULT_PASSWORD, make_admin, make_user

NEW = "Yazd1401Windcatcher"


def login(client, user, **query):
    return client.post("/login", query_string=query,
                       data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})


def choose(client, new=NEW):
    return client.post("/login/new-password", data={"new_password": new, "confirm": new})


def records() -> list[PendingAuthentication]:
    return list(db.session.scalars(select(PendingAuthentication)))


def sessions() -> list[SsoSession]:
    return list(db.session.scalars(select(SsoSession)))


def live_admin_sessions() -> list[SsoSession]:
    return [row for row in sessions() if row.ended_at is None and row.is_admin]


def browser_state(app, client) -> dict:
    """The content of Flask's signed session cookie of ``client``."""
    raw = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    return app.session_interface.get_signing_serializer(app).loads(raw)


def test_steps_come_in_order(app):
    """The password comes first; the new-password step follows only when the account needs it."""
    user = make_user(must_change_password=True)
    ctx = Context(next_url=None, home="/account")
    assert steps.pending_step(ctx) is password
    ctx.user = user
    ctx.add(password)
    assert steps.pending_step(ctx) is new_password
    ctx.add(new_password)
    assert steps.pending_step(ctx) is None
    assert ctx.amr == ["pwd"]

    plain = Context(next_url=None, home="/account", user=make_user())
    plain.add(password)
    assert steps.pending_step(plain) is None


def test_a_password_sign_in_stores_nothing(client):
    """Without a further step the session starts at once and no record is kept."""
    user = make_user()
    assert login(client, user).headers["Location"] == "/account"
    assert records() == []
    assert [row.amr for row in sessions()] == [["pwd"]]


def test_the_browser_holds_only_a_random_key(app, client):
    """The record is server-side; the cookie carries a key whose hash finds it, nothing else."""
    user = make_user(must_change_password=True)
    login(client, user, next="/authorize?x=1")
    [record] = records()
    assert record.user_id == user.id and record.steps_done == ["password"]
    assert record.amr == ["pwd"] and record.next_url == "/authorize?x=1"
    state = browser_state(app, client)
    key = state["idp.signin"]["value"]
    assert record.key_hash == sha256(key) and len(key) >= 43
    assert state == {"idp.signin": {"value": key, "at": state["idp.signin"]["at"]}}


def test_the_session_carries_the_merged_amr_and_the_record_is_consumed(client):
    """Completing the last step starts the session with the steps' amr and deletes the record."""
    user = make_user(must_change_password=True)
    login(client, user, next="/authorize?x=1")
    response = choose(client)
    assert response.headers["Location"] == "/authorize?x=1"
    assert records() == []
    [row] = sessions()
    assert row.user_id == user.id and row.amr == ["pwd"] and row.acr == "urn:idp:loa:1"


def test_a_record_is_used_once(app, client):
    """Replaying the cookie of a completed sign-in gets no second session."""
    user = make_user(must_change_password=True)
    login(client, user)
    name = app.config["SESSION_COOKIE_NAME"]
    old = client.get_cookie(name).value
    assert choose(client).status_code == 302
    replay = app.test_client()
    replay.set_cookie(name, old)
    response = choose(replay, "Shiraz1402Garden")
    assert response.headers["Location"] == "/login"
    assert len(sessions()) == 1
    db.session.expire_all()
    assert passwords.verify_password(db.session.get(User, user.id).password_hash, NEW)
    assert replay.get("/account").status_code == 302


def test_another_browser_cannot_continue(app, client):
    """The step page needs this browser's key: another browser is sent to sign in."""
    user = make_user(must_change_password=True)
    login(client, user)
    other = app.test_client()
    response = choose(other)
    assert response.headers["Location"] == "/login"
    page = other.get("/login").get_data(as_text=True)
    assert message("password_change_expired") in page
    assert sessions() == []
    db.session.expire_all()
    assert db.session.get(User, user.id).must_change_password
    finished = choose(client)  # the right browser still can
    assert finished.headers["Location"] == "/account" and len(sessions()) == 1


def test_the_record_expires(client, clock, app):
    """After PASSWORD_CHANGE_TTL the record is dead even with a fresh cookie, and purged."""
    user = make_user(must_change_password=True)
    login(client, user)
    clock.advance(app.config["PASSWORD_CHANGE_TTL"] - 1)
    assert client.get("/login/new-password").status_code == 200
    clock.advance(2)
    assert client.get("/login/new-password").headers["Location"] == "/login"
    assert sessions() == []
    second = make_user(must_change_password=True)
    login(client, second)  # a new record purges the expired one
    assert [r.user_id for r in records()] == [second.id]


def test_a_blocked_account_cannot_finish(client):
    """An account disabled between two steps is refused at the next one."""
    user = make_user(must_change_password=True)
    login(client, user)
    user.status = "disabled"
    db.session.commit()
    assert choose(client).headers["Location"] == "/login"
    assert sessions() == [] and records() == []


def test_a_sign_in_without_a_due_step_is_dropped(client):
    """If the step is no longer needed (the password was reset meanwhile), sign in again."""
    user = make_user(must_change_password=True)
    login(client, user)
    user.must_change_password = False
    db.session.commit()
    assert client.get("/login/new-password").headers["Location"] == "/login"
    assert sessions() == [] and records() == []


def test_a_step_up_adds_otp_and_mfa_to_the_methods_used(app):
    """amr merges: a second factor after any first one adds "otp", then "mfa" (RFC 8176)."""
    for first in (["pwd"], ["sms"], ["pwd", "sms"]):
        ctx = Context(next_url=None, home="/admin/", user=make_admin(), amr=list(first),
                      required=frozenset({"admin"}))
        ctx.add(second_factor)
        assert ctx.amr == [*first, "otp", "mfa"]


def test_the_second_factor_comes_after_the_new_password(app):
    """When a target asks for a second factor, it follows every sign-in step, in order."""
    user = make_admin(must_change_password=True)
    ctx = Context(next_url=None, home="/admin/", user=user, required=frozenset({"admin"}))
    order = []
    while (step := steps.pending_step(ctx)) is not None:
        order.append(step)
        if step is new_password:
            user.must_change_password = False  # what the step's form does
        ctx.add(step)
    assert order == [password, new_password, second_factor]


def test_the_admin_step_cannot_be_taken_before_the_sign_in_steps(client, clock, auth):
    """A right TOTP code posted while the new-password step is due opens nothing."""
    user = auth.admin_session()
    client.post("/account/logout")
    support.force_password_change(user.id, actor_id=make_admin().id)
    assert login(client, user).headers["Location"] == "/login/new-password"
    response = client.post("/admin/verify", data={"code": auth.code_for(user)})
    assert response.headers["Location"].startswith("/login?next=")
    assert not any(row.ended_at is None for row in sessions())
    assert choose(client).headers["Location"] == "/account"
    [live] = [row for row in sessions() if row.ended_at is None]
    assert live.amr == ["pwd"] and not live.is_admin
    response = client.post("/admin/verify", data={"code": auth.code_for(user)})
    assert response.headers["Location"] == "/admin/"
    db.session.refresh(live)
    assert live.amr == ["pwd", "otp", "mfa"] and live.is_admin


def test_the_admin_step_goes_to_the_page_that_is_due(client, clock, auth):
    """Enrolled admins are sent from the enrolment page to the code page, and back."""
    user = auth.admin_session()
    client.post("/account/logout")
    login(client, user)
    response = client.post("/admin/enrol?next=/admin/clients", data={"code": auth.code_for(user)})
    assert response.headers["Location"] == "/admin/verify?next=/admin/clients"
    assert not live_admin_sessions()

    newcomer = make_admin()
    other = client.application.test_client()
    login(other, newcomer)
    response = other.post("/admin/verify", data={"code": "123456"})
    assert response.headers["Location"] == "/admin/enrol"
    assert not live_admin_sessions()


def test_a_live_session_forced_to_change_its_password_still_steps_up(client, clock, auth):
    """The new-password step belongs to signing in; a step-up of a live session skips it."""
    user = make_admin()
    login(client, user)
    support.force_password_change(user.id, actor_id=make_admin().id)
    _, codes = auth.enrol(user)
    assert codes and [row.is_admin for row in live_admin_sessions()] == [True]
