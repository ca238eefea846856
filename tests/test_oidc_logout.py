"""RP-Initiated Logout 1.0 and Back-Channel Logout 1.0 (receivers on loopback)."""

from __future__ import annotations

import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, BackchannelLogoutJob, SessionClient
from idp.oidc.logout import EVENT, wait_for_deliveries

from .factories import auth_params, make_portal, make_user, query_of

BYE = "https://rp.example.ir/bye"


class Receiver:
    """A relying party's back-channel logout endpoint on 127.0.0.1."""

    def __init__(self, status=200, hold: threading.Event | None = None):
        self.tokens: list[str] = []
        self.status, self.hold = status, hold
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                length = int(self.headers["Content-Length"])
                form = parse_qs(self.rfile.read(length).decode())
                if receiver.hold is not None:
                    receiver.hold.wait(10)
                receiver.tokens.extend(form.get("logout_token", []))
                self.send_response(receiver.status)
                self.send_header("Cache-Control", "no-store")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.uri = f"http://127.0.0.1:{self.server.server_port}/backchannel-logout"

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.tokens) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.tokens) >= count

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made = []

    def factory(**kwargs):
        made.append(Receiver(**kwargs))
        return made[-1]

    yield factory
    for receiver in made:
        if receiver.hold is not None:
            receiver.hold.set()
        receiver.close()


@pytest.fixture
def app_config(app_config):
    return {**app_config, "OIDC_BACKCHANNEL_TIMEOUT": 10.0}


def _sign_in_at(oidc, clients, user):
    """Sign in once and get tokens at every client: one SSO session, several portals."""
    session = oidc.sign_in(user)
    tokens = {}
    for rp, secret in clients:
        code, params = oidc.get_code(rp)
        tokens[rp.client_id] = oidc.exchange(rp, secret, code, params).json
    return session, tokens


def _verify(app, browser, token):
    keys = KeySet.import_key_set(browser.get("/jwks.json").json)
    return jwt.decode(token, keys)


def test_rp_initiated_logout_with_hint_redirects_with_state(app, client, oidc):
    rp, secret = make_portal(first_party=True)
    user = make_user()
    session, tokens = _sign_in_at(oidc, [(rp, secret)], user)
    response = client.get("/logout", query_string={
        "id_token_hint": tokens[rp.client_id]["id_token"], "post_logout_redirect_uri": BYE,
        "state": "bye-1", "ui_locales": "fa"})
    assert response.status_code == 302 and response.headers["Location"] == BYE + "?state=bye-1"
    db.session.refresh(session)
    assert session.ended_at is not None
    # The SSO session is gone: prompt=none now answers login_required …
    assert query_of(oidc.authorize(auth_params(rp, prompt="none")))["error"] == \
        "login_required"
    # … and the portal's refresh token ended with it.
    again = client.post("/oauth/token", data={"grant_type": "refresh_token",
                                              "refresh_token": tokens[rp.client_id][
                                                  "refresh_token"]},
                        auth=(rp.client_id, secret))
    assert again.json["error"] == "invalid_grant"


def test_unregistered_post_logout_uri_is_not_followed(app, client, oidc):
    rp, secret = make_portal(first_party=True)
    _, tokens = _sign_in_at(oidc, [(rp, secret)], make_user())
    response = client.get("/logout", query_string={
        "id_token_hint": tokens[rp.client_id]["id_token"],
        "post_logout_redirect_uri": "https://evil.example/bye"})
    assert response.status_code == 200 and "Location" not in response.headers
    assert "خارج شدید" in response.get_data(as_text=True)


def test_invalid_hint_is_an_error_page(app, client, oidc):
    oidc.sign_in(make_user())
    response = client.get("/logout", query_string={"id_token_hint": "a.b.c",
                                                    "post_logout_redirect_uri": BYE})
    assert response.status_code == 400 and "Location" not in response.headers


def test_logout_without_hint_asks_first(app_config, make_app, oidc):
    """No id_token_hint: a Persian confirmation page; the CSRF-protected POST ends it."""
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    with csrf_app.app_context():
        rp, _ = make_portal(first_party=True)
        browser = csrf_app.test_client()
        session = oidc.sign_in(make_user(), browser=browser)
        query = {"client_id": rp.client_id, "post_logout_redirect_uri": BYE, "state": "s9"}
        page = browser.get("/logout", query_string=query)
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and "آیا می‌خواهید" in text and "پورتال آزمایشی" in text
        forged = browser.post("/logout", data={**query, "confirm": "1"})
        assert forged.status_code == 200 and "آیا می‌خواهید" in forged.get_data(as_text=True)
        db.session.refresh(session)
        assert session.ended_at is None
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text).group(1)
        done = browser.post("/logout", data={**query, "confirm": "1", "csrf_token": token})
        assert done.status_code == 302 and done.headers["Location"] == BYE + "?state=s9"
        db.session.refresh(session)
        assert session.ended_at is not None
        db.session.remove()


def test_hint_of_another_session_asks_first(app, client, oidc):
    """A valid hint that names a different session could be replayed by any page: ask."""
    rp, secret = make_portal(first_party=True)
    _, tokens = _sign_in_at(oidc, [(rp, secret)], make_user())
    current = oidc.sign_in(make_user())
    page = client.get("/logout", query_string={"id_token_hint": tokens[rp.client_id]["id_token"],
                                               "post_logout_redirect_uri": BYE})
    assert page.status_code == 200 and "آیا می‌خواهید" in page.get_data(as_text=True)
    db.session.refresh(current)
    assert current.ended_at is None


def test_logout_without_session(app, client):
    page = client.get("/logout")
    assert page.status_code == 200 and "خارج شدید" in page.get_data(as_text=True)


def test_backchannel_logout_reaches_every_client_and_slow_one_does_not_block(
        app, client, receivers, oidc):
    """Two portals get a logout token; a portal that hangs does not hold up the logout."""
    hold = threading.Event()
    fast, slow = receivers(), receivers(hold=hold)
    a = make_portal(first_party=True, backchannel_logout_uri=fast.uri)
    b = make_portal(first_party=True, backchannel_logout_uri=slow.uri,
                    id_token_signed_response_alg="ES256")
    silent = make_portal(first_party=True)  # no back-channel URI: nothing to send
    user = make_user()
    session, tokens = _sign_in_at(oidc, [a, b, silent], user)
    assert db.session.scalar(select(SessionClient.id).where(
        SessionClient.client_id == silent[0].client_id)) is not None

    response = client.get("/logout", query_string={
        "id_token_hint": tokens[a[0].client_id]["id_token"], "post_logout_redirect_uri": BYE})
    assert response.status_code == 302
    assert not hold.is_set() and slow.tokens == []  # answered while the slow portal hangs
    fast.wait_for(1)
    hold.set()
    slow.wait_for(1)
    wait_for_deliveries(app)

    for receiver, (rp, _), alg in ((fast, a, "RS256"), (slow, b, "ES256")):
        token = _verify(app, client, receiver.tokens[0])
        assert token.header["typ"] == "logout+jwt" and token.header["alg"] == alg
        claims = token.claims
        assert claims["iss"] == "http://localhost" and claims["aud"] == rp.client_id
        assert claims["sub"] == user.subject and claims["sid"] == session.sid
        assert claims["events"] == {EVENT: {}} and "nonce" not in claims
        assert claims["jti"] and claims["exp"] - claims["iat"] == 120
    db.session.expire_all()
    jobs = db.session.scalars(select(BackchannelLogoutJob)).all()
    assert len(jobs) == 2 and all(j.delivered_at is not None for j in jobs)


def test_failed_delivery_is_retried_by_the_command(app, client, receivers, runner, clock, oidc):
    """A portal answering 500 is retried with back-off; the retry gets a fresh token."""
    flaky = receivers(status=500)
    rp = make_portal(first_party=True, backchannel_logout_uri=flaky.uri)
    _, tokens = _sign_in_at(oidc, [rp], make_user())
    client.get("/logout", query_string={"id_token_hint": tokens[rp[0].client_id]["id_token"]})
    wait_for_deliveries(app)
    db.session.expire_all()
    job = db.session.scalar(select(BackchannelLogoutJob))
    assert (job.attempts, job.last_error, job.delivered_at) == (1, "HTTP 500", None)
    assert runner.invoke(args=["oidc", "deliver-logouts"]).output.strip() == \
        "delivered 0, failed 0"  # not due yet
    flaky.status = 200
    clock.advance(300)
    result = runner.invoke(args=["oidc", "deliver-logouts"])
    assert result.output.strip() == "delivered 1, failed 0"
    first, retried = (_verify(app, client, t).claims for t in flaky.tokens)
    assert retried["jti"] != first["jti"] and retried["iat"] == first["iat"] + 300
    assert retried["sid"] == first["sid"]


def test_unreachable_portal_is_abandoned_after_max_attempts(app, client, runner, clock, oidc):
    dead = "http://127.0.0.1:9/backchannel-logout"  # discard port: refused
    rp = make_portal(first_party=True, backchannel_logout_uri=dead)
    _, tokens = _sign_in_at(oidc, [rp], make_user())
    client.get("/logout", query_string={"id_token_hint": tokens[rp[0].client_id]["id_token"]})
    wait_for_deliveries(app)
    for _ in range(app.config["OIDC_BACKCHANNEL_MAX_ATTEMPTS"] + 1):
        clock.advance(3600)
        runner.invoke(args=["oidc", "deliver-logouts"])
    db.session.expire_all()
    job = db.session.scalar(select(BackchannelLogoutJob))
    assert job.attempts == app.config["OIDC_BACKCHANNEL_MAX_ATTEMPTS"]
    assert job.delivered_at is None and job.last_error
    assert db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.event == "backchannel_logout_abandoned")) is not None


def test_password_change_style_logout_reaches_portals(app, client, receivers, oidc):
    """Any end of a session (here end_all_sessions) sends back-channel logout."""
    from idp.accounts.session import end_all_sessions

    receiver = receivers()
    rp = make_portal(first_party=True, backchannel_logout_uri=receiver.uri)
    user = make_user()
    _sign_in_at(oidc, [rp], user)
    assert end_all_sessions(user.id, reason="password_changed") == 1
    receiver.wait_for(1)
    wait_for_deliveries(app)


def test_offline_access_grants_outlive_the_session(app, client, oidc):
    """offline_access is shown on the consent page and its refresh token survives logout."""
    rp, secret = make_portal(scope="openid profile offline_access")
    oidc.sign_in(make_user())
    params = auth_params(rp, scope="openid offline_access")
    consent = oidc.authorize(params).headers["Location"]
    assert "دسترسی ماندگار" in client.get(consent).get_data(as_text=True)
    key = parse_qs(consent.split("?", 1)[1])["key"][0]
    code = query_of(client.post("/authorize/consent", data={"key": key, "approve": "1"}))["code"]
    tokens = oidc.exchange(rp, secret, code, params).json
    assert tokens["scope"] == "openid offline_access"
    client.get("/logout", query_string={"id_token_hint": tokens["id_token"]})
    again = client.post("/oauth/token", data={"grant_type": "refresh_token",
                                              "refresh_token": tokens["refresh_token"]},
                        auth=(rp.client_id, secret))
    assert again.status_code == 200


def test_failed_delivery_is_logged_without_the_token(app, client, receivers, runner, clock,
                                                     oidc, caplog):
    """Each failed attempt is a WARNING naming the portal and the attempt, never the token."""
    caplog.set_level(logging.WARNING, logger="idp.oidc")
    flaky = receivers(status=503)
    rp = make_portal(first_party=True, backchannel_logout_uri=flaky.uri)
    _, tokens = _sign_in_at(oidc, [rp], make_user())
    client.get("/logout", query_string={"id_token_hint": tokens[rp[0].client_id]["id_token"]})
    wait_for_deliveries(app)
    clock.advance(300)
    runner.invoke(args=["oidc", "deliver-logouts"])
    failures = [r for r in caplog.records if r.name == "idp.oidc" and "back-channel" in
                r.getMessage()]
    assert [r.levelno for r in failures] == [logging.WARNING] * 2
    first, second = (r.getMessage() for r in failures)
    assert rp[0].client_id in first and "attempt 1 of 5" in first and "HTTP 503" in first
    assert "attempt 2 of 5" in second
    assert flaky.tokens and not any(t in caplog.text for t in flaky.tokens)


def test_worker_retries_due_deliveries_with_the_sign_out_request_id(
        app, client, receivers, runner, clock, oidc):
    """``flask oidc worker`` does what cron's ``deliver-logouts`` did, and the job keeps
    the X-Request-ID of the sign-out that made it."""
    flaky = receivers(status=500)
    rp = make_portal(first_party=True, backchannel_logout_uri=flaky.uri)
    _, tokens = _sign_in_at(oidc, [rp], make_user())
    client.get("/logout", query_string={"id_token_hint": tokens[rp[0].client_id]["id_token"]},
               headers={"X-Request-ID": "signout-77"})
    wait_for_deliveries(app)
    flaky.status = 200
    clock.advance(300)
    result = runner.invoke(args=["oidc", "worker", "--rounds", "1", "--interval", "0"])
    assert result.output.splitlines()[-1] == "worker stopped after 1 rounds", result.output
    assert len(flaky.tokens) == 2
    db.session.expire_all()
    job = db.session.scalar(select(BackchannelLogoutJob))
    assert job.delivered_at is not None and job.request_id == "signout-77"
