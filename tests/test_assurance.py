"""Assurance levels and step-up through /authorize: ``acr_values``, an essential ``acr``
claim, a client's minimum and default level; the second factor asked alone; the ID token's
``acr``/``amr``/``auth_time``; ``unmet_authentication_requirements``; discovery, admin,
CLI and dynamic registration fields."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from idp import create_app
from idp.clients import cache, dcr
from idp.extensions import db
from idp.messages import message
from idp.models import AuditEvent, Client
from idp.settings import SettingsError

from .factories import DEFAULT_PASSWORD, auth_params, make_portal, make_user, query_of
from .test_citizen_totp import code_of, enrol

LOA1, LOA2 = "urn:idp:loa:1", "urn:idp:loa:2"


def path_of(response) -> str:
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def citizen_with_app(app, auth, clock):
    """A citizen who enrolled an authenticator app in another browser; the clock then
    moves on a step, so the enrolment code is not the next one."""
    user = make_user()
    other = app.test_client()
    auth.sign_in(user, browser=other)
    secret, _ = enrol(other)
    clock.advance(30)
    return user, secret


def id_token_of(oidc, rp, secret, response, params):
    answer = query_of(response)
    assert "code" in answer, answer
    body = oidc.exchange(rp, secret, answer["code"], params).json
    return oidc.decode(body["id_token"]).claims


def step_up(client, oidc, params, secret):
    """Send ``params``, expect the code page only, give the code; return the answer."""
    response = oidc.authorize(params)
    assert urlsplit(response.headers["Location"]).path == "/login/verify", \
        response.headers["Location"]
    page_url = path_of(response)
    page = client.get(page_url).get_data(as_text=True)
    assert 'name="password"' not in page and 'autocomplete="one-time-code"' in page
    response = client.post(page_url, data={"code": code_of(secret)})
    assert path_of(response).startswith("/authorize/resume"), response.headers["Location"]
    return client.get(path_of(response))


@pytest.fixture
def portal():
    return make_portal(first_party=True)


def test_discovery_lists_the_levels(client):
    document = client.get("/.well-known/openid-configuration").json
    assert document["acr_values_supported"] == [LOA1, LOA2]


def test_levels_come_from_settings(make_app):
    app = make_app(ACR_LEVELS=["urn:gov:loa:low", "urn:gov:loa:high"])
    document = app.test_client().get("/.well-known/openid-configuration").json
    assert document["acr_values_supported"] == ["urn:gov:loa:low", "urn:gov:loa:high"]


@pytest.mark.parametrize("levels", [["only-one"], ["same", "same"], ["a", "b", "c"]])
def test_levels_must_be_two_different_names(app_config, levels):
    with pytest.raises(SettingsError):
        create_app({**app_config, "ACR_LEVELS": levels})


def test_acr_values_loa2_asks_only_the_second_factor(app, client, clock, oidc, auth, portal):
    """A password session gets the code page only; the ID token tells the truth."""
    rp, rp_secret = portal
    user, secret = citizen_with_app(app, auth, clock)
    row = oidc.sign_in(user)
    started = row.auth_time
    clock.advance(60)
    params = auth_params(rp, acr_values=LOA2)
    claims = id_token_of(oidc, rp, rp_secret, step_up(client, oidc, params, secret), params)
    assert claims["acr"] == LOA2 and claims["amr"] == ["pwd", "otp", "mfa"]
    # auth_time stays the sign-in's: the step-up added a factor to it.
    assert claims["auth_time"] == int(started.timestamp())
    db.session.refresh(row)
    assert row.acr == LOA2 and row.amr == ["pwd", "otp", "mfa"]


def test_without_a_session_the_password_then_the_code(app, client, clock, oidc, auth, portal):
    rp, rp_secret = portal
    user, secret = citizen_with_app(app, auth, clock)
    params = auth_params(rp, acr_values=LOA2)
    response = oidc.authorize(params)
    assert urlsplit(response.headers["Location"]).path == "/login"
    response = client.post(path_of(response), data={"id_code": user.id_code,
                                                    "password": DEFAULT_PASSWORD})
    response = client.get(path_of(response))  # the parked request, now level 1
    assert urlsplit(response.headers["Location"]).path == "/login/verify"
    response = client.post(path_of(response), data={"code": code_of(secret)})
    claims = id_token_of(oidc, rp, rp_secret, client.get(path_of(response)), params)
    assert claims["acr"] == LOA2 and claims["amr"] == ["pwd", "otp", "mfa"]


def test_essential_acr_claim_is_honoured(app, client, clock, oidc, auth, portal):
    rp, rp_secret = portal
    user, secret = citizen_with_app(app, auth, clock)
    oidc.sign_in(user)
    claims_request = {"id_token": {"acr": {"essential": True, "values": [LOA2]}}}
    params = auth_params(rp, claims=json.dumps(claims_request))
    claims = id_token_of(oidc, rp, rp_secret, step_up(client, oidc, params, secret), params)
    assert claims["acr"] == LOA2


def test_essential_acr_of_unknown_values_is_unmet(client, oidc, portal):
    rp, _ = portal
    oidc.sign_in(make_user())
    claims_request = {"id_token": {"acr": {"essential": True, "values": ["urn:other:gold"]}}}
    answer = query_of(oidc.authorize(auth_params(rp, claims=json.dumps(claims_request))))
    assert answer["error"] == "unmet_authentication_requirements" and answer["state"] == "st-1"


def test_unknown_voluntary_acr_values_are_ignored(client, oidc, portal):
    rp, rp_secret = portal
    oidc.sign_in(make_user())
    params = auth_params(rp, acr_values="urn:other:gold")
    assert "code" in query_of(oidc.authorize(params))


def test_the_lowest_listed_level_is_asked(client, oidc, portal):
    """acr_values are voluntary: "loa:1 loa:2" is satisfied by a password session."""
    rp, rp_secret = portal
    oidc.sign_in(make_user())
    params = auth_params(rp, acr_values=f"{LOA2} {LOA1}")
    claims = id_token_of(oidc, rp, rp_secret, oidc.authorize(params), params)
    assert claims["acr"] == LOA1 and claims["amr"] == ["pwd"]


def test_client_minimum_applies_whatever_the_request(app, client, clock, oidc, auth):
    rp, rp_secret = make_portal(first_party=True, minimum_acr=LOA2)
    user, secret = citizen_with_app(app, auth, clock)
    oidc.sign_in(user)
    params = auth_params(rp, acr_values=LOA1)
    claims = id_token_of(oidc, rp, rp_secret, step_up(client, oidc, params, secret), params)
    assert claims["acr"] == LOA2


def test_client_default_applies_when_nothing_is_asked(app, client, clock, oidc, auth):
    rp, rp_secret = make_portal(first_party=True, default_acr_values=[LOA2])
    user, secret = citizen_with_app(app, auth, clock)
    oidc.sign_in(user)
    # A request naming a level replaces the default.
    assert "code" in query_of(oidc.authorize(auth_params(rp, acr_values=LOA1)))
    params = auth_params(rp)
    claims = id_token_of(oidc, rp, rp_secret, step_up(client, oidc, params, secret), params)
    assert claims["acr"] == LOA2


def test_a_level_2_session_needs_no_step(app, client, clock, oidc, auth, portal):
    rp, rp_secret = portal
    user, _ = citizen_with_app(app, auth, clock)
    oidc.sign_in(user, amr=("pwd", "otp", "mfa"))
    params = auth_params(rp, acr_values=LOA2)
    claims = id_token_of(oidc, rp, rp_secret, oidc.authorize(params), params)
    assert claims["acr"] == LOA2


def test_passkey_with_user_verification_is_level_2(client, oidc, portal):
    """amr "hwk"/"swk" with "user" (the passkey branch) reaches level 2 alone."""
    rp, rp_secret = portal
    oidc.sign_in(make_user(), amr=("hwk", "user"))
    params = auth_params(rp, acr_values=LOA2)
    claims = id_token_of(oidc, rp, rp_secret, oidc.authorize(params), params)
    assert claims["acr"] == LOA2


def test_prompt_none_below_the_level_is_unmet(app, client, clock, oidc, auth, portal):
    rp, _ = portal
    user, _ = citizen_with_app(app, auth, clock)
    oidc.sign_in(user)
    response = oidc.authorize(auth_params(rp, acr_values=LOA2, prompt="none"))
    answer = query_of(response)
    assert response.headers["Location"].startswith(rp.redirect_uris[0])
    assert answer["error"] == "unmet_authentication_requirements"
    assert answer["state"] == "st-1" and answer["iss"] == app.config["ISSUER"]


def test_cancel_on_the_code_page_tells_the_portal(app, client, clock, oidc, auth, portal):
    rp, _ = portal
    user, _ = citizen_with_app(app, auth, clock)
    row = oidc.sign_in(user)
    response = oidc.authorize(auth_params(rp, acr_values=LOA2))
    cancel = parse_qs(urlsplit(response.headers["Location"]).query)["cancel"][0]
    page = client.get(path_of(response)).get_data(as_text=True)
    assert "انصراف" in page and f'action="{cancel}"' in page.replace("&amp;", "&")
    response = client.post(cancel)
    answer = query_of(response)
    assert answer["error"] == "unmet_authentication_requirements" and answer["state"] == "st-1"
    assert answer["iss"] == app.config["ISSUER"]
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.event == "step_up_cancelled")).client_id == rp.client_id
    db.session.refresh(row)
    assert row.ended_at is None and row.acr == LOA1  # signed in still, at level 1


def test_no_second_factor_gets_guidance_then_enrols_and_continues(client, clock, oidc, portal):
    rp, rp_secret = portal
    user = make_user()
    oidc.sign_in(user)
    params = auth_params(rp, acr_values=LOA2)
    response = oidc.authorize(params)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "تأیید دومرحله‌ای لازم است" in page
    assert "انصراف" in page and "/account/second-factor/enrol?next=" in page
    enrol_url = "/account/second-factor/enrol?next=" + page.split(
        "/account/second-factor/enrol?next=")[1].split('"')[0].replace("&amp;", "&")
    resume = parse_qs(urlsplit(enrol_url).query)["next"][0]
    assert resume.startswith("/authorize/resume?key=")
    enrol(client, next_url=resume)
    claims = id_token_of(oidc, rp, rp_secret, client.get(resume), params)
    assert claims["acr"] == LOA2 and claims["amr"] == ["pwd", "otp", "mfa"]


def test_no_second_factor_cancel_tells_the_portal(client, oidc, portal):
    rp, _ = portal
    oidc.sign_in(make_user())
    page = oidc.authorize(auth_params(rp, acr_values=LOA2)).get_data(as_text=True)
    key = page.split('name="key" type="hidden" value="')[1].split('"')[0]
    answer = query_of(client.post("/authorize/cancel", data={"key": key}))
    assert answer["error"] == "unmet_authentication_requirements" and answer["state"] == "st-1"
    # The parked request is gone: cancelling again gets the expired-request page.
    assert client.post("/authorize/cancel", data={"key": key}).status_code == 400


def test_cancel_without_csrf_changes_nothing(app, client, oidc, portal):
    rp, _ = portal
    oidc.sign_in(make_user())
    page = oidc.authorize(auth_params(rp, acr_values=LOA2)).get_data(as_text=True)
    key = page.split('name="key" type="hidden" value="')[1].split('"')[0]
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/authorize/cancel", data={"key": key})
    assert response.status_code == 400 and "Location" not in response.headers
    app.config["WTF_CSRF_ENABLED"] = False
    # The parked request is still there.
    answer = query_of(client.post("/authorize/cancel", data={"key": key}))
    assert answer["error"] == "unmet_authentication_requirements"


def test_consent_cannot_skip_the_step_up(app, client, clock, oidc, auth):
    """A third-party portal's consent page leads to the step-up first."""
    rp, _ = make_portal(minimum_acr=LOA2)
    user, _ = citizen_with_app(app, auth, clock)
    oidc.sign_in(user)
    response = oidc.authorize(auth_params(rp))
    assert urlsplit(response.headers["Location"]).path == "/login/verify"
    key = parse_qs(urlsplit(response.headers["Location"]).query)["next"][0].split("key=")[1]
    response = client.post("/authorize/consent", data={"key": key, "approve": "y"})
    assert urlsplit(response.headers["Location"]).path == "/login/verify"


# --- client fields -----------------------------------------------------------------


def test_cli_sets_default_and_minimum(app, runner):
    result = runner.invoke(args=["clients", "create", "--name", "پورتال", "--redirect-uri",
                                 "https://p.example.ir/cb", "--acr", LOA2,
                                 "--minimum-acr", LOA1, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    stored = db.session.scalar(select(Client).where(Client.client_id == data["client_id"]))
    assert stored.default_acr_values == [LOA2] and stored.minimum_acr == LOA1
    result = runner.invoke(args=["clients", "update", stored.client_id, "--minimum-acr", ""])
    assert result.exit_code == 0, result.output
    db.session.refresh(stored)
    assert stored.minimum_acr is None and stored.default_acr_values == [LOA2]


def test_cli_refuses_an_unknown_level(app, runner):
    result = runner.invoke(args=["clients", "create", "--name", "پورتال", "--redirect-uri",
                                 "https://p.example.ir/cb", "--minimum-acr", "urn:x"])
    assert result.exit_code != 0 and db.session.scalar(select(Client)) is None


def test_admin_form_sets_the_levels(client, auth):
    auth.admin_session()
    page = client.get("/admin/clients/new").get_data(as_text=True)
    assert 'name="minimum_acr"' in page and f'value="{LOA2}"' in page
    response = client.post("/admin/clients/new", data={
        "name_fa": "پورتال بیمه", "client_type": "confidential",
        "redirect_uris": "https://bime.example.ir/cb", "scope": ["openid"],
        "id_token_signed_response_alg": "RS256", "subject_type": "public",
        "token_endpoint_auth_method": "", "default_acr_values": [LOA2], "minimum_acr": LOA2})
    assert response.status_code == 200
    stored = db.session.scalar(select(Client).where(Client.name_fa == "پورتال بیمه"))
    assert stored.default_acr_values == [LOA2] and stored.minimum_acr == LOA2


def test_admin_form_refuses_an_unknown_level(client, auth):
    auth.admin_session()
    response = client.post("/admin/clients/new", data={
        "name_fa": "پورتال بیمه", "client_type": "confidential",
        "redirect_uris": "https://bime.example.ir/cb", "scope": ["openid"],
        "id_token_signed_response_alg": "RS256", "subject_type": "public",
        "token_endpoint_auth_method": "", "minimum_acr": "urn:x"})
    page = response.get_data(as_text=True)
    assert message("acr_invalid") in page
    assert db.session.scalar(select(Client)) is None


@pytest.fixture
def dcr_app(make_app):
    return make_app(DCR_ENABLED=True)


def test_dcr_default_acr_values(dcr_app):
    with dcr_app.app_context():
        token = dcr.issue_initial_token("t", ttl=3600, max_uses=2)[1]
    browser = dcr_app.test_client()
    body = {"client_name": "Portal", "redirect_uris": ["https://p.example.ir/cb"],
            "default_acr_values": [LOA2]}
    response = browser.post("/connect/register", json=body,
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.json
    assert response.json["default_acr_values"] == [LOA2]
    # RFC 7592: a replacement without the member resets it.
    uri = urlsplit(response.json["registration_client_uri"]).path
    auth = {"Authorization": f"Bearer {response.json['registration_access_token']}"}
    replaced = browser.put(uri, json={**body, "client_id": response.json["client_id"],
                                      "default_acr_values": []}, headers=auth)
    assert replaced.status_code == 200, replaced.json
    assert "default_acr_values" not in replaced.json
    bad = browser.post("/connect/register", json={**body, "default_acr_values": ["urn:x"]},
                       headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400 and bad.json["error"] == "invalid_client_metadata"


def test_client_snapshot_carries_the_levels(app):
    rp, _ = make_portal(default_acr_values=[LOA2], minimum_acr=LOA2)
    snapshot = cache.find(rp.client_id)
    assert snapshot.default_acr_values == (LOA2,) and snapshot.minimum_acr == LOA2


# --- the level a request needs and the level a session reaches -----------------------


@pytest.mark.parametrize(("params", "claims", "client", "level"), [
    ({}, None, {}, 1),
    ({"acr_values": LOA2}, None, {}, 2),
    ({"acr_values": f"{LOA1} {LOA2}"}, None, {}, 1),
    ({"acr_values": "urn:other"}, None, {"default_acr_values": [LOA2]}, 2),  # nothing of ours
    ({"acr_values": LOA1}, None, {"default_acr_values": [LOA2]}, 1),
    ({}, {"id_token": {"acr": {"values": [LOA2]}}}, {}, 2),
    ({}, {"id_token": {"acr": {"value": LOA2}}}, {}, 2),
    ({"acr_values": LOA2}, {"id_token": {"acr": {"values": [LOA1]}}}, {}, 1),  # claim first
    ({}, {"id_token": {"acr": {"essential": True}}}, {}, 1),  # any acr will do
    ({}, {"id_token": {"acr": {"values": "not-a-list"}}}, {}, 1),
    ({}, {"id_token": {"acr": None}}, {}, 1),
    ({}, {"userinfo": {"acr": {"values": [LOA2]}}}, {}, 1),  # acr is an ID token claim
    ({"acr_values": LOA1}, None, {"minimum_acr": LOA2}, 2),
])
def test_required_level(app, params, claims, client, level):
    from types import SimpleNamespace

    from idp.oidc.levels import required_level

    row = SimpleNamespace(**{"default_acr_values": (), "minimum_acr": None, **client})
    assert required_level(params, claims, row) == level


@pytest.mark.parametrize(("amr", "acr"), [
    (["pwd"], LOA1), (["pwd", "sms"], LOA1), (["sms"], LOA1), (["hwk"], LOA1),
    (["pwd", "otp", "mfa"], LOA2), (["hwk", "user"], LOA2), (["swk", "user"], LOA2),
])
def test_level_of_the_methods(app, amr, acr):
    from idp.accounts import assurance

    assert assurance.acr_of(amr) == acr


def test_pages_in_english(client, oidc, portal):
    rp, _ = portal
    user = make_user()
    oidc.sign_in(user)
    page = oidc.authorize(auth_params(rp, acr_values=LOA2, ui_locales="en")).get_data(
        as_text=True)
    assert "Two-step verification required" in page and "Turn on an authenticator app" in page
    page = client.get("/account?lang=en").get_data(as_text=True)
    assert "Two-step verification" in page and "Turn on an authenticator app" in page


def test_admin_edit_shows_and_keeps_the_levels(client, auth):
    auth.admin_session()
    rp, _ = make_portal(default_acr_values=[LOA2], minimum_acr=LOA2)
    page = client.get(f"/admin/clients/{rp.client_id}/edit").get_data(as_text=True)
    assert f'<option selected value="{LOA2}">' in page
    assert f'checked id="default_acr_values-1" name="default_acr_values" type="checkbox" ' \
           f'value="{LOA2}"' in page
    page = client.get(f"/admin/clients/{rp.client_id}").get_data(as_text=True)
    assert "minimum_acr" in page and LOA2 in page


def test_the_code_page_cancels_only_to_the_provider(app, client, clock, oidc, auth):
    """A crafted ``cancel`` cannot make «انصراف» post to another page (sign-out…)."""
    user, _ = citizen_with_app(app, auth, clock)
    oidc.sign_in(user)
    page = client.get("/login/verify?next=/account&cancel=/account/logout").get_data(
        as_text=True)
    assert 'autocomplete="one-time-code"' in page and "/account/logout" not in page


def test_reauthentication_asks_the_second_factor_again(app, client, clock, oidc, auth, portal):
    """prompt=login with level 2 after an earlier level-2 sign-in: the password alone is
    a new authentication at level 1, so the code is asked again; the ID token's amr and
    acr describe this authentication (not the earlier one) at its auth_time."""
    rp, rp_secret = portal
    user, secret = citizen_with_app(app, auth, clock)
    oidc.sign_in(user)
    params = auth_params(rp, acr_values=LOA2)
    first = id_token_of(oidc, rp, rp_secret, step_up(client, oidc, params, secret), params)
    assert first["amr"] == ["pwd", "otp", "mfa"]
    clock.advance(120)
    params = auth_params(rp, acr_values=LOA2, prompt="login")
    response = oidc.authorize(params)
    assert urlsplit(response.headers["Location"]).path == "/login"
    response = client.post(path_of(response), data={"id_code": user.id_code,
                                                    "password": DEFAULT_PASSWORD})
    response = client.get(path_of(response))  # the parked request: level 1 now
    assert urlsplit(response.headers["Location"]).path == "/login/verify", \
        response.headers["Location"]
    response = client.post(path_of(response), data={"code": code_of(secret)})
    claims = id_token_of(oidc, rp, rp_secret, client.get(path_of(response)), params)
    assert claims["acr"] == LOA2 and claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["auth_time"] == first["auth_time"] + 120


def test_an_essential_acr_request_gets_one_of_its_values(app, client, clock, oidc, auth,
                                                         portal):
    """OIDC Core §5.5.1.1: an essential ``acr`` with ``values`` is answered with one of
    them. A level-2 session satisfies a request for level 1, so the ID token says level 1;
    amr still tells what was proven. A voluntary request keeps the level reached."""
    rp, rp_secret = portal
    user, _ = citizen_with_app(app, auth, clock)
    oidc.sign_in(user, amr=("pwd", "otp", "mfa"))
    essential = {"id_token": {"acr": {"essential": True, "values": [LOA1]}}}
    params = auth_params(rp, claims=json.dumps(essential))
    claims = id_token_of(oidc, rp, rp_secret, oidc.authorize(params), params)
    assert claims["acr"] == LOA1 and claims["amr"] == ["pwd", "otp", "mfa"]
    voluntary = {"id_token": {"acr": {"values": [LOA1]}}}
    params = auth_params(rp, claims=json.dumps(voluntary))
    claims = id_token_of(oidc, rp, rp_secret, oidc.authorize(params), params)
    assert claims["acr"] == LOA2
