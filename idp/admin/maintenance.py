"""Retention: delete the rows whose life is over (``flask maintenance purge``).

Only rows that can no longer be used are removed: expired codes, drafts, sessions,
tokens and requests, delivered (or abandoned) back-channel logout jobs, and audit events
older than ``AUDIT_RETENTION_DAYS``. A few kinds are kept past their expiry on purpose,
noted below.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, or_, select, text

from .. import audit, settings
from ..extensions import db, now
from ..models import (
    AccessToken,
    AuditEvent,
    AuthorizationCode,
    BackchannelLogoutJob,
    CaptchaChallenge,
    EmailChallenge,
    InitialAccessToken,
    LoginThrottle,
    MailMessage,
    OtpChallenge,
    OtpThrottle,
    PendingAuthorization,
    PushedAuthorizationRequest,
    RecoveryRequest,
    RefreshToken,
    RegistrationDraft,
    SignInRecord,
    SsoSession,
    TokenFamily,
    UsedJti,
    WebauthnChallenge,
)
from ..unit_of_work import transactional

# Code challenges and recovery requests are kept a day after they were made: the hourly
# send limits count them.
OTP_KEEP = timedelta(days=1)
# Mail stays readable (`flask mail outbox`, support) this long after it was written.
MAIL_KEEP = timedelta(days=30)
# A token family without tokens is removed once a day old (never while being filled in).
FAMILY_KEEP = timedelta(days=1)
# PostgreSQL advisory lock held by the purge under way (any instance, any worker).
PURGE_LOCK = 0x1D9_0001


def _rules(moment: datetime) -> list[tuple[str, type, object]]:
    cfg = settings.current()
    retention = moment - timedelta(days=cfg.audit_retention_days)
    no_tokens = and_(
        ~exists().where(RefreshToken.family_id == TokenFamily.id),
        ~exists().where(AccessToken.family_id == TokenFamily.id))
    ranked = select(SignInRecord.id, func.row_number().over(
        partition_by=SignInRecord.user_id,
        order_by=(SignInRecord.created_at.desc(), SignInRecord.id.desc())).label("rank")
    ).subquery()
    return [
        ("audit_events", AuditEvent, AuditEvent.created_at < retention),
        ("authorization_codes", AuthorizationCode, AuthorizationCode.expires_at < moment),
        ("otp_challenges", OtpChallenge, and_(OtpChallenge.expires_at < moment,
                                              OtpChallenge.created_at < moment - OTP_KEEP)),
        ("otp_throttles", OtpThrottle, OtpThrottle.next_send_at < moment - OTP_KEEP),
        ("login_throttles", LoginThrottle, LoginThrottle.updated_at < moment - OTP_KEEP),
        ("recovery_requests", RecoveryRequest, and_(
            RecoveryRequest.expires_at < moment, RecoveryRequest.created_at < moment - OTP_KEEP)),
        ("registration_drafts", RegistrationDraft, RegistrationDraft.expires_at < moment),
        ("pending_authorizations", PendingAuthorization,
         PendingAuthorization.expires_at < moment),
        ("pushed_authorization_requests", PushedAuthorizationRequest,
         PushedAuthorizationRequest.expires_at < moment),
        ("sso_sessions", SsoSession, SsoSession.expires_at < moment),
        ("access_tokens", AccessToken, AccessToken.expires_at < moment),
        ("refresh_tokens", RefreshToken, RefreshToken.expires_at < moment),
        ("token_families", TokenFamily, and_(no_tokens,
                                             TokenFamily.created_at < moment - FAMILY_KEEP)),
        ("used_jtis", UsedJti, UsedJti.expires_at < moment),
        # Abandoned jobs only once their last lease is over (a last attempt may be under way).
        ("backchannel_logout_jobs", BackchannelLogoutJob, or_(
            BackchannelLogoutJob.delivered_at.is_not(None),
            and_(BackchannelLogoutJob.attempts >= cfg.oidc_backchannel_max_attempts,
                 BackchannelLogoutJob.next_attempt_at < moment))),
        ("initial_access_tokens", InitialAccessToken, InitialAccessToken.expires_at < moment),
        ("captcha_challenges", CaptchaChallenge, CaptchaChallenge.expires_at < moment),
        ("webauthn_challenges", WebauthnChallenge, WebauthnChallenge.expires_at < moment),
        ("email_challenges", EmailChallenge, and_(EmailChallenge.expires_at < moment,
                                                  EmailChallenge.created_at < moment - OTP_KEEP)),
        ("mail_outbox", MailMessage, MailMessage.created_at < moment - MAIL_KEEP),
        # Each citizen's newest SIGNIN_HISTORY_KEEP sign-ins stay (the known browsers).
        ("sign_ins", SignInRecord, SignInRecord.id.in_(
            select(ranked.c.id).where(ranked.c.rank > cfg.signin_history_keep))),
    ]


@transactional
def purge(dry_run: bool = False) -> dict[str, int]:
    """Delete (or with ``dry_run`` only count) every row past its life; return the counts.

    Expired tokens go first, then the token families left without any token. A dry run
    counts each kind as things stand, so it may show fewer families than a real run.

    On PostgreSQL one purge runs at a time across every instance: a purge started while
    another holds the lock returns ``{}`` at once instead of waiting on its row locks.
    """
    if not dry_run and db.session.get_bind().dialect.name == "postgresql" and not \
            db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PURGE_LOCK}):
        return {}
    moment = now()
    counts = {}
    for name, model, condition in _rules(moment):
        if dry_run:
            counts[name] = db.session.scalar(select(func.count()).select_from(model)
                                             .where(condition))
        else:
            result = db.session.execute(delete(model).where(condition)
                                        .execution_options(synchronize_session=False))
            counts[name] = result.rowcount
    if not dry_run:
        audit.record("maintenance_purged", counts=counts)
    return counts
