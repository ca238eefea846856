"""The token endpoint as one unit of work: a refused request leaves nothing behind but
what must survive it (a replay's revocation)."""

from __future__ import annotations

from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AccessToken, AuditEvent, TokenFamily

from .factories import make_portal, make_user


def refresh(browser, auth, token, **extra):
    return browser.post("/oauth/token", auth=auth, data={
        "grant_type": "refresh_token", "refresh_token": token, **extra})


def count(model) -> int:
    db.session.rollback()  # read what is committed
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_refused_refresh_keeps_its_refresh_token(app, client, oidc):
    """A refresh refused after the token was found (a scope never granted, another
    client) rolls its rotation back: the holder can still refresh, and it is no reuse."""
    rp, secret = make_portal(first_party=True)
    other, other_secret = make_portal(first_party=True)
    auth, other_auth = (rp.client_id, secret), (other.client_id, other_secret)
    body = oidc.tokens_for(rp, secret, make_user())
    grants, accesses = count(TokenFamily), count(AccessToken)

    wider = refresh(client, auth, body["refresh_token"], scope="openid email")
    assert wider.status_code == 400 and wider.json["error"] == "invalid_scope"
    stolen = refresh(client, other_auth, body["refresh_token"])
    assert stolen.status_code == 400 and stolen.json["error"] == "invalid_grant"
    assert (count(TokenFamily), count(AccessToken)) == (grants, accesses)

    assert refresh(client, auth, body["refresh_token"]).status_code == 200
    assert db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.event == "refresh_token_reused")) is None


def test_a_reused_refresh_token_ends_the_grant_although_the_request_fails(app, client, oidc):
    """The revocation of a reused token is committed on its own (a failure record)."""
    rp, secret = make_portal(first_party=True)
    auth = (rp.client_id, secret)
    body = oidc.tokens_for(rp, secret, make_user())
    rotated = refresh(client, auth, body["refresh_token"]).json
    reuse = refresh(client, auth, body["refresh_token"])
    assert reuse.status_code == 400 and reuse.json["error"] == "invalid_grant"
    db.session.rollback()
    assert db.session.scalar(select(TokenFamily.revoked_at)) is not None
    assert refresh(client, auth, rotated["refresh_token"]).json["error"] == "invalid_grant"
