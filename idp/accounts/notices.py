"""Security notices to the citizen, the device cookie and the sign-in history.

A long-lived random cookie (``DEVICE_COOKIE_NAME``; only its SHA-256 is stored) marks a
browser. Each new SSO session adds a ``sign_ins`` row (coarse device, IP prefix) with one
SELECT and one INSERT; when the citizen has signed in before but never from this
browser, a notice goes out. So does one when a passkey or a second factor is added or
removed (:func:`factor_changed`, called by the code that changes the factor).

A notice goes by email when the address is verified, else by SMS, in the unit of work of
the change: the mail outbox row commits with it (and is delivered after the commit); an
SMS follows the SMS module's rule for informational messages (the last write, a gateway
failure logged and never undoing the change). The first sign-in of an account (right
after registration, or the first after this feature was deployed) is recorded without a
notice: there is no known browser yet to compare with.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets

from flask import has_request_context, request
from sqlalchemy import select

from .. import mail, settings
from ..extensions import db, now
from ..identity import jalali
from ..models import SignInRecord, User
from ..security.hashing import sha256
from ..sms import SmsUnavailable
from ..sms import send_template as send_sms
from .devices import describe

logger = logging.getLogger("idp.accounts")

_STATE = "idp.device"
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)

#: What :func:`factor_changed` accepts: factor → (Persian, English) name in the notice.
FACTORS = {
    "passkey": ("یک کلید عبور", "a passkey"),
    "totp": ("برنامه احراز هویت (رمز یکبار مصرف)", "an authenticator app"),
    "recovery_codes": ("کدهای بازیابی", "recovery codes"),
}


def cookie_name() -> str:
    cfg = settings.current()
    return f"__Host-{cfg.device_cookie_name}" if cfg.https else cfg.device_cookie_name


def _device_key() -> str:
    """This browser's device cookie value; a new one (set on the response) if absent."""
    state = request.environ.setdefault(_STATE, {})
    raw = request.cookies.get(cookie_name(), "")
    if not _COOKIE_VALUE.fullmatch(raw):
        raw = state.setdefault("new", secrets.token_urlsafe(32))
    return raw


def ip_prefix(ip: str | None) -> str | None:
    """``203.0.113.7`` → ``203.0.113.0/24``; IPv6 → its /48. Never the full address."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))


def _when(moment) -> dict:
    """Jalali Tehran time with ASCII digits; Persian texts show them with ``persian_digits``."""
    return {"when": jalali.format_datetime(moment, persian_digits=False)}


def _notify(user: User, template: str, **context) -> None:
    """Send ``template`` by email (verified address) or SMS, in the caller's unit of work."""
    context = {"name": user.full_name, **context}
    if user.email and user.email_verified_at is not None:
        mail.send_template(user.email, template, **context)
        return
    try:
        send_sms(user.mobile, template, **context)
    except SmsUnavailable:  # informational: never undoes the change it reports
        logger.warning("%s notice for user %s not sent", template, user.id)


def new_sign_in(user: User) -> SignInRecord | None:
    """Record a new SSO session of ``user`` on this browser; notify a new device.

    Call it in the sign-in's unit of work (:func:`idp.accounts.session.login_user`).
    Returns the history row (``new_device`` tells whether a notice was sent), or
    ``None`` outside a request.
    """
    if not has_request_context():
        return None
    device_hash = sha256(_device_key())
    same = SignInRecord.device_hash == device_hash
    # One SELECT answers both questions: None = no history, True = known, False = new.
    known = db.session.scalar(select(same).where(SignInRecord.user_id == user.id)
                              .order_by(same.desc()).limit(1))
    moment = now()
    row = SignInRecord(user_id=user.id, device_hash=device_hash,
                       device=describe(request.user_agent.string)[:100],
                       ip_prefix=ip_prefix(request.remote_addr), new_device=known is False,
                       created_at=moment)
    db.session.add(row)
    if row.new_device:
        _notify(user, "new_sign_in", device=row.device, ip_prefix=row.ip_prefix or "—",
                **_when(moment))
    return row


def factor_changed(user: User, factor: str, added: bool) -> None:
    """Tell the citizen a sign-in factor was added or removed (``factor`` in :data:`FACTORS`).

    Call it in the unit of work of the change: the notice commits with it.

    :raises ValueError: for an unknown ``factor``.
    """
    if factor not in FACTORS:
        raise ValueError(f"unknown factor {factor!r}; expected one of {sorted(FACTORS)}")
    factor_fa, factor_en = FACTORS[factor]
    _notify(user, "factor_changed", factor_fa=factor_fa, factor_en=factor_en, added=added,
            **_when(now()))


def recent_sign_ins(user_id: int, limit: int = 10) -> list[dict]:
    """The last ``limit`` sign-ins, newest first, for the account page."""
    rows = db.session.scalars(
        select(SignInRecord).where(SignInRecord.user_id == user_id)
        .order_by(SignInRecord.created_at.desc(), SignInRecord.id.desc()).limit(limit))
    return [{"when": jalali.format_datetime(row.created_at, persian_digits=False),
             "device": row.device, "ip_prefix": row.ip_prefix or "—",
             "new_device": row.new_device} for row in rows]


def _write_cookie(response):
    raw = request.environ.get(_STATE, {}).get("new")
    if raw:
        cfg = settings.current()
        response.set_cookie(cookie_name(), raw, httponly=True, secure=cfg.https,
                            samesite="Lax", path="/", max_age=cfg.device_cookie_max_age)
    return response


def init_app(app) -> None:
    app.after_request(_write_cookie)
