"""Pushed authorization requests (RFC 9126): the ``/par`` endpoint and ``request_uri`` at
``/authorize``."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import PushedAuthorizationRequest
from idp.oidc import par
from idp.oidc.storage import find_client
from idp.security.hashing import sha256

from .factories import auth_params, make_client, make_portal, make_user, query_of

ISSUER = "http://localhost"
URN = "urn:ietf:params:oauth:request_uri:"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_KEY = RSAKey.generate_key(2048, {"kid": "rp-1"})


def sent(params: dict) -> dict:
    return {k: v for k, v in params.items() if not k.startswith("_") and v is not None}


def push(http, rp, secret, params: dict | None = None, **extra):
    """POST an authorization request to /par, authenticated with client_secret_basic
    (``secret``) or as a public client (``None``)."""
    params = params if params is not None else auth_params(rp, **extra)
    data = sent(params)
    if secret is None:
        data["client_id"] = rp.client_id
    return http.post("/par", data=data, auth=(rp.client_id, secret) if secret else None)


def authorize_pushed(http, rp, request_uri: str, **outer):
    return http.get("/authorize", query_string={"client_id": rp.client_id,
                                                "request_uri": request_uri, **outer})


def pushed_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(PushedAuthorizationRequest))


def assertion(rp, clock, jti: str, audience: str = ISSUER + "/par") -> str:
    now = int(clock.now().timestamp())
    return jwt.encode({"alg": "RS256", "kid": "rp-1"},
                      {"iss": rp.client_id, "sub": rp.client_id, "aud": audience, "jti": jti,
                       "iat": now, "exp": now + 60}, CLIENT_KEY)


def json_error(response, status: int, error: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert "Location" not in response.headers  # RFC 9126 §2.3: never a redirect
    assert response.json["error"] == error, response.json


# -- happy paths -------------------------------------------------------------------------
def test_push_then_authorize_then_token_with_a_client_secret(app, client, oidc):
    """A confidential client pushes, the browser brings request_uri, the code is redeemed."""
    rp, secret = make_portal(first_party=True)
    params = auth_params(rp, nonce="pushed-nonce")
    response = push(client, rp, secret, params)
    assert response.status_code == 201, response.json
    assert response.json["request_uri"].startswith(URN)
    assert response.json["expires_in"] == 60
    assert response.headers["Cache-Control"] == "no-store"
    oidc.sign_in(make_user())
    answer = query_of(authorize_pushed(client, rp, response.json["request_uri"]))
    assert answer["state"] == "st-1" and answer["iss"] == ISSUER
    tokens = oidc.exchange(rp, secret, answer["code"], params)
    assert tokens.status_code == 200, tokens.json
    assert oidc.decode(tokens.json["id_token"]).claims["nonce"] == "pushed-nonce"


def test_push_with_private_key_jwt(app, client, oidc, clock):
    """private_key_jwt authenticates at /par (audience: the PAR endpoint) as at the token
    endpoint."""
    rp, _ = make_portal(first_party=True, token_endpoint_auth_method="private_key_jwt",
                        jwks={"keys": [CLIENT_KEY.as_dict(private=False)]})
    params = auth_params(rp)
    response = client.post("/par", data={
        **sent(params), "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(rp, clock, "par-1")})
    assert response.status_code == 201, response.json
    oidc.sign_in(make_user())
    code = query_of(authorize_pushed(client, rp, response.json["request_uri"]))["code"]
    tokens = oidc.exchange(rp, None, code, params, client_id=rp.client_id,
                           client_assertion_type=ASSERTION_TYPE,
                           client_assertion=assertion(rp, clock, "token-1",
                                                      ISSUER + "/oauth/token"))
    assert tokens.status_code == 200, tokens.json


def test_a_replayed_client_assertion_is_refused_at_par(app, client, clock):
    """A client assertion's jti is accepted once, here as at the token endpoint."""
    rp, _ = make_portal(first_party=True, token_endpoint_auth_method="private_key_jwt",
                        jwks={"keys": [CLIENT_KEY.as_dict(private=False)]})
    data = {**sent(auth_params(rp)), "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion(rp, clock, "once")}
    assert client.post("/par", data=data).status_code == 201
    json_error(client.post("/par", data=data), 400, "invalid_client")  # as at /oauth/token
    assert pushed_rows() == 1


def test_push_by_a_public_client_with_pkce(app, client, oidc):
    """A public client sends only its client_id; PKCE proves the code exchange."""
    rp, _ = make_client(client_type="public")
    params = auth_params(rp)
    response = push(client, rp, None, params)
    assert response.status_code == 201, response.json
    oidc.sign_in(make_user())
    response = authorize_pushed(client, rp, response.json["request_uri"])
    # Not first-party: the consent round trip carries the pushed request.
    consent = client.get(response.headers["Location"])
    key = consent.get_data(as_text=True).split('name="key" type="hidden" value="')[1] \
        .split('"')[0]
    answer = query_of(client.post("/authorize/consent", data={"key": key, "approve": "1"}))
    tokens = oidc.exchange(rp, None, answer["code"], params)
    assert tokens.status_code == 200, tokens.json


def test_only_the_pushed_parameters_count(app, client, oidc):
    """RFC 9126 §4: the query's other parameters are ignored at /authorize."""
    rp, secret = make_portal(first_party=True, redirect_uris=["https://rp.example.ir/cb",
                                                             "https://rp.example.ir/other"])
    params = auth_params(rp, scope="openid", state="pushed")
    request_uri = push(client, rp, secret, params).json["request_uri"]
    oidc.sign_in(make_user())
    response = authorize_pushed(client, rp, request_uri, scope="openid profile phone",
                                state="outer", redirect_uri="https://rp.example.ir/other")
    assert response.headers["Location"].startswith("https://rp.example.ir/cb?")
    answer = query_of(response)
    assert answer["state"] == "pushed"
    tokens = oidc.exchange(rp, secret, answer["code"], params)
    assert tokens.json["scope"] == "openid"


def test_a_pushed_request_survives_the_sign_in_round_trip(app, client, oidc):
    """/authorize consumes the row at once; the parked request carries it through sign-in."""
    rp, secret = make_portal(first_party=True)
    request_uri = push(client, rp, secret).json["request_uri"]
    response = authorize_pushed(client, rp, request_uri)
    assert "/login" in response.headers["Location"]
    assert pushed_rows() == 0  # single use: taken by the first /authorize
    next_url = parse_qs(urlsplit(response.headers["Location"]).query)["next"][0]
    oidc.sign_in(make_user())
    assert "code" in query_of(client.get(next_url))


def test_only_a_hash_of_the_request_uri_is_stored(app, client):
    rp, secret = make_portal(first_party=True)
    request_uri = push(client, rp, secret).json["request_uri"]
    row = db.session.scalars(select(PushedAuthorizationRequest)).one()
    assert row.key_hash == sha256(request_uri[len(URN):]) and row.client_id == rp.client_id


# -- request_uri errors at /authorize ----------------------------------------------------
def assert_request_uri_page(response) -> None:
    assert response.status_code == 400 and "Location" not in response.headers
    assert "پیش‌تر به کار رفته" in response.get_data(as_text=True)


def test_an_expired_request_uri_is_refused(app, client, oidc, clock):
    rp, secret = make_portal(first_party=True)
    request_uri = push(client, rp, secret).json["request_uri"]
    oidc.sign_in(make_user())
    clock.advance(61)
    assert_request_uri_page(authorize_pushed(client, rp, request_uri))


def test_par_expires_in_follows_the_setting(app, client, configure, clock):
    configure(PAR_EXPIRES_IN=300)
    rp, secret = make_portal(first_party=True)
    response = push(client, rp, secret)
    assert response.json["expires_in"] == 300
    clock.advance(299)
    assert "Location" in authorize_pushed(client, rp, response.json["request_uri"]).headers


def test_a_request_uri_is_single_use(app, client, oidc):
    rp, secret = make_portal(first_party=True)
    request_uri = push(client, rp, secret).json["request_uri"]
    oidc.sign_in(make_user())
    assert "code" in query_of(authorize_pushed(client, rp, request_uri))
    assert_request_uri_page(authorize_pushed(client, rp, request_uri))


def test_another_clients_request_uri_is_refused(app, client, oidc):
    """A request_uri is bound to the client that pushed it; a wrong client_id does not
    use it up."""
    rp, secret = make_portal(first_party=True)
    other, _ = make_portal(first_party=True)
    request_uri = push(client, rp, secret).json["request_uri"]
    oidc.sign_in(make_user())
    assert_request_uri_page(authorize_pushed(client, other, request_uri))
    assert "code" in query_of(authorize_pushed(client, rp, request_uri))


@pytest.mark.parametrize("request_uri", [URN + "unknown", URN])
def test_an_unknown_request_uri_is_refused(app, client, request_uri):
    rp, _ = make_portal(first_party=True)
    assert_request_uri_page(authorize_pushed(client, rp, request_uri))


def test_nul_in_the_client_id_of_a_pushed_request_is_a_page(app, client):
    response = client.get("/authorize", query_string={"client_id": "a\x00",
                                                      "request_uri": URN + "x"})
    assert response.status_code == 400 and "Location" not in response.headers


def test_a_request_uri_by_reference_is_not_supported(app, client, oidc):
    """Only this server's PAR URNs: a request object by reference is never fetched."""
    rp, _ = make_portal(first_party=True)
    response = authorize_pushed(client, rp, "https://rp.example.ir/request.jwt",
                                redirect_uri="https://rp.example.ir/cb", state="s")
    assert query_of(response)["error"] == "request_uri_not_supported"


# -- errors at /par ------------------------------------------------------------------------
def test_an_unauthenticated_push_is_refused(app, client):
    rp, _ = make_portal(first_party=True)
    json_error(client.post("/par", data=sent(auth_params(rp))), 401, "invalid_client")
    assert pushed_rows() == 0


def test_a_wrong_client_secret_is_refused(app, client):
    rp, _ = make_portal(first_party=True)
    json_error(push(client, rp, "not-the-secret"), 401, "invalid_client")
    json_error(client.post("/par", data={**sent(auth_params(rp)), "client_id": rp.client_id,
                                         "client_secret": "wrong"}), 401, "invalid_client")
    assert pushed_rows() == 0


def test_a_confidential_client_cannot_push_as_public(app, client):
    rp, _ = make_portal(first_party=True)
    json_error(push(client, rp, None), 401, "invalid_client")


@pytest.mark.parametrize(("extra", "error"), [
    ({"redirect_uri": "https://evil.example.ir/cb"}, "invalid_request"),
    ({"redirect_uri": None}, "invalid_request"),
    ({"request_uri": URN + "x"}, "invalid_request"),
    ({"scope": "openid admin"}, "invalid_scope"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"max_age": "-1"}, "invalid_request"),
    ({"prompt": "none login"}, "invalid_request"),
    ({"claims": "{not json"}, "invalid_request"),
    ({"response_mode": "fragment"}, "invalid_request"),
    ({"client_id": "someone-else"}, "invalid_request"),
])
def test_a_bad_pushed_request_is_a_json_error(app, client, extra, error):
    """The pushed parameters are checked as /authorize checks them; errors are JSON."""
    rp, secret = make_portal(first_party=True)
    json_error(push(client, rp, secret, **extra), 400, error)
    assert pushed_rows() == 0


def test_a_public_client_must_push_a_code_challenge(app, client):
    rp, _ = make_client(client_type="public")
    params = auth_params(rp, code_challenge=None, code_challenge_method=None)
    json_error(push(client, rp, None, params), 400, "invalid_request")


# -- requiring PAR -------------------------------------------------------------------------
def test_a_client_requiring_par_is_refused_at_plain_authorize(app, client, oidc):
    rp, secret = make_portal(first_party=True, require_pushed_authorization_requests=True)
    oidc.sign_in(make_user())
    answer = query_of(oidc.authorize(auth_params(rp)))
    assert answer["error"] == "invalid_request" and answer["state"] == "st-1"
    request_uri = push(client, rp, secret).json["request_uri"]
    assert "code" in query_of(authorize_pushed(client, rp, request_uri))


def test_a_client_requiring_par_without_a_registered_redirect_gets_a_page(app, client):
    rp, _ = make_portal(first_party=True, require_pushed_authorization_requests=True)
    response = client.get("/authorize", query_string={"client_id": rp.client_id,
                                                      "response_type": "code"})
    assert response.status_code == 400 and "Location" not in response.headers


def test_require_par_setting_applies_to_every_client(app, client, configure):
    rp, _ = make_portal(first_party=True)
    assert par.par_required(find_client(rp.client_id)) is False
    configure(REQUIRE_PAR=True)
    assert par.par_required(find_client(rp.client_id)) is True
    assert query_of(client.get("/authorize", query_string=sent(auth_params(rp))))["error"] \
        == "invalid_request"


# -- discovery -----------------------------------------------------------------------------
def test_discovery_names_the_par_endpoint(client):
    meta = client.get("/.well-known/openid-configuration").json
    assert meta["pushed_authorization_request_endpoint"] == ISSUER + "/par"
    assert "require_pushed_authorization_requests" not in meta  # only when REQUIRE_PAR
    assert meta["request_parameter_supported"] is True
    assert meta["request_uri_parameter_supported"] is False
    assert meta["request_object_signing_alg_values_supported"] == ["RS256", "PS256", "ES256"]


def test_discovery_says_when_par_is_required_everywhere(make_app):
    other = make_app(REQUIRE_PAR=True)
    meta = other.test_client().get("/.well-known/openid-configuration").json
    assert meta["require_pushed_authorization_requests"] is True


# -- registering the client settings: admin pages, CLI, dynamic registration ------------------
@pytest.fixture
def dcr_app(make_app):
    return make_app(DCR_ENABLED=True)


def test_the_admin_form_sets_par_and_the_request_object_alg(app, client, auth):
    from idp.models import Client

    from .test_admin_clients_web import FORM

    auth.admin_session()
    jwks = json.dumps({"keys": [CLIENT_KEY.as_dict(private=False)]})
    response = client.post("/admin/clients/new", data={
        **FORM, "require_pushed_authorization_requests": "y", "request_object_signing_alg": "PS256",
        "jwks": jwks})
    assert response.status_code == 200, response.get_data(as_text=True)
    stored = db.session.scalar(select(Client))
    assert stored.require_pushed_authorization_requests is True
    assert stored.request_object_signing_alg == "PS256"
    page = client.get(f"/admin/clients/{stored.client_id}/edit").get_data(as_text=True)
    assert 'value="PS256" selected' in page or "selected value=\"PS256\"" in page
    # Unset both from the form; an unsigned choice is stored as "none required" (NULL).
    response = client.post(f"/admin/clients/{stored.client_id}/edit",
                           data={**FORM, "request_object_signing_alg": "", "jwks": jwks})
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Client, stored.id)
    assert stored.require_pushed_authorization_requests is False
    assert stored.request_object_signing_alg is None


def test_the_cli_sets_par_and_the_request_object_alg(app, runner, tmp_path):
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps({"keys": [CLIENT_KEY.as_dict(private=False)]}))
    result = runner.invoke(args=["clients", "create", "--json", "--name", "پورتال",
                                 "--redirect-uri", "https://rp.example.ir/cb", "--require-par",
                                 "--jwks", str(keys), "--request-object-alg", "ES256"])
    assert result.exit_code == 0, result.output
    made = json.loads(result.output)
    assert made["require_pushed_authorization_requests"] is True
    assert made["request_object_signing_alg"] == "ES256"
    result = runner.invoke(args=["clients", "update", made["client_id"], "--json",
                                 "--no-require-par", "--request-object-alg", ""])
    assert result.exit_code == 0, result.output
    changed = json.loads(result.output)
    assert changed["require_pushed_authorization_requests"] is False
    assert changed["request_object_signing_alg"] is None
    result = runner.invoke(args=["clients", "update", made["client_id"],
                                 "--request-object-alg", "none"])
    assert result.exit_code != 0 and "request_object_alg_invalid" in result.output


def test_dynamic_registration_reads_and_updates_the_par_metadata(dcr_app):
    from idp.clients import dcr

    http = dcr_app.test_client()
    with dcr_app.app_context():
        token = dcr.issue_initial_token("automation", ttl=3600, max_uses=3)[1]
    metadata = {"client_name": "Portal", "redirect_uris": ["https://portal.example.ir/cb"],
                "require_pushed_authorization_requests": True,
                "request_object_signing_alg": "RS256",
                "jwks": {"keys": [CLIENT_KEY.as_dict(private=False)]}}
    response = http.post("/connect/register", json=metadata,
                         headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["require_pushed_authorization_requests"] is True
    assert body["request_object_signing_alg"] == "RS256"
    manage = {"Authorization": f"Bearer {body['registration_access_token']}"}
    read = http.get(f"/connect/register/{body['client_id']}", headers=manage)
    assert read.json["require_pushed_authorization_requests"] is True
    manage = {"Authorization": f"Bearer {read.json['registration_access_token']}"}
    # RFC 7592 §2.2: omitted members are reset.
    updated = http.put(f"/connect/register/{body['client_id']}", headers=manage, json={
        "client_id": body["client_id"], "client_name": "Portal",
        "redirect_uris": ["https://portal.example.ir/cb"]})
    assert updated.status_code == 200, updated.json
    assert updated.json["require_pushed_authorization_requests"] is False
    assert "request_object_signing_alg" not in updated.json
    refused = http.post("/connect/register", headers={"Authorization": f"Bearer {token}"},
                        json={**metadata, "require_pushed_authorization_requests": "yes"})
    assert refused.status_code == 400
    assert refused.json["error"] == "invalid_client_metadata"
    unsigned = http.post("/connect/register", headers={"Authorization": f"Bearer {token}"},
                         json={**metadata, "request_object_signing_alg": "none"})
    assert unsigned.status_code == 400
    assert unsigned.json["error"] == "invalid_client_metadata"
