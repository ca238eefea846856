"""A self-hosted CAPTCHA asked for past soft limits: sign-in failures, SMS-sending steps.

Sign-in asks for one once an IP has failed ``CAPTCHA_LOGIN_IP_FAILURES`` times, or a
national/FIDA code ``CAPTCHA_LOGIN_ACCOUNT_FAILURES`` times, within ``CAPTCHA_WINDOW``
(codes without an account count alike, so the CAPTCHA tells nothing about accounts).
Registration and recovery step 1, each of which may send an SMS that costs money, ask
for one past ``CAPTCHA_SMS_IP_LIMIT`` submissions from an IP or
``CAPTCHA_SMS_TARGET_LIMIT`` for one mobile (registration) or code (recovery).

The counts live in a counter store of their own (:func:`.ratelimit.counter_storage`:
Redis when configured, falling back to process memory, or memory), under keyed hashes
of the IP and the target. A challenge is a database row with a random id: its digits
are drawn as an image (``captcha`` package) and spoken as audio on request, and the
answer deletes it, right or wrong, so each challenge is answered once. Answers are
compared after Persian/Arabic digits become ASCII, spaces go and case is folded.
"""

from __future__ import annotations

import hmac
import io
import secrets
import threading
from datetime import timedelta

from flask import current_app, request
from sqlalchemy import delete, select, update

from .. import settings
from ..errors import DomainError
from ..extensions import db, now
from ..models import CaptchaChallenge
from ..text import normalize_digits
from ..unit_of_work import failure_record, unit_of_work
from . import ratelimit
from .hashing import keyed_hash

ALPHABET = "0123456789"  # digits: typed on any keyboard, spoken by the audio voices
#: purpose → (Settings field of the per-IP limit, field of the per-target limit)
LIMITS = {
    "login": ("captcha_login_ip_failures", "captcha_login_account_failures"),
    "registration": ("captcha_sms_ip_limit", "captcha_sms_target_limit"),
    "recovery": ("captcha_sms_ip_limit", "captcha_sms_target_limit"),
}
_COUNTERS = "idp.captcha.counters"
_MEDIA = "idp.captcha.media"
_NEEDED = "idp.captcha.needed"  # request.environ: this request's form must show one
SOUNDS_KEPT = 16  # audio files kept per process (about 110 KB each)


def _counters():
    return current_app.extensions[_COUNTERS]


def _key(purpose: str, kind: str, value: str | None) -> str:
    return f"captcha/{purpose}/{kind}/{keyed_hash(value or '', 'captcha_counter')}"


def count(purpose: str, *, ip: str | None, target: str | None = None) -> None:
    """Count one failure (sign-in) or one submission (SMS steps) from ``ip`` for ``target``."""
    cfg = settings.current()
    if not cfg.captcha_enabled:
        return
    _counters().incr(_key(purpose, "ip", ip), cfg.captcha_window)
    if target:
        _counters().incr(_key(purpose, "target", target), cfg.captcha_window)


def needed(purpose: str, *, ip: str | None, target: str | None = None) -> bool:
    """Whether ``ip`` (or ``ip`` for ``target``) has passed the soft limit of ``purpose``."""
    cfg = settings.current()
    if not cfg.captcha_enabled:
        return False
    ip_limit, target_limit = (getattr(cfg, name) for name in LIMITS[purpose])
    if _counters().peek(_key(purpose, "ip", ip)) >= ip_limit:
        return True
    return bool(target) and _counters().peek(_key(purpose, "target", target)) >= target_limit


def require(purpose: str, *, ip: str | None, target: str | None, challenge_id: str | None,
            answer: str | None) -> None:
    """Pass when no CAPTCHA is needed or ``answer`` is right; the challenge is used up.

    Call it before the use case writes anything: the used-up challenge is committed at
    once, so a wrong answer, or a use case failing after a right one, does not give it
    back.

    :raises DomainError: ``captcha_required`` (no answer) or ``captcha_wrong``, on the
        ``captcha_answer`` field; the page then shows a new challenge.
    """
    if not needed(purpose, ip=ip, target=target):
        return
    request.environ[_NEEDED] = True
    if not answer:
        raise DomainError("captcha_required", field="captcha_answer")
    if not verify(challenge_id, answer):
        raise DomainError("captcha_wrong", field="captcha_answer")


def verify(challenge_id: str | None, answer: str) -> bool:
    """Use up challenge ``challenge_id`` (committed at once); whether ``answer`` was right."""
    if not challenge_id or len(challenge_id) > 32:
        return False
    with failure_record():  # nothing of the use case is written yet: only the deletion
        expected = db.session.execute(
            delete(CaptchaChallenge).where(CaptchaChallenge.id == challenge_id,
                                           CaptchaChallenge.expires_at > now())
            .returning(CaptchaChallenge.answer)).scalar_one_or_none()
    given = normalize_digits(answer).casefold()
    return expected is not None and hmac.compare_digest(given.encode(),
                                                        expected.casefold().encode())


def _new_answer() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(settings.current().captcha_length))


def issue() -> str:
    """Store a new challenge; return its id (for the form and the image/audio URLs)."""
    challenge_id = secrets.token_urlsafe(16)
    with unit_of_work():
        db.session.add(CaptchaChallenge(
            id=challenge_id, answer=_new_answer(),
            expires_at=now() + timedelta(seconds=settings.current().captcha_ttl)))
    return challenge_id


def renew(challenge_id: str) -> bool:
    """Give challenge ``challenge_id`` new digits and a new life ("a new image")."""
    with unit_of_work():
        changed = db.session.execute(
            update(CaptchaChallenge).where(CaptchaChallenge.id == challenge_id,
                                           CaptchaChallenge.expires_at > now())
            .values(answer=_new_answer(),
                    expires_at=now() + timedelta(seconds=settings.current().captcha_ttl)))
    return changed.rowcount == 1


def _answer_of(challenge_id: str) -> str | None:
    return db.session.scalar(select(CaptchaChallenge.answer).where(
        CaptchaChallenge.id == challenge_id, CaptchaChallenge.expires_at > now()))


def image(challenge_id: str) -> bytes | None:
    """The challenge drawn as a PNG, or ``None`` when it is unknown, used or expired."""
    answer = _answer_of(challenge_id)
    if answer is None:
        return None
    out = io.BytesIO()
    _media()["image"].generate_image(answer).save(out, format="PNG")
    return out.getvalue()


def audio(challenge_id: str) -> bytes | None:
    """The challenge spoken digit by digit as a WAV file, or ``None``.

    Drawing it costs about 0.6 s of CPU, so the last few are kept per process (a player
    often asks twice) and the route is rate-limited per IP like SMS requests.
    """
    answer = _answer_of(challenge_id)
    if answer is None:
        return None
    media = _media()
    kept = media["sounds"]
    body = kept.get((challenge_id, answer))
    if body is None:
        body = bytes(media["audio"].generate(answer))
        with media["lock"]:
            if len(kept) >= SOUNDS_KEPT:
                kept.pop(next(iter(kept)))
            kept[(challenge_id, answer)] = body
    return body


def _media() -> dict:
    media = current_app.extensions.get(_MEDIA)
    if media is None:  # built on first use: the audio voices are loaded into memory
        from captcha.audio import AudioCaptcha
        from captcha.image import ImageCaptcha

        media = {"image": ImageCaptcha(width=200, height=70), "audio": AudioCaptcha(),
                 "sounds": {}, "lock": threading.Lock()}
        current_app.extensions[_MEDIA] = media
    return media


def challenge_for_page(purpose: str) -> str | None:
    """A new challenge id when this request's form must show a CAPTCHA, else ``None``.

    A form must when :func:`require` asked for one in this request, or when the
    client's IP has passed the soft limit of ``purpose`` (known before anything is typed).
    """
    if not settings.current().captcha_enabled:
        return None
    if request.environ.get(_NEEDED) or needed(purpose, ip=request.remote_addr):
        return issue()
    return None


def init_app(app) -> None:
    app.extensions[_COUNTERS] = ratelimit.counter_storage(app, "captcha")
    app.jinja_env.globals["captcha_for"] = challenge_for_page
