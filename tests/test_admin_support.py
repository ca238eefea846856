"""Citizen support: search, overview, lock/unlock, forced password change, sign-out
everywhere. Every action is an audit event with the admin's id; no password or code shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from idp.extensions import db, now
from idp.messages import message
from idp.models import AuditEvent, Consent, OtpChallenge, SsoSession, User
from idp.text import fa_digits, mask_mobile

from .factories import DEFAULT_PASSWORD, make_client, make_user


@pytest.fixture
def admin(auth):
    return auth.admin_session()


def last_event(name) -> AuditEvent:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)
                              .order_by(AuditEvent.id.desc())).first()


def live_sessions(user) -> list[SsoSession]:
    return list(db.session.scalars(select(SsoSession).where(
        SsoSession.user_id == user.id, SsoSession.ended_at.is_(None))))


@pytest.mark.parametrize("query", ["{code}", "{persian_code}", "{mobile}", "+98{mobile_9}",
                                   "{mobile_9}", "0{mobile_9_spaced}"])
def test_search_by_code_or_mobile_opens_the_account(client, admin, query):
    citizen = make_user(mobile="09123334455")
    values = {"code": citizen.id_code, "mobile": citizen.mobile, "mobile_9": "9123334455",
              "mobile_9_spaced": "912 333 4455",
              "persian_code": citizen.id_code.translate(str.maketrans("0123456789",
                                                                      "۰۱۲۳۴۵۶۷۸۹"))}
    response = client.get("/admin/users", query_string={"q": query.format(**values)})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/users/{citizen.id}"
    event = last_event("support_search")
    assert event.actor_id == admin.id and event.data["found"] == [citizen.id]


def test_search_lists_several_accounts_of_one_mobile_and_refuses_vague_queries(client, admin):
    first = make_user(mobile="09120000001")
    second = make_user(mobile="09120000001")
    page = client.get("/admin/users", query_string={"q": "09120000001"}).get_data(as_text=True)
    assert first.full_name in page and f"/admin/users/{second.id}" in page
    vague = client.get("/admin/users", query_string={"q": "0012"}).get_data(as_text=True)
    assert message("search_query_invalid") in vague
    none = client.get("/admin/users", query_string={"q": "0012345679"}).get_data(as_text=True)
    assert "پیدا نشد" in none


def test_overview_shows_state_sessions_consents_but_no_secrets(app, client, admin, auth):
    citizen = make_user()
    portal, _ = make_client(name_fa="پورتال بیمه")
    db.session.add(Consent(user_id=citizen.id, client_id=portal.client_id, scope="openid"))
    db.session.add(OtpChallenge(purpose="recovery", mobile=citizen.mobile,
                                subject=str(citizen.id), code_hmac="f" * 64,
                                expires_at=now() + timedelta(minutes=2),
                                resend_after=now() + timedelta(minutes=2)))
    db.session.commit()
    browser = app.test_client()
    auth.sign_in(citizen, browser=browser)
    page = client.get(f"/admin/users/{citizen.id}").get_data(as_text=True)
    assert citizen.full_name in page and "پورتال بیمه" in page
    assert "نشست‌های فعال (۱)" in page
    assert fa_digits(mask_mobile(citizen.mobile)) in page  # the mobile is masked
    assert citizen.mobile not in page and fa_digits(citizen.mobile) not in page
    assert citizen.password_hash not in page and "argon2" not in page
    assert "f" * 64 not in page
    assert last_event("support_user_viewed").actor_id == admin.id


def test_lock_ends_sessions_and_blocks_sign_in_until_unlocked(app, client, admin, auth):
    citizen = make_user()
    browser = app.test_client()
    auth.sign_in(citizen, browser=browser)
    assert live_sessions(citizen)
    assert client.post(f"/admin/users/{citizen.id}/lock").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, citizen.id).status == "locked"
    assert live_sessions(citizen) == []
    refused = browser.post("/login", data={"id_code": citizen.id_code,
                                           "password": DEFAULT_PASSWORD})
    assert refused.status_code == 200
    assert last_event("support_locked").actor_id == admin.id

    client.post(f"/admin/users/{citizen.id}/unlock")
    db.session.expire_all()
    assert db.session.get(User, citizen.id).status == "active"
    assert last_event("support_unlocked").actor_id == admin.id
    auth.sign_in(citizen, browser=browser)


def test_unlock_lifts_a_temporary_lockout(client, admin):
    citizen = make_user(failed_logins=5, locked_until=now() + timedelta(minutes=10))
    page = client.get(f"/admin/users/{citizen.id}").get_data(as_text=True)
    assert "قفل موقت" in page
    client.post(f"/admin/users/{citizen.id}/unlock")
    db.session.expire_all()
    user = db.session.get(User, citizen.id)
    assert user.locked_until is None and user.failed_logins == 0


def test_force_password_change_at_next_sign_in(app, client, admin):
    citizen = make_user()
    client.post(f"/admin/users/{citizen.id}/force-password-change")
    db.session.expire_all()
    assert db.session.get(User, citizen.id).must_change_password is True
    assert last_event("support_forced_password_change").actor_id == admin.id
    browser = app.test_client()
    response = browser.post("/login", data={"id_code": citizen.id_code,
                                            "password": DEFAULT_PASSWORD})
    assert response.headers["Location"] == "/login/new-password"


def test_sign_out_everywhere(app, client, admin, auth):
    citizen = make_user()
    for _ in range(2):
        auth.sign_in(citizen, browser=app.test_client())
    assert len(live_sessions(citizen)) == 2
    client.post(f"/admin/users/{citizen.id}/sign-out")
    assert live_sessions(citizen) == []
    event = last_event("support_signed_out")
    assert event.actor_id == admin.id and event.user_id == citizen.id


def test_admin_cannot_act_on_own_account(client, admin):
    client.post(f"/admin/users/{admin.id}/lock")
    db.session.expire_all()
    assert db.session.get(User, admin.id).status == "active"
    page = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert message("cannot_act_on_self") in page


def test_deceased_account_cannot_be_unlocked(client, admin):
    citizen = make_user(status="deceased")
    client.post(f"/admin/users/{citizen.id}/unlock")
    db.session.expire_all()
    assert db.session.get(User, citizen.id).status == "deceased"


def test_no_page_sets_or_shows_a_password(app, admin):
    """No admin route takes a password or shows a one-time code."""
    rules = [r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]
    assert not [r for r in rules if "password" in r and "force-password-change" not in r]
    assert not [r for r in rules if "otp" in r or "sms" in r]


def test_unknown_account_is_404(client, admin):
    assert client.get("/admin/users/9999").status_code == 404
    assert client.post("/admin/users/9999/lock").status_code == 404
