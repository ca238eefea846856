"""An HTTP client for the template ("verify"/"pattern") APIs of Iranian SMS providers.

One configurable shape covers Kavenegar, SMS.ir, Ghasedak and Melipayamak (DOMAIN.md §7):
``SMS_HTTP_URL`` (``{api_key}`` replaced for key-in-path providers), where the key goes
(``SMS_HTTP_AUTH``), JSON or form encoding, and ``SMS_HTTP_BODY``: a JSON template whose
string values may hold placeholders — ``{mobile}`` (``09…``), ``{mobile_e164}``,
``{mobile_intl}`` (``989…``), ``{template}`` (the provider's id for the message, from
``SMS_HTTP_TEMPLATES``; ``otp_<purpose>`` falls back to the entry of ``otp``), ``{text}``
(the whole rendered message), ``{api_key}`` and every value the message template was
rendered with (``{code}``, ``{name}`` …).

Success is a 2xx answer whose JSON value at ``SMS_HTTP_SUCCESS_PATH`` (dotted; empty:
not checked) equals ``SMS_HTTP_SUCCESS_VALUE``. Nothing is retried: after a timeout the
provider may have sent the message, and a retry could send it twice. The API key, the
message text and full mobile numbers are never logged.
"""

from __future__ import annotations

import logging
import string

import httpx

from ..text import mask_mobile, mobile_e164
from .ports import SmsUnavailable

logger = logging.getLogger("idp.sms")


class _Placeholders(dict):
    def __missing__(self, key):
        return ""


def _fill(value, values: dict):
    """Replace ``{name}`` placeholders inside every string of a JSON-like template."""
    if isinstance(value, str):
        return string.Formatter().vformat(value, (), values)
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def _dig(data, path: str):
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdecimal() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


class _RedactFilter(logging.Filter):
    """Blank the API key out of log records of the HTTP library (it logs request URLs)."""

    def __init__(self, secret: str):
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secret and self.secret in record.getMessage():
            record.msg = record.getMessage().replace(self.secret, "***")
            record.args = ()
        return True


class HttpSmsGateway:
    def __init__(self, config, transport: httpx.BaseTransport | None = None):
        self.url = config["SMS_HTTP_URL"]
        self.api_key = config["SMS_HTTP_API_KEY"]
        self.auth = config["SMS_HTTP_AUTH"]
        self.auth_name = config["SMS_HTTP_AUTH_HEADER"]
        self.mode = config["SMS_HTTP_MODE"]
        self.templates = dict(config["SMS_HTTP_TEMPLATES"])
        self.encoding = config["SMS_HTTP_ENCODING"]
        self.body = config["SMS_HTTP_BODY"]
        self.success_path = config["SMS_HTTP_SUCCESS_PATH"]
        self.success_value = str(config["SMS_HTTP_SUCCESS_VALUE"])
        self.timeout = config["SMS_HTTP_TIMEOUT"]
        self.transport = transport
        if self.auth not in ("path", "header", "form"):
            raise ValueError("SMS_HTTP_AUTH must be 'path', 'header' or 'form'")
        if self.encoding not in ("json", "form"):
            raise ValueError("SMS_HTTP_ENCODING must be 'json' or 'form'")
        if self.mode not in ("template", "text"):
            raise ValueError("SMS_HTTP_MODE must be 'template' or 'text'")
        if not self.url:
            logger.error("SMS_HTTP_URL is empty: no SMS can be sent")
        for name in ("httpx", "httpcore"):
            library_logger = logging.getLogger(name)
            if not any(isinstance(f, _RedactFilter) and f.secret == self.api_key
                       for f in library_logger.filters):
                library_logger.addFilter(_RedactFilter(self.api_key))

    def _request(self, mobile: str, text: str, template: str | None, params: dict | None):
        # "otp_registration" falls back to the provider template of "otp".
        name = template or ""
        provider_template = self.templates.get(name) or self.templates.get(name.split("_")[0], "")
        if self.mode == "template" and not provider_template:
            raise SmsUnavailable(f"no SMS_HTTP_TEMPLATES entry for {template!r}")
        values = _Placeholders({k: str(v) for k, v in (params or {}).items()})
        values.update(mobile=mobile, mobile_e164=mobile_e164(mobile),
                      mobile_intl=mobile_e164(mobile)[1:], template=provider_template,
                      text=text, api_key=self.api_key)
        url = self.url.replace("{api_key}", self.api_key)
        body = _fill(self.body, values)
        headers = {"Accept": "application/json"}
        if self.auth == "header":
            headers[self.auth_name] = self.api_key
        elif self.auth == "form":
            body = {**body, self.auth_name: self.api_key}
        if self.encoding == "json":
            return url, headers, {"json": body}
        return url, headers, {"data": {k: str(v) for k, v in body.items()}}

    def send(self, mobile: str, text: str, *, template: str | None = None,
             params: dict | None = None) -> None:
        """Hand the message to the provider.

        :raises SmsUnavailable: on a transport error, a timeout, a non-2xx answer or an
            answer that fails the success check (no retry: it could double the SMS).
        """
        if not self.url:
            raise SmsUnavailable("SMS_HTTP_URL is empty")
        url, headers, payload = self._request(mobile, text, template, params)
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.post(url, headers=headers, **payload)
        except httpx.HTTPError as e:
            logger.warning("sms to %s failed: %s", mask_mobile(mobile), type(e).__name__)
            raise SmsUnavailable(type(e).__name__) from None
        if not response.is_success or not self._accepted(response):
            logger.warning("sms to %s refused: HTTP %d", mask_mobile(mobile),
                           response.status_code)
            raise SmsUnavailable(f"HTTP {response.status_code}")
        logger.info("sms to %s sent (%s)", mask_mobile(mobile), template or "-")

    def _accepted(self, response: httpx.Response) -> bool:
        if not self.success_path:
            return True
        try:
            data = response.json()
        except ValueError:
            return False
        return str(_dig(data, self.success_path)) == self.success_value
