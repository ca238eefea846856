"""The registration wizard's server-side draft and its step machine.

The browser holds only a random key in an ``HttpOnly`` cookie scoped to ``/register``;
the ``registration_drafts`` row stores the key's SHA-256, the step the citizen is on and
what was typed so far (never a password: only its argon2id hash after step 4). A draft
lives ``REGISTRATION_DRAFT_TTL`` seconds after the last request that used it, so a citizen
who reloads or comes back in time lands on the same step.

Steps: 0 = choose natural person / foreign national, 1 = code and mobile (with the SMS
code), 2 = birth-certificate data, 3 = email, 4 = password, 5 = review and confirm. A
citizen moves forward only by passing a step's checks and back one step at a time.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from .. import metrics, settings
from ..extensions import db, now
from ..models import RegistrationDraft
from ..security.hashing import sha256
from ..unit_of_work import transactional

COOKIE_NAME = "idp_registration"
COOKIE_PATH = "/register"
STEPS = (1, 2, 3, 4, 5)
LAST_STEP = 5


def _ttl() -> timedelta:
    return timedelta(seconds=settings.current().registration_draft_ttl)


@transactional
def create(id_type: str, next_url: str | None = None) -> tuple[RegistrationDraft, str]:
    """Start a draft at step 1 and return it with the raw key for the cookie."""
    purge_expired()
    raw = secrets.token_urlsafe(32)
    moment = now()
    draft = RegistrationDraft(key_hash=sha256(raw), id_type=id_type, step=1,
                              data={"next": next_url} if next_url else {},
                              expires_at=moment + _ttl(), created_at=moment, updated_at=moment)
    db.session.add(draft)
    metrics.registrations.labels("started").inc()
    return draft, raw


@transactional
def load(raw: str | None) -> RegistrationDraft | None:
    """Return the live draft of the cookie value ``raw`` and extend its life."""
    if not raw:
        return None
    draft = db.session.scalar(select(RegistrationDraft).where(
        RegistrationDraft.key_hash == sha256(raw)))
    moment = now()
    if draft is None or draft.expires_at <= moment:
        return None
    draft.expires_at = moment + _ttl()
    draft.updated_at = moment
    return draft


@transactional
def save(draft: RegistrationDraft, step: int | None = None, **data) -> None:
    """Merge ``data`` into the draft (``None`` removes a key) and move it to ``step``."""
    merged = dict(draft.data or {})
    for key, value in data.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    draft.data = merged  # a new dict: JSON columns do not track in-place changes
    if step is not None:
        draft.step = step
    draft.updated_at = now()


def typed(draft: RegistrationDraft, step: int) -> dict:
    """What the citizen last typed on ``step`` (to fill the form again)."""
    return dict((draft.data or {}).get("typed", {}).get(str(step), {}))


#: The longest typed value a draft keeps (the longest field, an email, takes 254).
TYPED_MAX = 256


def keep_typed(draft: RegistrationDraft, step: int, values: dict, move_to: int | None = None
               ) -> None:
    """Remember the values typed on ``step`` (passwords are never passed here).

    "Back" keeps what was typed without validating it; a value longer than any field
    takes (:data:`TYPED_MAX`) is not kept, so it is neither stored nor shown again.
    """
    all_typed = dict((draft.data or {}).get("typed", {}))
    all_typed[str(step)] = {k: v for k, v in values.items()
                            if isinstance(v, str) and len(v) <= TYPED_MAX}
    save(draft, step=move_to, typed=all_typed)


@transactional
def discard(raw: str | None) -> None:
    """Delete the draft of cookie value ``raw`` (start again)."""
    if raw:
        db.session.execute(delete(RegistrationDraft).where(
            RegistrationDraft.key_hash == sha256(raw)))


def purge_expired() -> int:
    """Delete every expired draft; return how many (also usable from a cleanup job)."""
    result = db.session.execute(delete(RegistrationDraft).where(
        RegistrationDraft.expires_at <= now()))
    return result.rowcount
