"""SQL statement budgets of the protocol hot paths (issue 12, STYLE.md §4.17).

Each test makes one request of its kind first (a warm app: pooled connection, cached
client), then counts the statements of the next one over the HTTP test client. Each
counted request runs in an app context of its own, so it gets a fresh database session
as in production (the test's session could answer an ORM ``get`` from its identity map).
A token request is one unit of work, so it also commits exactly once; a read commits
nothing. A failure lists the statements sent.
"""

from __future__ import annotations

import pytest
from flask import current_app
from joserfc.jwk import ECKey

from .factories import make_client, make_portal, make_user
from .statement_budget import assert_budget, commits, reading, statements
from .test_dpop import TOKEN_URL, USERINFO_URL, Holder

#: Statements per request, and commits per request (issue 12).
BUDGETS = {"client_credentials": (2, 1), "refresh": (4, 1), "code": (5, 1),
           "userinfo": (1, 0), "introspection": (1, 0),
           # DPoP (RFC 9449) adds the proof's jti, committed on its own (a failure record).
           "code_dpop": (6, 2), "userinfo_dpop": (2, 1)}


# Test data is read before counting: touching an expired ORM row (``rp.client_id`` after a
# commit) would count the test's own refresh.
def counted(call):
    """Make the request ``call`` in a fresh app context; return the response, the
    statements sent and the commits made."""
    with current_app.app_context(), statements() as seen, commits() as committed:
        response = call()
    return response, seen, committed


def measured(call):
    """Call once to warm the app, then again counting (see ``counted``)."""
    counted(call)
    return counted(call)


def check(response, seen, committed, budget: str) -> None:
    assert response.status_code == 200, response.get_data(as_text=True)
    most, commit_count = BUDGETS[budget]
    assert_budget(seen, most, budget)
    assert len(reading(seen, "clients")) <= 1, "the client row was read twice"
    assert len(committed) == commit_count


def test_client_credentials_budget(app, client):
    """A client-credentials token: the grant and its access token written, nothing read."""
    service, secret = make_client(client_type="service", redirect_uris=[], scope="profile")
    auth = (service.client_id, secret)

    def call():
        return client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=auth)

    check(*measured(call), "client_credentials")


def test_refresh_budget(app, client, oidc):
    """A refresh with rotation: rotate, read the grant and its citizen, write two tokens."""
    rp, secret = make_portal(first_party=True)
    current = [oidc.tokens_for(rp, secret, make_user())["refresh_token"]]
    auth = (rp.client_id, secret)

    def call():
        response = client.post("/oauth/token", auth=auth, data={
            "grant_type": "refresh_token", "refresh_token": current[0]})
        current[0] = response.json["refresh_token"]
        return response

    check(*measured(call), "refresh")


def test_userinfo_budget(app, client, oidc):
    """UserInfo: one select of the token, its grant and the citizen's claims."""
    rp, secret = make_portal(first_party=True)
    access = oidc.tokens_for(rp, secret, make_user())["access_token"]

    def call():
        return client.get("/userinfo", headers={"Authorization": f"Bearer {access}"})

    response, seen, committed = measured(call)
    check(response, seen, committed, "userinfo")
    assert response.json["given_name"]


@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_introspection_budget(app, client, kind, oidc):
    """Introspection of an access or a refresh token by its client: one select."""
    rp, secret = make_portal(first_party=True)
    token = oidc.tokens_for(rp, secret, make_user())[kind]
    auth = (rp.client_id, secret)

    def call():
        return client.post("/oauth/introspect", data={"token": token}, auth=auth)

    response, seen, committed = measured(call)
    check(response, seen, committed, "introspection")
    assert response.json["active"] is True


def test_code_exchange_budget(app, client, oidc):
    """A code exchange: find the code with its session and citizen, use it, write the grant."""
    rp, secret = make_portal(first_party=True)
    auth, redirect_uri = (rp.client_id, secret), rp.redirect_uris[0]
    oidc.sign_in(make_user())

    def call():
        code, params = oidc.get_code(rp)
        return counted(lambda: client.post("/oauth/token", auth=auth, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": params["_verifier"]}))

    call()
    response, seen, committed = call()
    check(response, seen, committed, "code")
    assert response.json["id_token"] and response.json["refresh_token"]


def test_dpop_code_exchange_budget(app, client, clock, oidc):
    """A code exchange with a DPoP proof: the Bearer statements plus the jti insert."""
    holder = Holder(ECKey.generate_key("P-256"), "ES256")
    rp, secret = make_portal(first_party=True)
    auth, redirect_uri = (rp.client_id, secret), rp.redirect_uris[0]
    oidc.sign_in(make_user())

    def call():
        code, params = oidc.get_code(rp)
        proof = holder.proof(clock, "POST", TOKEN_URL)
        return counted(lambda: client.post("/oauth/token", auth=auth, headers={"DPoP": proof},
                                           data={"grant_type": "authorization_code",
                                                 "code": code, "redirect_uri": redirect_uri,
                                                 "code_verifier": params["_verifier"]}))

    call()
    response, seen, committed = call()
    check(response, seen, committed, "code_dpop")
    assert response.json["token_type"] == "DPoP"
    assert len([s for s in seen if s.startswith("INSERT INTO used_jtis")]) == 1


def test_dpop_userinfo_budget(app, client, clock, oidc):
    """UserInfo with a DPoP token: the Bearer select plus the proof's jti insert."""
    holder = Holder(ECKey.generate_key("P-256"), "ES256")
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp)
    access = client.post("/oauth/token", auth=(rp.client_id, secret),
                         headers={"DPoP": holder.proof(clock, "POST", TOKEN_URL)},
                         data={"grant_type": "authorization_code", "code": code,
                               "redirect_uri": rp.redirect_uris[0],
                               "code_verifier": params["_verifier"]}).json["access_token"]

    def call():
        proof = holder.proof(clock, "GET", USERINFO_URL, token=access)
        return client.get("/userinfo", headers={"Authorization": f"DPoP {access}",
                                                "DPoP": proof})

    response, seen, committed = measured(call)
    check(response, seen, committed, "userinfo_dpop")
