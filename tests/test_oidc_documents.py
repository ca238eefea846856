"""Discovery and JWKS served as prebuilt bytes by the WSGI layer in front of Flask."""

from __future__ import annotations

import json

import pytest
from flask import request_started

from idp.oidc.keys import KeyStore

DISCOVERY = "/.well-known/openid-configuration"
JWKS = "/jwks.json"
DOCUMENTS = [(DISCOVERY, "application/json"), (JWKS, "application/jwk-set+json")]


def kids(response):
    return {key["kid"] for key in json.loads(response.data)["keys"]}


def test_documents_are_answered_before_flask(app, client):
    """GET and HEAD of both documents never start a Flask request; other paths do."""
    started = []

    def record(sender, **extra):
        started.append(sender)

    with request_started.connected_to(record, app):
        for path, _ in DOCUMENTS:
            assert client.get(path).status_code == 200
            assert client.head(path).status_code == 200
        assert started == []
        client.get("/healthz")
    assert started == [app]


@pytest.mark.parametrize(("path", "content_type"), DOCUMENTS)
def test_documents_keep_their_headers(client, path, content_type):
    """Content type, public caching, CORS and the security headers, but no no-store."""
    response = client.get(path)
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Pragma" not in response.headers and "Set-Cookie" not in response.headers
    assert int(response.headers["Content-Length"]) == len(response.data)


@pytest.mark.parametrize(("path", "content_type"), DOCUMENTS)
def test_if_none_match_answers_304(client, path, content_type):
    """A matching ETag (strong, weak or in a list) gets 304 without a body; others get 200."""
    etag = client.get(path).headers["ETag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(path, headers={"If-None-Match": header})
        assert again.status_code == 304 and again.data == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == "public, max-age=300"
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize(("path", "content_type"), DOCUMENTS)
def test_head_sends_the_headers_without_the_body(client, path, content_type):
    full = client.get(path)
    head = client.head(path)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len(full.data))
    assert head.headers["ETag"] == full.headers["ETag"]
    assert head.headers["Content-Type"] == content_type


def test_language_does_not_change_the_documents(client):
    """?lang= and the language cookie neither change the body nor set a cookie."""
    client.set_cookie("idp_lang", "fa")
    for path, _ in DOCUMENTS:
        plain = client.get(path)
        english = client.get(f"{path}?lang=en")
        assert english.data == plain.data
        assert "Set-Cookie" not in english.headers


def test_other_methods_reach_flask(client):
    """POST is refused by Flask's routing and the CORS preflight still answers."""
    assert client.post(JWKS).status_code == 405
    preflight = client.options(DISCOVERY)
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"


def test_https_issuer_adds_hsts(make_app):
    response = make_app(ISSUER="https://login.example.ir").test_client().get(DISCOVERY)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    assert json.loads(response.data)["issuer"] == "https://login.example.ir"


def test_jwks_follows_flask_keys_rotate(client, runner):
    """`flask keys rotate` publishes the new key at once, with a new ETag; no restart."""
    before = client.get(JWKS)
    result = runner.invoke(args=["keys", "rotate", "--alg", "ES256", "--delay", "3600"])
    assert result.exit_code == 0, result.output
    after = client.get(JWKS, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert kids(before) < kids(after) and len(kids(after)) == len(kids(before)) + 1


def test_jwks_follows_another_process(app, client, clock):
    """A rotation written by another instance sharing KEYS_DIR is served at once."""
    before = kids(client.get(JWKS))
    other = KeyStore(app.config["KEYS_DIR"])
    created = other.rotate(clock.now(), ["RS256"], delay=0)
    assert kids(client.get(JWKS)) == before | {created[0].kid}


def test_jwks_drops_a_retired_key_when_its_time_comes(app, client, runner, clock):
    """The published set follows the app clock, not only the manifest."""
    store = app.extensions["idp.keys"]
    old = store.signing_key("ES256", clock.now()).kid
    runner.invoke(args=["keys", "rotate", "--alg", "ES256", "--delay", "0"])
    assert runner.invoke(args=["keys", "retire", "--", old]).exit_code == 0
    assert old in kids(client.get(JWKS))
    clock.advance(max(app.config["OIDC_ID_TOKEN_TTL"], app.config["OIDC_ACCESS_TOKEN_TTL"]) + 1)
    assert old not in kids(client.get(JWKS))
