"""JWT Secured Authorization Response Mode (JARM): the authorization response as a signed
JWT in ``response``, by query, fragment or form post; errors too."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from idp.errors import DomainError

from .factories import auth_params, make_portal, make_user

ISSUER = "http://localhost"


def verified(client, token: str):
    """Verify a JARM response with the published JWKS, as the portal would."""
    keys = KeySet.import_key_set(client.get("/jwks.json").json)
    return jwt.decode(token, keys, algorithms=["RS256", "ES256"])


def response_param(location: str, part: str = "query") -> str:
    parts = urlsplit(location)
    values = parse_qs(getattr(parts, part))
    assert set(values) == {"response"}, values  # nothing else travels in the clear
    return values["response"][0]


@pytest.mark.parametrize("mode", ["jwt", "query.jwt"])
def test_query_jwt_carries_the_code_in_a_signed_jwt(app, client, clock, oidc, mode):
    """response_mode=jwt (code's default: query) → ``?response=<JWT>`` with code, state,
    iss, aud, exp; the code inside is exchanged as usual."""
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    params = auth_params(rp, response_mode=mode)
    response = oidc.authorize(params)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(rp.redirect_uris[0] + "?response=")
    token = verified(client, response_param(location))
    assert token.header["alg"] == "RS256"
    claims = token.claims
    assert claims["iss"] == ISSUER and claims["aud"] == rp.client_id
    assert claims["state"] == "st-1"
    assert claims["exp"] == int(clock.now().timestamp()) + 600
    exchanged = oidc.exchange(rp, secret, claims["code"], params)
    assert exchanged.status_code == 200, exchanged.json


def test_fragment_jwt(app, client, oidc):
    """fragment.jwt puts ``response`` in the fragment, never in the query."""
    rp, _ = make_portal(first_party=True)
    oidc.sign_in(make_user())
    location = oidc.authorize(auth_params(rp, response_mode="fragment.jwt")).headers["Location"]
    assert urlsplit(location).query == ""
    assert "code" in verified(client, response_param(location, "fragment")).claims


def test_form_post_jwt_page_posts_the_response(app, client, oidc):
    """form_post.jwt answers a page whose form posts ``response`` to the redirect URI; its
    script is a file of ours (the CSP allows no inline script)."""
    rp, _ = make_portal(first_party=True)
    oidc.sign_in(make_user())
    response = oidc.authorize(auth_params(rp, response_mode="form_post.jwt"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'action="{rp.redirect_uris[0]}"' in page
    value = html.unescape(re.search(r'name="response" value="([^"]+)"', page)[1])
    assert "code" in verified(client, value).claims
    assert "/static/js/form_post.js" in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    script = client.get("/static/js/form_post.js")
    assert script.status_code == 200 and b"form-post" in script.data
    script.close()


def test_errors_are_signed_too(app, client, oidc):
    """An error answer (here access_denied at the consent page) is a JARM response too."""
    rp, _ = make_portal()
    oidc.sign_in(make_user())
    response = oidc.authorize(auth_params(rp, response_mode="query.jwt"))
    key = parse_qs(urlsplit(response.headers["Location"]).query)["key"][0]
    denied = client.post("/authorize/consent", data={"key": key, "deny": "1"})
    claims = verified(client, response_param(denied.headers["Location"])).claims
    assert claims["error"] == "access_denied" and claims["state"] == "st-1"
    assert claims["iss"] == ISSUER
    scope = oidc.authorize(auth_params(rp, response_mode="jwt", scope="openid nonsense"))
    assert verified(client, response_param(scope.headers["Location"])).claims["error"] \
        == "invalid_scope"


def test_registered_algorithm_and_the_fapi2_default(app, client, oidc):
    """``authorization_signed_response_alg`` picks the algorithm; FAPI 2.0 clients get ES256."""
    rp, _ = make_portal(first_party=True, authorization_signed_response_alg="ES256")
    key = ECKey.generate_key("P-256", {"alg": "ES256", "kid": "k"})
    fapi, _ = make_portal(first_party=True, profile="fapi2",
                          jwks={"keys": [key.as_dict(private=False)]})
    oidc.sign_in(make_user())
    for portal in (rp, fapi):
        location = oidc.authorize(auth_params(portal, response_mode="jwt")).headers["Location"]
        assert verified(client, response_param(location)).header["alg"] == "ES256"


def test_unknown_response_mode_is_a_plain_error(app, client, oidc):
    """A mode that is not offered is invalid_request, in the query (no JWT to speak of)."""
    rp, _ = make_portal(first_party=True)
    oidc.sign_in(make_user())
    answer = parse_qs(urlsplit(oidc.authorize(auth_params(
        rp, response_mode="web_message")).headers["Location"]).query)
    assert answer["error"] == ["invalid_request"]


def test_discovery_and_registration(client, app):
    """Discovery lists the modes and algorithms; registration accepts RS256/ES256 only."""
    document = client.get("/.well-known/openid-configuration").json
    assert document["response_modes_supported"] == ["query", "jwt", "query.jwt",
                                                    "fragment.jwt", "form_post.jwt"]
    assert document["authorization_signing_alg_values_supported"] == ["RS256", "ES256"]
    with pytest.raises(DomainError) as caught:
        make_portal(authorization_signed_response_alg="HS256")
    assert caught.value.code == "authorization_alg_invalid"
