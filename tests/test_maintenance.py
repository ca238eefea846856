"""``flask maintenance purge`` removes only rows past their life, and old audit events."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from idp.extensions import db, now
from idp.models import (
    AccessToken,
    AuditEvent,
    AuthorizationCode,
    BackchannelLogoutJob,
    CaptchaChallenge,
    InitialAccessToken,
    LoginThrottle,
    OtpChallenge,
    OtpThrottle,
    PendingAuthorization,
    PushedAuthorizationRequest,
    RecoveryRequest,
    RefreshToken,
    RegistrationDraft,
    SsoSession,
    TokenFamily,
    UsedJti,
    WebauthnChallenge,
)

from .factories import make_client, make_user

HOUR = timedelta(hours=1)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def seed(clock):
    """Two rows of every kind: one past its life ("old…") and one still alive."""
    user = make_user()
    client, _ = make_client(client_id="rp")
    t = now()
    rows = []
    for tag, expires in (("old", t - HOUR), ("live", t + HOUR)):
        rows += [
            AuthorizationCode(code_hash=f"{tag}-code", client_id="rp", user_id=user.id,
                              redirect_uri="https://rp.example.ir/cb", scope="openid",
                              auth_time=t, expires_at=expires),
            RegistrationDraft(key_hash=f"{tag}-draft", id_type="national", expires_at=expires),
            PendingAuthorization(key_hash=f"{tag}-pending", client_id="rp", params={},
                                 expires_at=expires),
            PushedAuthorizationRequest(key_hash=f"{tag}-par", client_id="rp", params={},
                                       expires_at=expires),
            SsoSession(id_hash=f"{tag}-sso", sid=f"{tag}-sid", user_id=user.id, auth_time=t,
                       expires_at=expires, last_seen_at=t),
            UsedJti(client_id="rp", jti=f"{tag}-jti", expires_at=expires),
            InitialAccessToken(token_hash=f"{tag}-iat", label=tag, max_uses=1,
                               expires_at=expires),
        ]
    # OTP challenges stay a day (the hourly send limit counts them).
    rows += [
        OtpChallenge(purpose="recovery", mobile=user.mobile, subject="1", code_hmac="x",
                     expires_at=t - timedelta(days=2), resend_after=t,
                     created_at=t - timedelta(days=2)),
        OtpChallenge(purpose="recovery", mobile=user.mobile, subject="2", code_hmac="x",
                     expires_at=t - HOUR, resend_after=t, created_at=t - HOUR - HOUR),
        OtpChallenge(purpose="recovery", mobile=user.mobile, subject="3", code_hmac="x",
                     expires_at=t + HOUR, resend_after=t, created_at=t),
    ]
    # Send throttles and recovery requests: likewise kept a day.
    rows += [
        OtpThrottle(purpose="registration", mobile="09120000001",
                    next_send_at=t - timedelta(days=2)),
        OtpThrottle(purpose="registration", mobile="09120000002", next_send_at=t - HOUR),
        LoginThrottle(code_hash="old", failures=2, updated_at=t - timedelta(days=2)),
        LoginThrottle(code_hash="recent", failures=2, updated_at=t - HOUR),
        RecoveryRequest(key_hash="old-rr", code_hash="c", sent_at=t, expires_at=t - HOUR,
                        created_at=t - timedelta(days=2)),
        RecoveryRequest(key_hash="recent-rr", code_hash="c", sent_at=t, expires_at=t - HOUR,
                        created_at=t - 2 * HOUR),
        RecoveryRequest(key_hash="live-rr", code_hash="c", sent_at=t, expires_at=t + HOUR,
                        created_at=t),
    ]
    # Back-channel jobs: delivered, given up, still being tried.
    rows += [
        BackchannelLogoutJob(client_id="rp", uri="https://rp.example.ir/bc", logout_token="a",
                             delivered_at=t),
        BackchannelLogoutJob(client_id="rp", uri="https://rp.example.ir/bc", logout_token="b",
                             attempts=5, next_attempt_at=t - HOUR),
        BackchannelLogoutJob(client_id="rp", uri="https://rp.example.ir/bc", logout_token="d",
                             attempts=5, next_attempt_at=t + HOUR),  # last try under way
        BackchannelLogoutJob(client_id="rp", uri="https://rp.example.ir/bc", logout_token="c",
                             attempts=1, next_attempt_at=t + HOUR),
    ]
    # CAPTCHA challenges: gone once expired.
    rows += [CaptchaChallenge(id="old", answer="12345", expires_at=t - HOUR),
             CaptchaChallenge(id="live", answer="12345", expires_at=t + HOUR)]
    # Passkey challenges: gone once expired.
    rows += [WebauthnChallenge(challenge_hash="old", browser_hash="b", purpose="sign_in",
                               expires_at=t - HOUR),
             WebauthnChallenge(challenge_hash="live", browser_hash="b", purpose="sign_in",
                               expires_at=t + HOUR)]
    # Audit events: one past retention, one just inside it.
    retention = timedelta(days=current_app.config["AUDIT_RETENTION_DAYS"])
    rows += [AuditEvent(event="login_ok", created_at=t - retention - HOUR),
             AuditEvent(event="login_ok", created_at=t - retention + HOUR)]
    db.session.add_all(rows)
    db.session.flush()
    # Token families: emptied long ago, emptied by this purge, just created, alive.
    empty = TokenFamily(client_id="rp", user_id=user.id, scope="openid",
                        created_at=t - timedelta(days=3))
    expiring = TokenFamily(client_id="rp", user_id=user.id, scope="openid",
                           created_at=t - timedelta(days=3))
    fresh = TokenFamily(client_id="rp", user_id=user.id, scope="openid", created_at=t)
    alive = TokenFamily(client_id="rp", user_id=user.id, scope="openid", created_at=t)
    db.session.add_all([empty, expiring, fresh, alive])
    db.session.flush()
    db.session.add_all([
        AccessToken(jti="old-at", family_id=expiring.id, expires_at=t - HOUR),
        RefreshToken(token_hash="old-rt", family_id=expiring.id, expires_at=t - HOUR),
        AccessToken(jti="live-at", family_id=alive.id, expires_at=t + HOUR),
        RefreshToken(token_hash="live-rt", family_id=alive.id, expires_at=t + 30 * 24 * HOUR),
    ])
    db.session.commit()
    return {"empty": empty.id, "expiring": expiring.id, "fresh": fresh.id, "alive": alive.id}


def test_purge_removes_only_expired_rows(app, runner, clock):
    families = seed(clock)
    result = runner.invoke(args=["maintenance", "purge", "--json"])
    assert result.exit_code == 0, result.output
    deleted = json.loads(result.output)["deleted"]
    assert deleted == {
        "audit_events": 1, "authorization_codes": 1, "otp_challenges": 1,
        "registration_drafts": 1, "pending_authorizations": 1, "sso_sessions": 1,
        "access_tokens": 1, "refresh_tokens": 1, "token_families": 2, "used_jtis": 1,
        "backchannel_logout_jobs": 2, "initial_access_tokens": 1, "otp_throttles": 1,
        "login_throttles": 1,
        "recovery_requests": 1, "captcha_challenges": 1, "pushed_authorization_requests": 1,
        "webauthn_challenges": 1,
        "email_challenges": 0, "mail_outbox": 0, "sign_ins": 0,  # tests/test_signin_notices.py
    }
    for model in (AuthorizationCode, RegistrationDraft, PendingAuthorization,
                  PushedAuthorizationRequest, SsoSession,
                  UsedJti, InitialAccessToken, AccessToken, RefreshToken):
        assert count(model) == 1, model
    assert db.session.scalars(select(AuthorizationCode.code_hash)).all() == ["live-code"]
    assert db.session.scalars(select(OtpChallenge.subject).order_by(
        OtpChallenge.subject)).all() == ["2", "3"]
    assert sorted(db.session.scalars(select(BackchannelLogoutJob.logout_token))) == ["c", "d"]
    assert db.session.scalars(select(OtpThrottle.mobile)).all() == ["09120000002"]
    assert db.session.scalars(select(LoginThrottle.code_hash)).all() == ["recent"]
    assert db.session.scalars(select(CaptchaChallenge.id)).all() == ["live"]
    assert db.session.scalars(select(WebauthnChallenge.challenge_hash)).all() == ["live"]
    assert sorted(db.session.scalars(select(RecoveryRequest.key_hash))) == ["live-rr",
                                                                            "recent-rr"]
    assert sorted(db.session.scalars(select(TokenFamily.id))) == sorted(
        [families["fresh"], families["alive"]])
    # The purge itself is on record (and is the newest audit event).
    assert db.session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)).all() == [
        "client_created", "login_ok", "maintenance_purged"]

    # A family without tokens goes once it is a day old; a family with live tokens stays.
    clock.advance(86400 + 60)
    second = json.loads(runner.invoke(args=["maintenance", "purge", "--json"]).output)
    assert second["deleted"]["token_families"] == 1
    assert db.session.scalar(select(TokenFamily.id)) == families["alive"]


def test_dry_run_counts_without_deleting(app, runner, clock):
    seed(clock)
    before = {m: count(m) for m in (AuthorizationCode, AuditEvent, SsoSession)}
    result = runner.invoke(args=["maintenance", "purge", "--dry-run"])
    assert result.exit_code == 0
    assert "authorization_codes: would delete 1" in result.output
    assert {m: count(m) for m in before} == before


class TestRetention:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "AUDIT_RETENTION_DAYS": 30}

    def test_retention_setting_is_honoured(self, app, runner, clock):
        t = now()
        db.session.add_all([AuditEvent(event="a", created_at=t - timedelta(days=31)),
                            AuditEvent(event="b", created_at=t - timedelta(days=29))])
        db.session.commit()
        runner.invoke(args=["maintenance", "purge"])
        assert db.session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)).all() == [
            "b", "maintenance_purged"]
