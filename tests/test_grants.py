"""Revocation in ``idp.grants``: each rule ends exactly the grants it names, with their tokens."""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import select, update

from idp import grants
from idp.clients import cache
from idp.extensions import db, now
from idp.grants import tokens
from idp.models import AccessToken, AuditEvent, AuthorizationCode, TokenFamily

from .factories import make_client, make_user

_serial = itertools.count(1)


def issue(client, user=None, *, sid=None, scope="openid profile", code=None) -> dict:
    """Open a grant with one access and one refresh token; return what a caller holds."""
    family = tokens.start_family(client_id=client.client_id, user_id=user and user.id,
                                 scope=scope, code=code)
    if sid:
        db.session.execute(update(TokenFamily).where(TokenFamily.id == family.id)
                           .values(sid=sid))
    jti, refresh = f"jti-{next(_serial)}", tokens.new_refresh_token()
    tokens.record_tokens(family, {"jti": jti, "exp": int(now().timestamp()) + 600}, refresh, 3600)
    db.session.commit()
    return {"family": family.id, "jti": jti, "refresh": refresh}


def live(grant: dict) -> tuple[bool, bool]:
    """Whether the grant's refresh token and its access token may still be used."""
    db.session.expire_all()
    _, refresh_grant, _ = tokens.find_refresh(grant["refresh"])
    access, access_grant, user = tokens.access_token_state(grant["jti"])
    client = cache.find(access_grant.client_id)
    return (refresh_grant.revoked_at is None,
            tokens.token_is_live(access, access_grant, user, client))


def code_for(client, user) -> AuthorizationCode:
    row = AuthorizationCode(code_hash=f"{next(_serial):064d}", client_id=client.client_id,
                            user_id=user.id, redirect_uri="https://rp.example.ir/cb",
                            scope="openid", auth_time=now(), amr=["pwd"],
                            expires_at=now() + timedelta(minutes=1))
    db.session.add(row)
    db.session.flush()
    return row


def test_revoke_family_ends_its_refresh_and_access_tokens_only(app):
    """One grant ends; another grant of the same user and client lives on."""
    client, _ = make_client()
    user = make_user()
    first, second = issue(client, user), issue(client, user)
    assert grants.revoke_family(first["family"], "refresh_token_revoked") == 1
    db.session.commit()
    assert live(first) == (False, False)
    assert live(second) == (True, True)
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.event == "refresh_token_revoked"))
    assert (event.user_id, event.client_id) == (user.id, client.client_id)
    revoked = db.session.scalar(select(AccessToken).where(AccessToken.jti == first["jti"]))
    assert revoked.revoked_at == now()


def test_revoking_again_counts_nothing_and_keeps_the_first_time(app, clock):
    """An ended grant is not ended twice: the count is 0 and ``revoked_at`` stays."""
    client, _ = make_client()
    grant = issue(client, make_user())
    grants.revoke_family(grant["family"])
    db.session.commit()
    first = now()
    clock.advance(60)
    assert grants.revoke_family(grant["family"]) == 0
    db.session.commit()
    assert db.session.get(TokenFamily, grant["family"]).revoked_at == first


def test_revocation_commits_with_the_caller(app):
    """Nothing is written until the caller commits: a rollback undoes the revocation."""
    client, _ = make_client()
    user = make_user()
    grant = issue(client, user)
    assert grants.revoke_for_user(user.id) == 1
    db.session.rollback()
    assert live(grant) == (True, True)


def test_revoke_for_user_ends_every_grant_of_that_user(app):
    """Offline grants too, at every client; other citizens' grants live on."""
    portal, _ = make_client()
    other_portal, _ = make_client(scope="openid offline_access")
    user, neighbour = make_user(), make_user()
    mine = [issue(portal, user, sid="s1"),
            issue(other_portal, user, scope="openid offline_access")]
    theirs = issue(portal, neighbour, sid="s2")
    assert grants.revoke_for_user(user.id) == 2
    db.session.commit()
    assert [live(g) for g in mine] == [(False, False)] * 2
    assert live(theirs) == (True, True)


def test_revoke_for_user_with_keep_sid_keeps_that_sessions_grants(app):
    """Grants of the kept session live; other sessions' and session-less grants end."""
    client, _ = make_client()
    user = make_user()
    kept, other, without = (issue(client, user, sid="kept"), issue(client, user, sid="other"),
                            issue(client, user))
    assert grants.revoke_for_user(user.id, keep_sid="kept") == 2
    db.session.commit()
    assert live(kept) == (True, True)
    assert live(other) == live(without) == (False, False)


def test_revoke_for_session_keeps_offline_access_grants(app):
    """Grants of the ended sessions end, unless made for offline use."""
    client, _ = make_client(scope="openid profile offline_access")
    user = make_user()
    online = issue(client, user, sid="ended")
    offline = issue(client, user, sid="ended", scope="openid offline_access")
    elsewhere = issue(client, user, sid="still-open")
    assert grants.revoke_for_session(["ended"]) == 1
    db.session.commit()
    assert live(online) == (False, False)
    assert live(offline) == live(elsewhere) == (True, True)
    assert grants.revoke_for_session([]) == 0


def test_revoke_for_client_ends_all_grants_of_a_client(app):
    """Every citizen's grants and the client-credentials grants of that client end."""
    client, _ = make_client()
    service, _ = make_client(client_type="service", redirect_uris=[], scope="profile")
    other, _ = make_client()
    first, second = make_user(), make_user()
    ended = [issue(client, first), issue(client, second, sid="s")]
    kept = [issue(other, first), issue(service)]
    assert grants.revoke_for_client(client.client_id) == 2
    db.session.commit()
    assert [live(g) for g in ended] == [(False, False)] * 2
    assert [live(g) for g in kept] == [(True, True)] * 2
    assert grants.revoke_for_client(service.client_id) == 1
    db.session.commit()
    assert live(kept[1]) == (False, False)


def test_revoke_for_client_and_user_ends_only_that_users_grants(app):
    """A withdrawn consent ends the user's grants to that client, nobody else's."""
    client, _ = make_client()
    other, _ = make_client()
    user, neighbour = make_user(), make_user()
    ended = issue(client, user)
    kept = [issue(client, neighbour), issue(other, user)]
    assert grants.revoke_for_client(client.client_id, user_id=user.id) == 1
    db.session.commit()
    assert live(ended) == (False, False)
    assert [live(g) for g in kept] == [(True, True)] * 2


def test_revoke_for_code_ends_the_grants_of_that_code(app):
    """A replayed code ends what it issued; a grant from another code lives on."""
    client, _ = make_client()
    user = make_user()
    replayed, fresh = code_for(client, user), code_for(client, user)
    ended, kept = issue(client, user, code=replayed), issue(client, user, code=fresh)
    assert grants.revoke_for_code(replayed.id) == 1
    db.session.commit()
    assert live(ended) == (False, False)
    assert live(kept) == (True, True)


def test_revoke_access_token_keeps_the_grant(app):
    """RFC 7009 for an access token: that token ends, its refresh token still works."""
    client, _ = make_client()
    grant = issue(client, make_user())
    assert grants.revoke_access_token(grant["jti"]) is True
    assert grants.revoke_access_token(grant["jti"]) is False
    db.session.commit()
    assert live(grant) == (True, False)
