"""Client applications in the admin pages: register, secret shown once, edit, rotate,
disable (effective at once), delete; the web and the CLI make identical clients."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from idp.clients import credentials, service
from idp.extensions import db
from idp.messages import message
from idp.models import AuditEvent, Client

from .factories import DEFAULT_PASSWORD, make_admin, make_client, make_portal, make_user

SECRET_RE = re.compile(r'<code class="secret">([A-Za-z0-9_\-]{43})</code>')
FORM = {"name_fa": "پورتال بیمه", "name_en": "Insurance", "client_type": "confidential",
        "redirect_uris": "https://bime.example.ir/cb\nhttps://bime.example.ir/cb2",
        "post_logout_redirect_uris": "https://bime.example.ir/", "scope": ["openid", "email"],
        "id_token_signed_response_alg": "RS256", "subject_type": "public",
        "token_endpoint_auth_method": ""}


@pytest.fixture
def admin(auth):
    return auth.admin_session()


def events(name):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_register_shows_the_secret_once(client, admin):
    response = client.post("/admin/clients/new", data=FORM)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "فقط همین یک بار" in page
    secret = SECRET_RE.search(page)[1]
    stored = db.session.scalar(select(Client))
    assert credentials.secret_matches(stored, secret)
    assert stored.redirect_uris == ["https://bime.example.ir/cb", "https://bime.example.ir/cb2"]
    assert stored.scope == "openid email" and stored.first_party is False
    assert response.headers["Cache-Control"] == "no-store"
    # Never again: not on the detail page, the list, the edit form or the CLI.
    for path in (f"/admin/clients/{stored.client_id}", "/admin/clients",
                 f"/admin/clients/{stored.client_id}/edit"):
        shown = client.get(path).get_data(as_text=True)
        assert stored.client_id in shown and secret not in shown
    [event] = events("client_created")
    assert event.actor_id == admin.id and event.client_id == stored.client_id


def test_invalid_form_shows_persian_errors_next_to_fields(client, admin):
    data = {**FORM, "redirect_uris": "http://bime.example.ir/cb", "jwks": "{not json"}
    page = client.post("/admin/clients/new", data=data).get_data(as_text=True)
    assert message("not_json") in page
    page = client.post("/admin/clients/new", data={**FORM, "redirect_uris":
                                                   "http://bime.example.ir/cb"}).get_data(
        as_text=True)
    assert message("redirect_uri_not_https") in page
    assert "http://bime.example.ir/cb" in page  # what was typed is kept
    assert db.session.scalar(select(Client)) is None


def test_public_client_gets_no_secret_page(client, admin):
    data = {**FORM, "client_type": "public", "token_endpoint_auth_method": ""}
    response = client.post("/admin/clients/new", data=data)
    assert response.status_code == 302
    stored = db.session.scalar(select(Client))
    assert stored.token_endpoint_auth_method == "none" and stored.secret_hash is None


def test_web_and_cli_make_identical_clients(client, admin, runner):
    """Same input through the form and ``flask clients create``: same stored metadata."""
    client.post("/admin/clients/new", data={**FORM, "first_party": "y",
                                            "subject_type": "pairwise"})
    web = db.session.scalar(select(Client))
    result = runner.invoke(args=[
        "clients", "create", "--json", "--name", "پورتال بیمه", "--name-en", "Insurance",
        "--redirect-uri", "https://bime.example.ir/cb", "--redirect-uri",
        "https://bime.example.ir/cb2", "--post-logout-redirect-uri", "https://bime.example.ir/",
        "--scope", "email openid", "--first-party", "--pairwise"])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.output)
    cli.pop("client_secret")
    assert {**service.client_summary(web), "client_id": None} == {**cli, "client_id": None}


def test_edit_changes_the_client_and_keeps_its_type(client, admin):
    made, secret = make_client(client_id="portal")
    page = client.get("/admin/clients/portal/edit").get_data(as_text=True)
    assert "https://rp.example.ir/cb" in page
    data = {**FORM, "client_type": "public", "name_fa": "پورتال ویرایش‌شده",
            "redirect_uris": "https://rp.example.ir/cb", "access_token_ttl": "۶۰۰"}
    response = client.post("/admin/clients/portal/edit", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Client, made.id)
    assert stored.name_fa == "پورتال ویرایش‌شده" and stored.client_type == "confidential"
    assert stored.access_token_ttl == 600 and credentials.secret_matches(stored, secret)
    assert events("client_updated")[0].actor_id == admin.id


def test_rotate_secret_from_the_page_with_grace(client, admin, clock):
    made, old = make_client(client_id="portal")
    response = client.post("/admin/clients/portal/rotate-secret", data={"grace_hours": "2"})
    new = SECRET_RE.search(response.get_data(as_text=True))[1]
    stored = db.session.get(Client, made.id)
    assert credentials.secret_matches(stored, new) and credentials.secret_matches(stored, old)
    clock.advance(2 * 3600 + 1)
    assert not credentials.secret_matches(stored, old)
    assert events("client_secret_rotated")[0].data == {"grace": 7200}


def test_disabled_client_stops_working_at_once(app, client, admin, oidc):
    """After "disable": userinfo refuses its token, introspection says inactive, the token
    endpoint refuses it; enabling restores it."""
    rp, secret = make_portal(client_id="rp", first_party=True)
    rs, rs_secret = make_client(client_id="api", client_type="service", redirect_uris=[],
                                is_resource_server=True)
    citizen = make_user()
    browser = app.test_client()
    tokens = oidc.tokens_for(rp, secret, citizen, browser=browser)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert browser.get("/userinfo", headers=bearer).status_code == 200

    assert client.post("/admin/clients/rp/disable").status_code == 302
    assert browser.get("/userinfo", headers=bearer).status_code == 401
    answer = browser.post("/oauth/introspect", data={"token": tokens["access_token"]},
                          auth=("api", rs_secret))
    assert answer.status_code == 200 and answer.json == {"active": False}
    refreshed = browser.post("/oauth/token", auth=("rp", secret), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code in {400, 401} and refreshed.json["error"] == "invalid_client"
    assert "غیرفعال" in client.get("/admin/clients/rp").get_data(as_text=True)

    client.post("/admin/clients/rp/enable")
    assert browser.get("/userinfo", headers=bearer).status_code == 200
    assert [e.event for e in events("client_disabled") + events("client_enabled")] == [
        "client_disabled", "client_enabled"]
    assert rs.enabled


def test_delete_asks_then_removes(client, admin):
    make_client(client_id="portal")
    page = client.get("/admin/clients/portal/delete").get_data(as_text=True)
    assert "بازگشت‌پذیر نیست" in page
    assert client.post("/admin/clients/portal/delete").status_code == 302
    assert db.session.scalar(select(Client)) is None
    assert events("client_deleted")[0].actor_id == admin.id
    assert client.get("/admin/clients/portal").status_code == 404


def test_list_searches(client, admin):
    make_client(client_id="bime", name_fa="پورتال بیمه")
    make_client(client_id="profile", name_fa="پروفایل")
    page = client.get("/admin/clients", query_string={"q": "بیمه"}).get_data(as_text=True)
    assert "bime" in page and "profile" not in page


class TestCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_state_changing_posts_need_the_token(self, app, clock):
        browser = app.test_client()
        user = make_admin()
        token = _token(browser.get("/login"))
        browser.post("/login", data={"id_code": user.id_code, "password": DEFAULT_PASSWORD,
                                     "csrf_token": token})
        page = browser.get("/admin/enrol")
        import pyotp

        secret = re.search(r'class="totp-secret">([A-Z2-7]+)<', page.get_data(as_text=True))[1]
        browser.post("/admin/enrol", data={"code": pyotp.TOTP(secret).at(clock.now()),
                                           "csrf_token": _token(page)})
        make_client(client_id="portal")
        assert browser.post("/admin/clients/portal/disable").status_code == 400
        assert db.session.scalar(select(Client.enabled)) is True
        token = _token(browser.get("/admin/clients/portal"))
        assert browser.post("/admin/clients/portal/disable",
                            data={"csrf_token": token}).status_code == 302
        db.session.expire_all()
        assert db.session.scalar(select(Client.enabled)) is False


def _token(response) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                     response.get_data(as_text=True))[1]


def test_client_page_shows_undelivered_logouts(app, client, admin, oidc, clock, runner):
    """Back-channel logouts a portal did not accept are listed on its page: how many wait,
    how many were given up, the last error and the next attempt."""
    from idp.oidc.logout import wait_for_deliveries

    portal, secret = make_portal(first_party=True,
                                 backchannel_logout_uri="http://127.0.0.1:9/bc")  # refused
    detail = client.get(f"/admin/clients/{portal.client_id}").get_data(as_text=True)
    assert "همه خروج‌ها رسیده‌اند" in detail
    citizen = app.test_client()

    def sign_in_and_out():
        oidc.sign_in(make_user(), browser=citizen)
        code, params = oidc.get_code(portal, browser=citizen)
        oidc.exchange(portal, secret, code, params, browser=citizen)
        citizen.post("/account/logout")
        wait_for_deliveries(app)  # the first attempt fails

    sign_in_and_out()
    for _ in range(app.config["OIDC_BACKCHANNEL_MAX_ATTEMPTS"] - 1):
        clock.advance(250)  # past the back-off (30, 60, 120, 240 s), within the admin's idle limit
        runner.invoke(args=["oidc", "deliver-logouts"])
        client.get("/admin/clients")
    sign_in_and_out()  # a second job, tried once
    detail = client.get(f"/admin/clients/{portal.client_id}").get_data(as_text=True)
    section = detail[detail.index("خروج از پورتال"):]
    assert re.search(r"در انتظار ارسال</th>\s*<td>۱</td>", section), section
    assert re.search(r"رها شده</th>\s*<td>۱</td>", section), section
    assert "ConnectError" in section and "نوبت بعدی" in section


def test_profile_and_introspection_algorithm_from_the_form(client, admin):
    """The FAPI 2.0 profile and the RFC 9701 algorithm are set on the page; a profile the
    metadata breaks shows its Persian error next to the field."""
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256", {"alg": "ES256", "kid": "k"})
    jwks = json.dumps({"keys": [key.as_dict(private=False)]})
    page = client.post("/admin/clients/new", data={
        **FORM, "profile": "fapi2", "token_endpoint_auth_method": "private_key_jwt",
        "jwks": jwks}).get_data(as_text=True)
    assert message("fapi2_alg") in page  # RS256 chosen in the form
    page = client.post("/admin/clients/new", data={
        **FORM, "profile": "fapi2", "id_token_signed_response_alg": "ES256",
        "token_endpoint_auth_method": "client_secret_basic"}).get_data(as_text=True)
    assert message("fapi2_auth_method") in page
    assert db.session.scalar(select(Client)) is None
    response = client.post("/admin/clients/new", data={
        **FORM, "profile": "fapi2", "id_token_signed_response_alg": "ES256",
        "token_endpoint_auth_method": "private_key_jwt",
        "introspection_signed_response_alg": "ES256",
        "jwks": jwks})
    assert response.status_code == 302, response.get_data(as_text=True)
    stored = db.session.scalar(select(Client))
    assert stored.profile == "fapi2" and stored.introspection_signed_response_alg == "ES256"
    edit = client.get(f"/admin/clients/{stored.client_id}/edit").get_data(as_text=True)
    selected = re.search(r'<option[^>]*value="fapi2"[^>]*>', edit)
    assert selected and "selected" in selected[0]
    # An empty choice stores None: no profile, no signed introspection.
    plain = client.post("/admin/clients/new", data={**FORM, "name_fa": "پورتال دوم",
                                                    "profile": "",
                                                    "introspection_signed_response_alg": ""})
    assert plain.status_code == 200  # the secret page
    second = db.session.scalar(select(Client).where(Client.name_fa == "پورتال دوم"))
    assert second.profile is None and second.introspection_signed_response_alg is None
