"""Resource indicators (RFC 8707): ``resource`` at /authorize and /oauth/token → ``aud``."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from idp.clients.service import client_summary, set_enabled, update_client
from idp.errors import DomainError
from idp.extensions import db
from idp.messages import message
from idp.models import Client

from .factories import auth_params, make_client, make_portal, make_user, query_of

ES = "https://es.example.ir"
PROFILE_API = "https://profile-api.example.ir/v1"


def resource_server(uri, **overrides):
    values = {"client_type": "service", "redirect_uris": [], "scope": "profile",
              "is_resource_server": True, "resource_uri": uri}
    values.update(overrides)
    return make_client(**values)


@pytest.fixture
def servers(app):
    return resource_server(ES), resource_server(PROFILE_API)


def access_claims(oidc, body):
    return oidc.decode(body["access_token"]).claims


def refresh(browser, rp, secret, token, **extra):
    return browser.post("/oauth/token", data={"grant_type": "refresh_token",
                                              "refresh_token": token, **extra},
                        auth=(rp.client_id, secret))


def test_without_resource_aud_stays_the_client_id(app, client, servers, oidc):
    rp, secret = make_portal(first_party=True)
    body = oidc.tokens_for(rp, secret, make_user())
    assert access_claims(oidc, body)["aud"] == rp.client_id
    assert oidc.decode(body["id_token"]).claims["aud"] == rp.client_id
    renewed = refresh(client, rp, secret, body["refresh_token"])
    assert renewed.status_code == 200
    assert access_claims(oidc, renewed.json)["aud"] == rp.client_id


def test_one_resource_is_a_string_aud(app, client, servers, oidc):
    rp, secret = make_portal(first_party=True)
    body = oidc.tokens_for(rp, secret, make_user(), resource=ES)
    claims = access_claims(oidc, body)
    assert claims["aud"] == ES and claims["client_id"] == rp.client_id
    assert oidc.decode(body["id_token"]).claims["aud"] == rp.client_id  # ID token unchanged


def test_two_resources_and_narrowing_at_the_token_endpoint(app, client, servers, oidc):
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp, resource=[ES, PROFILE_API])
    # A resource outside the authorization is refused and the code stays usable.
    other = resource_server("https://tfh.example.ir")[0].resource_uri
    refused = oidc.exchange(rp, secret, code, params, resource=other)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_target"
    body = oidc.exchange(rp, secret, code, params).json
    assert access_claims(oidc, body)["aud"] == [ES, PROFILE_API]

    narrowed = refresh(client, rp, secret, body["refresh_token"], resource=PROFILE_API)
    assert narrowed.status_code == 200
    assert access_claims(oidc, narrowed.json)["aud"] == PROFILE_API
    # Narrowing one refresh does not shrink the grant: the next may ask for both again.
    again = refresh(client, rp, secret, narrowed.json["refresh_token"],
                    resource=[ES, PROFILE_API])
    assert access_claims(oidc, again.json)["aud"] == [ES, PROFILE_API]


def test_resources_survive_the_parked_request(app, client, servers, oidc):
    """Parked for consent, then approved: the code still carries both resources."""
    rp, secret = make_portal()
    oidc.sign_in(make_user())
    params = auth_params(rp, resource=[ES, PROFILE_API])
    consent = oidc.authorize(params)
    assert urlsplit(consent.headers["Location"]).path == "/authorize/consent"
    key = parse_qs(urlsplit(consent.headers["Location"]).query)["key"][0]
    answer = query_of(client.post("/authorize/consent", data={"key": key, "approve": "1"}))
    body = oidc.exchange(rp, secret, answer["code"], params).json
    assert access_claims(oidc, body)["aud"] == [ES, PROFILE_API]


def test_code_exchange_may_choose_one_of_the_granted(app, client, servers, oidc):
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp, resource=[ES, PROFILE_API])
    body = oidc.exchange(rp, secret, code, params, resource=ES).json
    assert access_claims(oidc, body)["aud"] == ES


def test_invalid_target_at_the_authorization_endpoint(app, client, servers, oidc):
    rp, _ = make_portal(first_party=True)
    oidc.sign_in(make_user())
    unknown = oidc.authorize(auth_params(rp, resource="https://unknown.example.ir"))
    assert unknown.status_code == 302
    answer = query_of(unknown)
    assert answer["error"] == "invalid_target" and answer["state"] == "st-1"
    assert answer["iss"] == "http://localhost"
    assert unknown.headers["Location"].startswith(rp.redirect_uris[0])
    # A disabled resource server is no target either.
    set_enabled(servers[0][0].client_id, False)
    disabled = oidc.authorize(auth_params(rp, resource=[PROFILE_API, ES]))
    assert query_of(disabled)["error"] == "invalid_target"


def test_invalid_target_at_the_token_endpoint(app, client, servers, oidc):
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp)
    refused = oidc.exchange(rp, secret, code, params, resource="https://nowhere.example.ir")
    assert refused.status_code == 400 and refused.json["error"] == "invalid_target"
    # Nothing was granted at authorization: any registered resource may be asked for here.
    body = oidc.exchange(rp, secret, code, params, resource=ES).json
    assert access_claims(oidc, body)["aud"] == ES


def test_refresh_cannot_widen(app, client, servers, oidc):
    rp, secret = make_portal(first_party=True)
    body = oidc.tokens_for(rp, secret, make_user(), resource=ES)
    wider = refresh(client, rp, secret, body["refresh_token"], resource=[ES, PROFILE_API])
    assert wider.status_code == 400 and wider.json["error"] == "invalid_target"
    # The refused refresh did not use up the refresh token.
    same = refresh(client, rp, secret, body["refresh_token"])
    assert same.status_code == 200 and access_claims(oidc, same.json)["aud"] == ES

    # A grant made without resources cannot be widened to one by a refresh.
    plain = oidc.tokens_for(rp, secret, make_user())
    widened = refresh(client, rp, secret, plain["refresh_token"], resource=ES)
    assert widened.status_code == 400 and widened.json["error"] == "invalid_target"


def test_client_credentials_with_resource(app, client, servers, oidc):
    service, secret = make_client(client_type="service", redirect_uris=[], scope="profile")
    response = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                 "resource": PROFILE_API},
                           auth=(service.client_id, secret))
    assert response.status_code == 200
    claims = access_claims(oidc, response.json)
    assert claims["aud"] == PROFILE_API and claims["sub"] == service.client_id
    bad = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                            "resource": [PROFILE_API, ES + "/other"]},
                      auth=(service.client_id, secret))
    assert bad.status_code == 400 and bad.json["error"] == "invalid_target"


def test_resource_server_introspects_tokens_for_it(app, client, servers, oidc):
    (rs, rs_secret), _ = servers
    rp, secret = make_portal(first_party=True)
    body = oidc.tokens_for(rp, secret, make_user(), resource=ES)
    answer = client.post("/oauth/introspect", data={"token": body["access_token"]},
                         auth=(rs.client_id, rs_secret)).json
    assert answer["active"] is True and answer["aud"] == ES
    assert answer["client_id"] == rp.client_id
    # Another portal still sees only its own tokens.
    other, other_secret = make_portal()
    denied = client.post("/oauth/introspect", data={"token": body["access_token"]},
                         auth=(other.client_id, other_secret)).json
    assert denied == {"active": False}


def test_resource_uri_registration_rules(app, servers):
    (rs, _), _ = servers
    assert client_summary(rs)["resource_uri"] == ES
    for uri, code in (("https://api.example.ir/#x", "redirect_uri_invalid"),
                      ("api.example.ir", "uri_not_web"),
                      ("http://api.example.ir", "redirect_uri_not_https")):
        with pytest.raises(DomainError) as caught:
            resource_server(uri)
        assert caught.value.code == code and caught.value.field == "resource_uri"
    with pytest.raises(DomainError) as caught:
        make_client(resource_uri="https://api.example.ir")
    assert caught.value.code == "resource_uri_needs_resource_server"
    with pytest.raises(DomainError) as caught:
        resource_server(ES)
    assert caught.value.code == "resource_uri_taken"
    loopback, _ = resource_server("http://127.0.0.1:8081/api")
    assert loopback.resource_uri == "http://127.0.0.1:8081/api"
    cleared, _ = update_client(rs.client_id, {"resource_uri": None})
    assert cleared.resource_uri is None


def test_cli_sets_the_resource_uri(app, runner):
    result = runner.invoke(args=["clients", "create", "--name", "سرور منابع", "--type",
                                 "service", "--resource-server", "--resource-uri", ES, "--json"])
    assert result.exit_code == 0, result.output
    client_id = next(line.split('"')[3] for line in result.output.splitlines()
                     if '"client_id"' in line)
    updated = runner.invoke(args=["clients", "update", client_id, "--resource-uri",
                                  PROFILE_API, "--json"])
    assert updated.exit_code == 0, updated.output
    assert PROFILE_API in updated.output
    bad = runner.invoke(args=["clients", "update", client_id, "--resource-uri",
                              "https://x.example.ir/#f"])
    assert bad.exit_code != 0


def test_admin_form_sets_the_resource_uri(client, clock, auth):
    auth.admin_session()
    form = {"name_fa": "سرور منابع", "client_type": "service", "scope": ["profile"],
            "id_token_signed_response_alg": "RS256", "subject_type": "public",
            "token_endpoint_auth_method": "", "resource_uri": ES}
    page = client.post("/admin/clients/new", data=form).get_data(as_text=True)
    assert message("resource_uri_needs_resource_server") in page
    assert db.session.scalar(select(Client)) is None
    client.post("/admin/clients/new", data={**form, "is_resource_server": "y"})
    stored = db.session.scalar(select(Client))
    assert stored.is_resource_server and stored.resource_uri == ES
    edit = client.get(f"/admin/clients/{stored.client_id}/edit").get_data(as_text=True)
    assert f'value="{ES}"' in edit
