"""Logout: RP-Initiated Logout 1.0 and Back-Channel Logout 1.0.

Back-channel design: when SSO sessions end (``session_ended``), one
``BackchannelLogoutJob`` row per client of those sessions that registered a
``backchannel_logout_uri`` is added in the unit of work that ends them, together with the
revocation of their grants; once that unit has committed, each job is POSTed from its own
background thread with ``OIDC_BACKCHANNEL_TIMEOUT``. The logout response never waits
for a portal. A job is claimed by a conditional UPDATE committed before the POST (so two
deliverers never send it twice at once), and the attempt's outcome is a second unit of
work; no transaction stays open while a portal answers. A failed job is retried with
exponential back-off by ``flask oidc deliver-logouts`` (run it from cron every minute)
until ``OIDC_BACKCHANNEL_MAX_ATTEMPTS`` is reached. A retried job gets a fresh logout
token, since the first one expires after two minutes.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from authlib.oauth2 import OAuth2Error
from flask import current_app, g
from sqlalchemy import select, update

from .. import audit, logs, metrics
from ..accounts.session import current_session
from ..extensions import db, now
from ..grants import revocation
from ..models import BackchannelLogoutJob, Client, SessionClient, User
from ..unit_of_work import after_commit, transactional
from . import claims as claims_mod
from . import storage, tokens
from .outbound import OutboundError, http
from .server import oauth_server

logger = logging.getLogger("idp.oidc")
EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TTL = 120  # seconds
_BACKOFF_BASE, _BACKOFF_MAX = 30, 3600  # seconds between retries: 30, 60, 120 … ≤ 1 h


# -- RP-initiated logout ---------------------------------------------------------------
@dataclass
class ConfirmLogout:
    """Ask the citizen before signing out (no or foreign ``id_token_hint``)."""

    client: Client | None
    fields: dict


@dataclass
class SignedOut:
    client: Client | None


@dataclass
class LogoutError:
    code: str = "oidc_logout_invalid"


@transactional
def rp_logout(confirmed: bool):
    """Handle ``/logout``: a redirect response, ``ConfirmLogout``, ``SignedOut`` or an error.

    ``confirmed`` is true when the citizen submitted our confirmation form (its CSRF
    token checked by the view).
    """
    server = oauth_server()
    g.idp_logout_confirmed = confirmed
    try:
        validated = server.validate_endpoint_request("end_session")
    except OAuth2Error:
        # RP-initiated §4: on errors the OP must not redirect.
        return LogoutError()
    session = current_session()
    hint = validated.id_token_claims
    foreign = hint is not None and session is not None and hint.get("sid") != session.sid
    client = validated.client.row if validated.client is not None else None
    if session is not None and not confirmed and (validated.needs_confirmation or foreign):
        # §6: a logout without a hint for *this* session could be forged by any page.
        data = validated.request.payload.data
        fields = {k: data.get(k) for k in ("id_token_hint", "client_id",
                                           "post_logout_redirect_uri", "state", "ui_locales")
                  if data.get(k)}
        return ConfirmLogout(client, fields)
    response = server.create_endpoint_response("end_session", validated)
    return response if response is not None else SignedOut(client)


# -- back-channel logout ---------------------------------------------------------------
def logout_token(client, user: User | None, sid: str) -> str:
    """Sign a logout token (Back-Channel Logout 1.0 §2.4) for one client."""
    issued = tokens.timestamp()
    claims = {"iss": tokens.issuer(), "aud": client.client_id, "iat": issued,
              "exp": issued + LOGOUT_TOKEN_TTL, "jti": tokens.new_jti(), "sid": sid,
              "events": {EVENT: {}}}
    if user is not None:
        claims["sub"] = claims_mod.subject(user, client)
    return tokens.sign(claims, client.id_token_signed_response_alg or "RS256",
                       tokens.LOGOUT_TOKEN_TYP)


def enqueue(sessions) -> list[int]:
    """Add one delivery job per (ended session × client with a back-channel URI) to the
    caller's unit of work; return their ids."""
    by_id = {s.id: s for s in sessions}
    rows = db.session.execute(
        select(SessionClient.session_id, Client)
        .join(Client, Client.client_id == SessionClient.client_id)
        .where(SessionClient.session_id.in_(by_id), Client.backchannel_logout_uri.is_not(None),
               Client.enabled.is_(True))).all()
    if not rows:
        return []
    users = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_({s.user_id for s in sessions})))}
    moment = now()
    jobs = []
    for session_id, row in rows:
        session = by_id[session_id]
        token = logout_token(storage.OAuthClient(row), users.get(session.user_id), session.sid)
        jobs.append(BackchannelLogoutJob(client_id=row.client_id, uri=row.backchannel_logout_uri,
                                         logout_token=token, next_attempt_at=moment,
                                         request_id=logs.request_id.get(), created_at=moment))
    db.session.add_all(jobs)
    db.session.flush()
    return [job.id for job in jobs]


def on_session_ended(sender, sessions=(), reason=None, **extra) -> None:
    """``session_ended`` receiver: end the sessions' grants and enqueue logout jobs in the
    unit of work that ends the sessions; once it has committed, deliver them off the
    request."""
    sessions = list(sessions)
    revocation.revoke_for_session([s.sid for s in sessions])
    job_ids = enqueue(sessions)
    if job_ids:
        after_commit(lambda: _start_threads(sender, job_ids))


def _start_threads(app, job_ids: list[int]) -> None:
    threads = app.extensions.setdefault("idp.logout_threads", [])
    threads[:] = [t for t in threads if t.is_alive()]
    for job_id in job_ids:
        thread = threading.Thread(target=_deliver_in_background, args=(app, job_id),
                                  name=f"backchannel-logout-{job_id}", daemon=True)
        threads.append(thread)
        thread.start()


def _deliver_in_background(app, job_id: int) -> None:
    with app.app_context():
        try:
            deliver([job_id])
        except Exception:  # never let a portal's failure escape the thread
            app.logger.exception("back-channel logout job %s failed; "
                                 "`flask oidc deliver-logouts` retries it", job_id)
        finally:
            db.session.remove()


def wait_for_deliveries(app, timeout: float = 10.0) -> None:
    """Join the background delivery threads (tests and orderly shutdown)."""
    for thread in list(app.extensions.get("idp.logout_threads", [])):
        thread.join(timeout)


def deliver(job_ids: list[int] | None = None, limit: int = 200) -> tuple[int, int]:
    """Deliver due jobs (all due ones, or just ``job_ids``); return (delivered, failed)."""
    cfg = current_app.config
    query = select(BackchannelLogoutJob).where(
        BackchannelLogoutJob.delivered_at.is_(None),
        BackchannelLogoutJob.attempts < cfg["OIDC_BACKCHANNEL_MAX_ATTEMPTS"],
        BackchannelLogoutJob.next_attempt_at <= now())
    if job_ids is not None:
        query = query.where(BackchannelLogoutJob.id.in_(job_ids))
    jobs = list(db.session.scalars(query.order_by(BackchannelLogoutJob.id).limit(limit)))
    delivered = failed = 0
    for job in jobs:
        context = logs.request_id.set(job.request_id)  # the sign-out's id, in logs and audit
        try:
            error = _attempt(job, cfg)
        finally:
            logs.request_id.reset(context)
        if error is _TAKEN:
            continue
        metrics.backchannel.labels("delivered" if error is None else "failed").inc()
        delivered, failed = (delivered + 1, failed) if error is None else (delivered, failed + 1)
    return delivered, failed


_TAKEN = "taken by another deliverer"


def _attempt(job: BackchannelLogoutJob, cfg) -> str | None:
    """Claim ``job`` and POST its token once; return the error, ``None`` or ``_TAKEN``."""
    token = _claim(job, cfg["OIDC_BACKCHANNEL_TIMEOUT"])
    if token is None:
        return _TAKEN
    error = None
    try:
        status = http().post_form(job.uri, {"logout_token": token},
                                  cfg["OIDC_BACKCHANNEL_TIMEOUT"])
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except OutboundError as e:
        error = str(e)[:300]
    _record(job, error, cfg["OIDC_BACKCHANNEL_MAX_ATTEMPTS"])
    if error is not None:  # the portal and attempt only: the logout token is a credential
        logger.warning("back-channel logout to %s failed (attempt %d of %d): %s",
                       job.client_id, job.attempts, cfg["OIDC_BACKCHANNEL_MAX_ATTEMPTS"], error)
    return error


@transactional
def _claim(job: BackchannelLogoutJob, timeout: float) -> str | None:
    """Take a job for one attempt and return the logout token to send, or ``None`` when
    another deliverer has it; the lease hands it back if this process dies."""
    lease = now() + timedelta(seconds=timeout + 30)
    claimed = db.session.execute(
        update(BackchannelLogoutJob).where(
            BackchannelLogoutJob.id == job.id, BackchannelLogoutJob.delivered_at.is_(None),
            BackchannelLogoutJob.attempts == job.attempts)
        .values(attempts=job.attempts + 1, next_attempt_at=lease)).rowcount == 1
    if not claimed:
        return None
    db.session.refresh(job)
    return _fresh_token(job)


def _fresh_token(job: BackchannelLogoutJob) -> str:
    claims = tokens.unverified_claims(job.logout_token)
    if claims["exp"] > tokens.timestamp() + 10:
        return job.logout_token
    issued = tokens.timestamp()
    claims.update(iat=issued, exp=issued + LOGOUT_TOKEN_TTL, jti=tokens.new_jti())
    client = db.session.scalar(select(Client).where(Client.client_id == job.client_id))
    job.logout_token = tokens.sign(claims, client.id_token_signed_response_alg or "RS256",
                                   tokens.LOGOUT_TOKEN_TYP)
    return job.logout_token


@transactional
def _record(job: BackchannelLogoutJob, error: str | None, max_attempts: int) -> None:
    if error is None:
        job.delivered_at, job.last_error = now(), None
    else:
        job.last_error = error
        delay = min(_BACKOFF_BASE * 2 ** (job.attempts - 1), _BACKOFF_MAX)
        job.next_attempt_at = now() + timedelta(seconds=delay)
        if job.attempts >= max_attempts:
            audit.record("backchannel_logout_abandoned", client_id=job.client_id,
                         attempts=job.attempts, error=error)
