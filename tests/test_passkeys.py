"""Passkeys (issue 14): add, list, rename and remove them on the account page, sign in
with one alone, or prove one as a further step; every refusal of the ceremonies.

The authenticator is :mod:`tests.webauthn_authenticator` (a P-256 key in software); the
test app's issuer is ``http://localhost``, so the rp id is ``localhost``.
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from idp.accounts import steps
from idp.extensions import db
from idp.messages import message
from idp.models import AuditEvent, Passkey, SsoSession, User, WebauthnChallenge
from idp.security.ratelimit import LIMITED_ENDPOINTS
from tests.factories import DEFAULT_PASSWORD, auth_params, make_portal, make_user, query_of
from tests.webauthn_authenticator import SoftAuthenticator, b64url

NAME = "گوشی من"


def add_passkey(browser, authenticator, name=NAME, **create):
    options = browser.post("/account/passkeys/options")
    assert options.status_code == 200, options.get_data(as_text=True)
    return browser.post("/account/passkeys", json={
        "name": name, "credential": authenticator.create(options.json, **create)})


def login_options(browser):
    response = browser.post("/login/passkey/options")
    assert response.status_code == 200
    return response.json


def passkey_sign_in(browser, authenticator, next_url=None, **get):
    credential = authenticator.get(login_options(browser), **get)
    url = "/login/passkey" + (f"?next={next_url}" if next_url else "")
    return browser.post(url, json={"credential": credential})


def live_session(user):
    db.session.expire_all()
    return db.session.scalar(select(SsoSession).where(
        SsoSession.user_id == user.id, SsoSession.ended_at.is_(None)))


def audit_events(name):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


@pytest.fixture
def citizen(app, client, oidc):
    """A citizen signed in with the password in ``client``."""
    user = make_user()
    oidc.sign_in(user)
    return user


@pytest.fixture
def enrolled(citizen, client):
    """The citizen with a device-bound passkey, then signed out of ``client``."""
    authenticator = SoftAuthenticator()
    assert add_passkey(client, authenticator).status_code == 200
    client.post("/account/logout")
    return citizen, authenticator


def test_register_and_list(app, client, citizen):
    """A passkey is verified, stored with its public key, flags and name, audited, and
    listed on the account page with its Jalali date."""
    authenticator = SoftAuthenticator()
    response = add_passkey(client, authenticator)
    assert response.status_code == 200 and response.json["redirect"] == "/account"
    row = db.session.scalar(select(Passkey))
    assert row.user_id == citizen.id and row.credential_id == authenticator.credential_id
    assert row.name == NAME and row.transports == ["internal"] and row.sign_count == 0
    assert row.aaguid == "00000000-0000-0000-0000-000000000000"
    assert row.backup_eligible is False and row.backup_state is False
    assert row.public_key == authenticator.cose_key()
    assert [e.data["passkey_id"] for e in audit_events("passkey_added")] == [row.id]
    page = client.get("/account").get_data(as_text=True)
    assert NAME in page and "۱۴۰۵/۰۹/۰۵" in page  # 2026-11-26 in the Jalali calendar
    assert "هنوز استفاده نشده" in page
    assert db.session.scalar(select(WebauthnChallenge)) is None  # used up


def test_registration_options_ask_for_what_we_need(client, citizen):
    """rp id from the issuer, attestation none, resident key preferred, UV required, the
    user handle is no personal number, and registered passkeys are excluded."""
    authenticator = SoftAuthenticator()
    add_passkey(client, authenticator)
    options = client.post("/account/passkeys/options").json
    assert options["rp"]["id"] == "localhost" and options["attestation"] == "none"
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert citizen.id_code not in options["user"]["name"]
    assert citizen.id_code.encode() not in authenticator.user_handle
    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(authenticator.credential_id)]


@pytest.mark.parametrize("synced, amr", [(False, ["hwk", "user"]), (True, ["swk", "user"])],
                         ids=["device-bound", "synced"])
def test_sign_in_with_a_passkey_alone(app, client, citizen, synced, amr):
    """No code, no password: the session's amr is hwk/user or swk/user, the counter and
    last use are recorded."""
    authenticator = SoftAuthenticator(synced=synced)
    add_passkey(client, authenticator)
    client.post("/account/logout")
    assert live_session(citizen) is None
    options = login_options(client)
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"
    response = client.post("/login/passkey", json={"credential": authenticator.get(options)})
    assert response.status_code == 200 and response.json["redirect"] == "/account"
    assert live_session(citizen).amr == amr
    row = db.session.scalar(select(Passkey))
    assert row.sign_count == 1 and row.last_used_at is not None
    assert row.backup_eligible is synced and row.backup_state is synced
    assert audit_events("login_ok")[-1].data["method"] == "passkey"


def test_passkey_sign_in_continues_the_oidc_flow(app, client, oidc, enrolled):
    """/authorize → /login → passkey → the parked request answers; the ID token's amr
    says a hardware key was used."""
    user, authenticator = enrolled
    rp, secret = make_portal(first_party=True)
    params = auth_params(rp)
    location = urlsplit(oidc.authorize(params).headers["Location"])
    assert location.path == "/login"
    next_url = parse_qs(location.query)["next"][0]
    login_page = client.get(f"{location.path}?{location.query}").get_data(as_text=True)
    assert 'autocomplete="username webauthn"' in login_page and "ورود با کلید عبور" in login_page
    response = passkey_sign_in(client, authenticator,
                               next_url=next_url.replace("?", "%3F").replace("=", "%3D"))
    assert response.status_code == 200 and response.json["redirect"] == next_url
    answer = query_of(client.get(next_url))
    assert answer["state"] == "st-1" and answer["code"]
    tokens = oidc.exchange(rp, secret, answer["code"], params).json
    assert oidc.decode(tokens["id_token"]).claims["amr"] == ["hwk", "user"]


def refused(response):
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["error"] == "passkey_failed"
    assert response.json["message"] == message("passkey_failed")
    return response


@pytest.mark.parametrize("breakage", [
    {"origin": "https://evil.example"}, {"origin": "http://localhost:5000"},
    {"rp_id": "evil.example"}, {"uv": False},
], ids=["wrong-origin", "other-port", "wrong-rp-id-hash", "no-uv"])
def test_sign_in_refusals(app, client, enrolled, breakage):
    """A wrong origin, an rpIdHash of another site or a missing UV flag is refused,
    audited, and uses the challenge up."""
    user, authenticator = enrolled
    refused(passkey_sign_in(client, authenticator, **breakage))
    assert live_session(user) is None
    assert audit_events("passkey_refused")[-1].data["purpose"] == "sign_in"
    assert db.session.scalar(select(WebauthnChallenge)) is None


@pytest.mark.parametrize("breakage", [
    {"origin": "https://evil.example"}, {"rp_id": "evil.example"}, {"uv": False},
], ids=["wrong-origin", "wrong-rp-id-hash", "no-uv"])
def test_registration_refusals(app, client, citizen, breakage):
    """The same checks at registration: nothing is stored."""
    response = add_passkey(client, SoftAuthenticator(), **breakage)
    refused(response)
    assert db.session.scalar(select(Passkey)) is None
    assert audit_events("passkey_refused")[-1].data["purpose"] == "register"


def test_replayed_challenge(app, client, enrolled):
    """An assertion (or another one made for the same challenge) is accepted once."""
    user, authenticator = enrolled
    options = login_options(client)
    first = authenticator.get(options)
    assert client.post("/login/passkey", json={"credential": first}).status_code == 200
    client.post("/account/logout")
    refused(client.post("/login/passkey", json={"credential": first}))
    refused(client.post("/login/passkey", json={"credential": authenticator.get(options)}))
    assert live_session(user) is None


def test_expired_challenge(app, client, clock, enrolled):
    """A challenge answered after WEBAUTHN_CHALLENGE_SECONDS is refused."""
    user, authenticator = enrolled
    options = login_options(client)
    clock.advance(app.config["WEBAUTHN_CHALLENGE_SECONDS"] + 1)
    refused(client.post("/login/passkey", json={"credential": authenticator.get(options)}))
    assert live_session(user) is None


def test_challenge_from_another_browser(app, client, enrolled):
    """A challenge issued to one browser cannot be answered from another."""
    user, authenticator = enrolled
    options = login_options(client)
    other = app.test_client()
    login_options(other)  # the other browser has its own key, and its own challenge
    refused(other.post("/login/passkey", json={"credential": authenticator.get(options)}))
    assert live_session(user) is None


def test_challenge_of_another_purpose_or_account(app, client, citizen):
    """A registration challenge does not sign in, and a sign-in challenge does not register."""
    authenticator = SoftAuthenticator()
    registration = client.post("/account/passkeys/options").json
    refused(client.post("/login/passkey", json={
        "credential": authenticator.get({"challenge": registration["challenge"]})}))
    sign_in = client.post("/login/passkey/options").json
    refused(client.post("/account/passkeys", json={"name": NAME, "credential": authenticator.create(
        {**registration, "challenge": sign_in["challenge"]})}))


def test_counter_going_backwards_is_refused_and_logged(app, client, enrolled, caplog):
    """A signature counter that does not grow (a cloned authenticator?) is refused and
    logged at SECURITY level; a counter that stays 0 (no counter kept) is fine."""
    user, authenticator = enrolled
    assert passkey_sign_in(client, authenticator, counter=5).status_code == 200
    client.post("/account/logout")
    caplog.set_level(logging.INFO, logger="idp.security")
    refused(passkey_sign_in(client, authenticator, counter=3))
    assert any(r.levelname == "SECURITY" and "passkey_counter_regressed" in r.getMessage()
               for r in caplog.records)
    refused(passkey_sign_in(client, authenticator, counter=5))
    assert db.session.scalar(select(Passkey)).sign_count == 5
    assert live_session(user) is None
    assert passkey_sign_in(client, authenticator, counter=6).status_code == 200


def test_zero_counters_are_accepted(app, client, enrolled):
    """Authenticators that keep no counter (synced passkeys) always send 0."""
    user, authenticator = enrolled
    assert passkey_sign_in(client, authenticator, counter=0).status_code == 200
    client.post("/account/logout")
    assert passkey_sign_in(client, authenticator, counter=0).status_code == 200


def test_unknown_credential(app, client, enrolled):
    """A credential the IdP never registered signs nobody in."""
    stranger = SoftAuthenticator()
    refused(passkey_sign_in(client, stranger))
    assert audit_events("passkey_refused")[-1].data["reason"] == "unknown credential"


def test_user_handle_of_another_account(app, client, enrolled):
    """A user handle that is not the owner's is refused."""
    user, authenticator = enrolled
    authenticator.user_handle = b"x" * 32
    refused(passkey_sign_in(client, authenticator))


@pytest.mark.parametrize("status, code", [("disabled", "account_disabled"),
                                          ("locked", "account_locked")])
def test_blocked_accounts_are_refused(app, client, enrolled, status, code):
    """A disabled or operator-locked account cannot sign in with a passkey either."""
    user, authenticator = enrolled
    db.session.get(User, user.id).status = status
    db.session.commit()
    response = passkey_sign_in(client, authenticator)
    assert response.status_code == 400 and response.json["error"] == code
    assert response.json["message"] == message(code)
    assert live_session(user) is None
    assert db.session.scalar(select(WebauthnChallenge)) is None  # used up all the same
    assert audit_events("login_refused")[-1].data == {"reason": status, "method": "passkey"}


def test_a_temporary_lockout_does_not_stop_a_passkey(app, client, configure, enrolled):
    """Wrong passwords typed by someone else lock the password, not the passkey."""
    configure(LOGIN_MAX_FAILURES=2)
    user, authenticator = enrolled
    for _ in range(2):
        client.post("/login", data={"id_code": user.id_code, "password": "Wrong1234"})
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until is not None
    assert passkey_sign_in(client, authenticator).status_code == 200
    assert live_session(user) is not None


def test_an_expired_password_is_still_replaced_after_a_passkey(app, client, enrolled):
    """A passkey sign-in goes through the steps that follow the password: an account
    that must change its password gets that page before the session starts."""
    user, authenticator = enrolled
    db.session.get(User, user.id).must_change_password = True
    db.session.commit()
    response = passkey_sign_in(client, authenticator)
    assert response.status_code == 200 and response.json["redirect"] == "/login/new-password"
    assert live_session(user) is None
    response = client.post("/login/new-password", data={"new_password": "Tabriz1404Bazaar",
                                                        "confirm": "Tabriz1404Bazaar"})
    assert response.status_code == 302
    assert live_session(user).amr == ["hwk", "user"]


@pytest.mark.parametrize("body", [None, "not json", [], {"credential": "x"},
                                  {"credential": {"response": {"clientDataJSON": "!!"}}},
                                  {"credential": {"id": "x", "response": {}}}])
def test_garbage_is_a_clear_refusal(app, client, enrolled, body):
    """Malformed bodies get a JSON error, never a 500."""
    login_options(client)
    response = client.post("/login/passkey", json=body) if not isinstance(body, str) \
        else client.post("/login/passkey", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"] in ("passkey_request_invalid", "passkey_failed")


def test_removed_passkey_no_longer_signs_in(app, client, oidc, enrolled):
    """After removal (with the password) the passkey is refused as unknown."""
    user, authenticator = enrolled
    oidc.sign_in(user)
    row = db.session.scalar(select(Passkey))
    response = client.post(f"/account/passkeys/{row.id}/remove",
                           data={"password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/account#passkeys"
    assert db.session.scalar(select(Passkey)) is None
    assert [e.data["passkey_id"] for e in audit_events("passkey_removed")] == [row.id]
    client.post("/account/logout")
    refused(passkey_sign_in(client, authenticator))


def test_removal_needs_the_right_password_and_wrong_ones_lock(app, client, oidc, configure,
                                                              enrolled):
    """A wrong password keeps the passkey and counts on the sign-in lockout; at the
    limit the session ends with the Persian message and the account is locked."""
    configure(LOGIN_MAX_FAILURES=3, LOGIN_LOCKOUT_SECONDS=600)
    user, authenticator = enrolled
    oidc.sign_in(user)
    row_id = db.session.scalar(select(Passkey.id))
    for failures in (1, 2):
        response = client.post(f"/account/passkeys/{row_id}/remove", data={"password": "Wrong1234"})
        assert response.headers["Location"] == "/account#passkeys"
        page = client.get("/account").get_data(as_text=True)
        assert message("current_password_wrong") in page
        db.session.expire_all()
        assert db.session.get(User, user.id).failed_logins == failures
    response = client.post(f"/account/passkeys/{row_id}/remove", data={"password": "Wrong1234"})
    assert response.headers["Location"].startswith("/login")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert message("secret_guesses_signed_out", minutes="۱۰") in page
    assert live_session(user) is None
    assert db.session.scalar(select(Passkey.id)) == row_id
    assert db.session.get(User, user.id).locked_until is not None


def test_another_citizen_cannot_rename_or_remove_your_passkey(app, client, oidc, enrolled):
    """Another citizen's passkey id is "not found" to them, and stays as it was."""
    owner, _ = enrolled
    row_id = db.session.scalar(select(Passkey.id))
    intruder = make_user()
    oidc.sign_in(intruder)
    client.post(f"/account/passkeys/{row_id}/rename", data={"name": "mine now"})
    response = client.post(f"/account/passkeys/{row_id}/remove",
                           data={"password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert message("passkey_not_found") in client.get("/account").get_data(as_text=True)
    db.session.expire_all()
    row = db.session.get(Passkey, row_id)
    assert row is not None and row.name == NAME and row.user_id == owner.id


def test_rename(app, client, citizen):
    """A passkey can be renamed; the name is trimmed."""
    add_passkey(client, SoftAuthenticator())
    row_id = db.session.scalar(select(Passkey.id))
    response = client.post(f"/account/passkeys/{row_id}/rename", data={"name": "  لپ‌تاپ  "})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Passkey, row_id).name == "لپ‌تاپ"
    assert audit_events("passkey_renamed")


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "\u202e\u202e"],
                         ids=["empty", "blank", "too-long", "only-direction-marks"])
def test_names_are_validated(app, client, citizen, name):
    """A name is 1–64 visible characters, at registration and at renaming."""
    response = add_passkey(client, SoftAuthenticator(), name=name)
    assert response.status_code == 400 and response.json["error"] == "passkey_name_invalid"
    assert response.json["message"] == message("passkey_name_invalid")
    assert db.session.scalar(select(Passkey)) is None
    add_passkey(client, SoftAuthenticator())
    row_id = db.session.scalar(select(Passkey.id))
    client.post(f"/account/passkeys/{row_id}/rename", data={"name": name})
    assert message("passkey_name_invalid") in client.get("/account").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Passkey, row_id).name == NAME


def test_several_passkeys_up_to_the_limit(app, client, configure, citizen):
    """A citizen may have several passkeys, up to PASSKEYS_MAX_PER_USER; the same
    credential is not registered twice."""
    configure(PASSKEYS_MAX_PER_USER=2)
    first = SoftAuthenticator()
    assert add_passkey(client, first).status_code == 200
    again = add_passkey(client, first)
    assert again.status_code == 400 and again.json["error"] == "passkey_exists"
    assert add_passkey(client, SoftAuthenticator(synced=True), name="کلید دوم").status_code == 200
    response = client.post("/account/passkeys/options")
    assert response.status_code == 400 and response.json["error"] == "passkeys_too_many"
    assert len(client.get("/account").get_data(as_text=True).split("<bdi>گوشی من</bdi>")) == 2


def test_account_endpoints_need_a_session(app, client):
    """Anonymous visitors are sent to sign in."""
    for url in ("/account/passkeys/options", "/account/passkeys",
                "/account/passkeys/1/rename", "/account/passkeys/1/remove"):
        response = client.post(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_passkey_endpoints_are_rate_limited():
    """Each passkey answer and options call has the sign-in's per-IP limit."""
    for endpoint in ("accounts.passkey_login", "accounts.passkey_login_options",
                     "accounts.passkey_step_page", "accounts.passkey_step_options",
                     "accounts.passkey_remove", "accounts.passkey_register"):
        assert LIMITED_ENDPOINTS[endpoint] == ("ratelimit_login", ["POST"])


def test_passkey_sign_in_is_rate_limited(app, make_app):
    """The sign-in's per-IP limit applies to the passkey answer."""
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute")
    with app.app_context():
        browser = app.test_client()
        assert browser.post("/login/passkey", json={}).status_code == 400
        assert browser.post("/login/passkey", json={}).status_code == 400
        assert browser.post("/login/passkey", json={}).status_code == 429


# --- the passkey step ---------------------------------------------------------------------

def test_step_is_needed_only_when_required(app):
    """needed(ctx) follows ctx.required and is satisfied by a passkey sign-in."""
    from idp.accounts.steps import passkey

    assert passkey in steps.ORDER
    assert steps.ORDER.index(passkey) > [s.NAME for s in steps.ORDER].index("second_factor")
    with app.test_request_context("/login"):
        ctx = steps.start(None)
        assert not passkey.needed(ctx)
        ctx.required = frozenset({"passkey"})
        assert passkey.needed(ctx)
        ctx.amr = ["swk", "user"]
        assert not passkey.needed(ctx)


@pytest.fixture
def needs_passkey(monkeypatch):
    """Make every password sign-in ask for a passkey (what the acr branch will decide)."""
    real = steps.start

    def start(next_url):
        ctx = real(next_url)
        ctx.required = frozenset({"passkey"})
        return ctx

    monkeypatch.setattr(steps, "start", start)
    return start


def stored_required(monkeypatch):
    """Keep ``required`` across the stored sign-in (the acr branch stores it)."""
    real = steps.pending.load

    def load(home):
        ctx = real(home)
        if ctx is not None:
            ctx.required = frozenset({"passkey"})
        return ctx

    monkeypatch.setattr(steps.pending, "load", load)


def test_passkey_as_a_second_step(app, client, monkeypatch, enrolled, needs_passkey):
    """After the password, the passkey page; its assertion completes the sign-in with
    pwd + hwk + mfa + user."""
    user, authenticator = enrolled
    stored_required(monkeypatch)
    response = client.post("/login", data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login/passkey-step"
    assert live_session(user) is None
    page = client.get("/login/passkey-step").get_data(as_text=True)
    assert "تأیید با کلید عبور" in page
    options = client.post("/login/passkey-step/options").json
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(authenticator.credential_id)]
    response = client.post("/login/passkey-step",
                           data={"credential": json.dumps(authenticator.get(options))})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert live_session(user).amr == ["pwd", "hwk", "mfa", "user"]


def test_passkey_step_refuses_a_bad_assertion(app, client, monkeypatch, enrolled, needs_passkey):
    """A wrong origin on the step page shows the Persian refusal; no session starts."""
    user, authenticator = enrolled
    stored_required(monkeypatch)
    client.post("/login", data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
    options = client.post("/login/passkey-step/options").json
    bad = json.dumps(authenticator.get(options, origin="https://evil.example"))
    response = client.post("/login/passkey-step", data={"credential": bad})
    assert response.status_code == 200
    assert message("passkey_failed") in response.get_data(as_text=True)
    response = client.post("/login/passkey-step", data={"credential": "{not json"})
    assert message("passkey_request_invalid") in response.get_data(as_text=True)
    assert live_session(user) is None


def test_step_options_without_a_sign_in(app, client):
    """The step's options need a sign-in waiting for a passkey."""
    response = client.post("/login/passkey-step/options")
    assert response.status_code == 400 and response.json["error"] == "passkey_request_invalid"


def test_passkey_texts_in_english(app, client, citizen):
    """The account section, the sign-in button and the JSON errors follow ?lang=en."""
    from tests.test_i18n_accounts import assert_english, text

    add_passkey(client, SoftAuthenticator())
    html = text(client.get("/account?lang=en"))
    assert_english(html, "dt", skip=("h2", "td"))
    assert "Passkeys" in html and "Add a passkey" in html and "Not used yet" in html
    response = client.post("/account/passkeys", json={"name": "", "credential": {}})
    assert response.json["message"] == "Give the passkey a name of at most 64 characters."
    client.post("/account/logout")
    html = text(client.get("/login?lang=en"))
    assert "Sign in with a passkey" in html


def test_passkey_step_up_of_a_session(app, client, oidc, enrolled):
    """A password session proves a passkey on the step page: the session keeps its sid
    and gains hwk, mfa and user; with a passkey already proved the page goes on."""
    user, authenticator = enrolled
    row = oidc.sign_in(user)
    page = client.get("/login/passkey-step?next=/account")
    assert page.status_code == 200 and "تأیید با کلید عبور" in page.get_data(as_text=True)
    options = client.post("/login/passkey-step/options").json
    response = client.post("/login/passkey-step?next=/account",
                           data={"credential": json.dumps(authenticator.get(options))})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    session = live_session(user)
    assert session.sid == row.sid and session.amr == ["pwd", "hwk", "mfa", "user"]
    again = client.get("/login/passkey-step?next=/account")
    assert again.status_code == 302 and again.headers["Location"] == "/account"


def test_passkey_flows_log_no_secret_or_personal_number(app, client, oidc, caplog):
    """Adding, using, refusing and removing a passkey log neither the password, the
    signature, the challenge, the credential id nor the full national code."""
    caplog.set_level(logging.DEBUG)
    user = make_user()
    oidc.sign_in(user)
    authenticator = SoftAuthenticator()
    add_passkey(client, authenticator)
    client.post("/account/logout")
    options = login_options(client)
    assertion = authenticator.get(options)
    client.post("/login/passkey", json={"credential": assertion})
    refused(passkey_sign_in(client, authenticator, origin="https://evil.example"))
    row_id = db.session.scalar(select(Passkey.id))
    client.post(f"/account/passkeys/{row_id}/remove", data={"password": "Wrong1234"})
    client.post(f"/account/passkeys/{row_id}/remove", data={"password": DEFAULT_PASSWORD})
    secrets = [DEFAULT_PASSWORD, "Wrong1234", user.id_code, options["challenge"],
               assertion["response"]["signature"], b64url(authenticator.credential_id)]
    logged = " ".join(f"{r.getMessage()} {r.args!r} {vars(r)!r}" for r in caplog.records)
    assert "passkey_added" in logged and "passkey_removed" in logged
    assert [s for s in secrets if s in logged] == []


def test_a_portal_asking_level_2_gets_the_passkey_of_a_password_session(app, client, oidc,
                                                                        enrolled):
    """A citizen whose only second factor is a passkey, signed in with the password, meets
    acr_values level 2: the passkey page only (no password again); the ID token says
    level 2 and pwd + hwk; ``prompt=none`` afterwards needs nothing more."""
    user, authenticator = enrolled
    rp, rp_secret = make_portal(first_party=True)
    oidc.sign_in(user)
    loa2 = app.extensions["idp.settings"].acr_levels[1]
    params = auth_params(rp, acr_values=loa2)
    response = oidc.authorize(params)
    assert response.status_code == 302, response.get_data(as_text=True)
    for _ in range(3):  # the step-up address, then the passkey step it leads to
        location = urlsplit(response.headers["Location"])
        if location.path == "/login/passkey-step":
            break
        response = client.get(location.path + "?" + location.query)
    assert location.path == "/login/passkey-step", response.headers["Location"]
    step_url = location.path + "?" + location.query
    page = client.get(step_url).get_data(as_text=True)
    assert 'name="password"' not in page
    options = client.post("/login/passkey-step/options").json
    response = client.post(step_url, data={"credential": json.dumps(authenticator.get(options))})
    resume = urlsplit(response.headers["Location"])
    answer = query_of(client.get(resume.path + "?" + resume.query))
    assert "code" in answer, answer
    body = oidc.exchange(rp, rp_secret, answer["code"], params).json
    claims = oidc.decode(body["id_token"]).claims
    assert claims["acr"] == loa2 and claims["amr"] == ["pwd", "hwk", "mfa", "user"]
    again = query_of(oidc.authorize(auth_params(rp, acr_values=loa2, prompt="none")))
    assert "code" in again, again


def test_a_citizen_with_app_and_passkey_may_step_up_with_the_passkey(app, client, oidc,
                                                                    enrolled):
    """The code page of a portal's step-up offers the passkey instead; the passkey raises
    the session and the request resumes at level 2 (no code typed)."""
    from .test_citizen_totp import enrol

    user, authenticator = enrolled
    rp, rp_secret = make_portal(first_party=True)
    oidc.sign_in(user)
    enrol(client)  # the app as well
    client.post("/account/logout")
    oidc.sign_in(user)
    loa2 = app.extensions["idp.settings"].acr_levels[1]
    params = auth_params(rp, acr_values=loa2)
    response = oidc.authorize(params)
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login/verify", response.headers["Location"]
    page = client.get(location.path + "?" + location.query).get_data(as_text=True)
    link = re.search(r'href="(/login/passkey-step\?next=[^"]+)"', page)
    assert link, page
    step_url = link[1].replace("&amp;", "&")
    options = client.post("/login/passkey-step/options").json
    response = client.post(step_url, data={"credential": json.dumps(authenticator.get(options))})
    resume = urlsplit(response.headers["Location"])
    answer = query_of(client.get(resume.path + "?" + resume.query))
    body = oidc.exchange(rp, rp_secret, answer["code"], params).json
    claims = oidc.decode(body["id_token"]).claims
    assert claims["acr"] == loa2 and claims["amr"] == ["pwd", "hwk", "mfa", "user"]
