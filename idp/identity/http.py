"""The HTTP identity adapter: a JSON service in front of the civil registry and Shahkar.

The contract (documented in the README, "Identity adapters"):

``POST {IDENTITY_HTTP_URL}/mobile-owner`` ``{"id_type", "id_code", "mobile"}`` and
``POST {IDENTITY_HTTP_URL}/identity`` ``{"id_type", "id_code", "birth_date",
"birth_date_jalali"}`` answer ``200 {"result": "MATCH"|"MISMATCH"|"INVALID_INPUT"|"DECEASED"}``,
the identity call with ``"record": {...}`` on a match. Any other answer (a non-200 status,
a body that is not that JSON, a transport failure after one retry) is ``UNAVAILABLE``.

Timeouts: connect ``IDENTITY_HTTP_CONNECT_TIMEOUT``; the whole call, retry included,
``IDENTITY_HTTP_TIMEOUT``. Only transport errors are retried, once: both calls are
read-only inquiries. Logs carry outcomes, never codes, mobiles or names.
"""

from __future__ import annotations

import logging
import time
from datetime import date

import httpx

from .jalali import format_date
from .ports import IdentityRecord, Result, Status

logger = logging.getLogger("idp.identity")

_ANSWERS = {s.value: s for s in (Status.MATCH, Status.MISMATCH, Status.INVALID_INPUT,
                                 Status.DECEASED)}
_RECORD_FIELDS = ("first_name", "last_name", "father_name", "certificate_number", "gender")


def parse_auth_header(value: str) -> dict[str, str]:
    """``"Authorization: Bearer x"`` → ``{"Authorization": "Bearer x"}`` (empty → ``{}``)."""
    name, sep, content = (value or "").partition(":")
    if not sep or not name.strip():
        return {}
    return {name.strip(): content.strip()}


class HttpIdentityRegistry:
    """Talks to the identity service described in the module docstring."""

    def __init__(self, base_url: str, auth_header: str = "", connect_timeout: float = 3.0,
                 timeout: float = 10.0, transport: httpx.BaseTransport | None = None):
        if not base_url:
            logger.error("IDENTITY_HTTP_URL is empty: every identity check is UNAVAILABLE")
        self.base_url = base_url.rstrip("/")
        self.headers = {"Accept": "application/json", **parse_auth_header(auth_header)}
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self.transport = transport

    @classmethod
    def from_config(cls, config) -> HttpIdentityRegistry:
        return cls(config["IDENTITY_HTTP_URL"], config["IDENTITY_HTTP_AUTH_HEADER"],
                   config["IDENTITY_HTTP_CONNECT_TIMEOUT"], config["IDENTITY_HTTP_TIMEOUT"])

    def _post(self, path: str, payload: dict) -> dict | None:
        """POST ``payload``; return the JSON object of a 200 answer, else ``None``."""
        if not self.base_url:
            return None
        deadline = time.monotonic() + self.timeout
        for attempt in (1, 2):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            timeout = httpx.Timeout(remaining, connect=min(self.connect_timeout, remaining))
            try:
                with httpx.Client(timeout=timeout, transport=self.transport,
                                  headers=self.headers) as client:
                    response = client.post(self.base_url + path, json=payload)
            except httpx.TransportError as e:
                logger.warning("identity %s: transport error on attempt %d: %s",
                               path, attempt, type(e).__name__)
                continue
            if response.status_code != 200:
                logger.warning("identity %s: HTTP %d", path, response.status_code)
                return None
            try:
                body = response.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                logger.warning("identity %s: answer is not a JSON object", path)
                return None
            return body
        return None

    @staticmethod
    def _status(body: dict | None) -> Status:
        if body is None:
            return Status.UNAVAILABLE
        status = _ANSWERS.get(body.get("result"))
        if status is None:
            logger.warning("identity: unknown result %r", str(body.get("result"))[:40])
            return Status.UNAVAILABLE
        return status

    def verify_mobile_owner(self, id_type: str, id_code: str, mobile: str) -> Result:
        body = self._post("/mobile-owner",
                          {"id_type": id_type, "id_code": id_code, "mobile": mobile})
        return Result(self._status(body))

    def lookup_identity(self, id_type: str, id_code: str, birth_date: date) -> Result:
        body = self._post("/identity", {
            "id_type": id_type, "id_code": id_code, "birth_date": birth_date.isoformat(),
            "birth_date_jalali": format_date(birth_date, persian_digits=False)})
        status = self._status(body)
        if status is not Status.MATCH:
            return Result(status)
        record = _record(body.get("record"), id_type, id_code)
        if record is None:
            logger.warning("identity /identity: MATCH without a usable record")
            return Result(Status.UNAVAILABLE, detail="bad record")
        if record.is_deceased:
            return Result(Status.DECEASED)
        return Result(Status.MATCH, record=record)


def _record(data: object, id_type: str, id_code: str) -> IdentityRecord | None:
    if not isinstance(data, dict):
        return None
    try:
        values = {name: str(data[name]) for name in _RECORD_FIELDS}
        born = date.fromisoformat(str(data["birth_date"]))
    except (KeyError, ValueError):
        return None
    if values["gender"] not in ("male", "female"):
        return None
    return IdentityRecord(id_type=id_type, id_code=id_code, birth_date=born,
                          is_deceased=bool(data.get("is_deceased", False)), **values)
