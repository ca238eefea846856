"""Security audit trail: a row per event plus a log line at the SECURITY level.

A row belongs to the unit of work of the change it describes (:mod:`idp.unit_of_work`);
the row of a refusal that the security log relies on (a wrong password, a refused
registry check) is written inside ``failure_record()`` so that it survives the rollback
of the use case it ends.
"""

from __future__ import annotations

import json
import logging

from . import metrics
from .extensions import db, now
from .logs import request_id
from .models import AuditEvent
from .text import mask_personal_numbers

SECURITY = 25  # between INFO (20) and WARNING (30)
logging.addLevelName(SECURITY, "SECURITY")
logger = logging.getLogger("idp.security")

# Field names that must never reach the audit trail, whoever passes them.
_FORBIDDEN = {"password", "code", "otp", "token", "secret", "client_secret", "cookie"}


def record(event: str, *, user_id: int | None = None, actor_id: int | None = None,
           client_id: str | None = None, ip: str | None = None, **fields) -> AuditEvent:
    """Record a security-relevant ``event``.

    The row joins the caller's unit of work, so it is committed (or rolled back) with the
    change it describes; a failure is recorded inside
    :func:`~idp.unit_of_work.failure_record`. The log line, written at once (even when
    the row is rolled back later), masks national codes and mobile numbers.

    :raises ValueError: when a field named like a secret is passed.
    """
    leaked = _FORBIDDEN.intersection(fields)
    if leaked:
        raise ValueError(f"secrets must not be audited: {sorted(leaked)}")
    row = AuditEvent(event=event, user_id=user_id, actor_id=actor_id, client_id=client_id,
                     ip=ip, data=fields, request_id=request_id.get(), created_at=now())
    db.session.add(row)
    db.session.flush()
    context = {"user_id": user_id, "actor_id": actor_id, "client_id": client_id, "ip": ip,
               **fields}
    context = {k: v for k, v in context.items() if v is not None}
    detail = mask_personal_numbers(json.dumps(context, ensure_ascii=False, default=str,
                                              sort_keys=True))
    logger.log(SECURITY, "%s %s", event, detail, extra={"event": event, "fields_json": detail})
    metrics.audited(event, fields)
    return row
