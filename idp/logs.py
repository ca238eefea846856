"""Log lines and the request id they carry.

``LOG_FORMAT = "json"`` writes one JSON object per line: ``time``, ``level``, ``logger``,
``request_id``, ``event`` and the event's fields, with national codes and mobile numbers
masked. The request id is the validated ``X-Request-ID`` of the request being served (or
one made for it, :mod:`idp.observability`); audit rows and back-channel logout jobs keep
it, so a portal's complaint, a log line and a row can be matched.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from contextvars import ContextVar
from datetime import UTC, datetime

from .text import mask_personal_numbers

#: The request id of the request (or logout delivery) this thread is working for.
request_id: ContextVar[str | None] = ContextVar("idp_request_id", default=None)

# What an X-Request-ID may be: a proxy's or a portal's id (uuid, hex, base64url …).
_VALID_ID = re.compile(r"[A-Za-z0-9._:@+/=-]{1,64}")


def accepted_request_id(header: str | None) -> str:
    """Return ``header`` when it is a plausible request id, else a new one."""
    if header and _VALID_ID.fullmatch(header):
        return header
    return secrets.token_hex(16)


class JsonFormatter(logging.Formatter):
    """One JSON object per record; Granian's access records keep their fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(
                    timespec="milliseconds"),
                "level": record.levelname, "logger": record.name,
                "request_id": request_id.get()}
        if record.name == "granian.access" and isinstance(record.args, dict):
            access = record.args
            line.update(event="request", method=access.get("method"), path=access.get("path"),
                        status=access.get("status"), ms=round(access.get("dt_ms", 0), 3),
                        addr=access.get("addr"))
            line["request_id"] = access.get("_h0") if access.get("_h0") != "-" else None
        else:
            line["event"] = getattr(record, "event", None) or mask_personal_numbers(
                record.getMessage())
            fields = getattr(record, "fields_json", None)  # idp.audit: already masked
            if fields:
                line.update(json.loads(fields))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


#: Granian's access-log format: the request's own X-Request-ID is its only header read.
ACCESS_FORMAT = ('%(addr)s "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).3f '
                 '%(header{x-request-id})s')


def granian_logging(log_format: str) -> dict | None:
    """Granian's ``log_dictconfig`` for ``log_format`` (``None``: Granian's own)."""
    if log_format != "json":
        return None
    formatter = {"()": "idp.logs.JsonFormatter"}
    return {"formatters": {"generic": formatter, "access": formatter}}


def configure(level: str, log_format: str) -> None:
    """Set the root level, and the JSON format on the root handlers when asked."""
    logging.basicConfig(level=level)
    if log_format == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
