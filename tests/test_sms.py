"""The SMS port: outbox default, message templates, the HTTP provider client."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import SmsMessage
from idp.sms import SmsUnavailable, send_template, sms_gateway
from idp.sms.http import HttpSmsGateway
from idp.sms.outbox import OutboxSmsGateway

from .test_identity_http import FakeService

API_KEY = "s3cr3t-api-key-0123456789"


def test_outbox_is_the_default_and_joins_the_transaction(app):
    """Messages are rows; they are kept only when the caller commits."""
    assert isinstance(sms_gateway(), OutboxSmsGateway)
    sms_gateway().send("09121234567", "salam", template="x")
    db.session.rollback()
    assert db.session.scalars(select(SmsMessage)).all() == []
    sms_gateway().send("09121234567", "salam", template="x")
    db.session.commit()
    row = db.session.scalars(select(SmsMessage)).one()
    assert (row.mobile, row.text, row.template) == ("09121234567", "salam", "x")


def test_welcome_template_is_the_guide_text(app):
    """The welcome SMS (docs/FLOWS.md, "The welcome SMS") with title and name filled in."""
    text = send_template("09121234567", "welcome", title="خانم", name="زهرا احمدی")
    assert text == ("خانم زهرا احمدی، به سرویس‌های متمرکز سازمان تأمین اجتماعی خوش آمدید. "
                    "حساب کاربری شما ایجاد گردید.")
    db.session.commit()
    assert db.session.scalars(select(SmsMessage)).one().text == text


def http_config(url, **overrides):
    return {"SMS_HTTP_URL": url, "SMS_HTTP_API_KEY": API_KEY, "SMS_HTTP_AUTH": "header",
            "SMS_HTTP_AUTH_HEADER": "X-API-KEY", "SMS_HTTP_MODE": "template",
            "SMS_HTTP_TEMPLATES": {"otp": "100200"}, "SMS_HTTP_ENCODING": "json",
            "SMS_HTTP_BODY": {"mobile": "{mobile}", "templateId": "{template}",
                              "parameters": [{"name": "Code", "value": "{code}"}]},
            "SMS_HTTP_SUCCESS_PATH": "status", "SMS_HTTP_SUCCESS_VALUE": "1",
            "SMS_HTTP_TIMEOUT": 2.0, **overrides}


def test_smsir_verify_style(caplog):
    """SMS.ir: JSON body with the template id and the code; key in a header, never logged."""
    caplog.set_level(logging.DEBUG)
    with FakeService((200, {"status": 1, "message": "ok"})) as fake:
        HttpSmsGateway(http_config(fake.url + "/v1/send/verify")).send(
            "09121234567", "full text", template="otp", params={"code": "123456"})
    request = fake.requests[0]
    assert request["path"] == "/v1/send/verify"
    assert request["headers"]["X-API-KEY"] == API_KEY
    assert json.loads(request["body"]) == {"mobile": "09121234567", "templateId": "100200",
                                           "parameters": [{"name": "Code", "value": "123456"}]}
    assert API_KEY not in caplog.text and "123456" not in caplog.text
    assert "09121234567" not in caplog.text


def test_kavenegar_lookup_style_key_in_path_is_redacted_from_logs(caplog):
    """Kavenegar: key in the URL path, form body; the HTTP library's URL log is redacted."""
    caplog.set_level(logging.DEBUG)
    config = http_config("", SMS_HTTP_AUTH="path", SMS_HTTP_ENCODING="form",
                         SMS_HTTP_BODY={"receptor": "{mobile}", "template": "{template}",
                                        "token": "{code}"},
                         SMS_HTTP_SUCCESS_PATH="return.status", SMS_HTTP_SUCCESS_VALUE="200")
    with FakeService((200, {"return": {"status": 200, "message": "تایید شد"}})) as fake:
        config["SMS_HTTP_URL"] = fake.url + "/v1/{api_key}/verify/lookup.json"
        HttpSmsGateway(config).send("09121234567", "t", template="otp",
                                    params={"code": "654321"})
    request = fake.requests[0]
    assert request["path"] == f"/v1/{API_KEY}/verify/lookup.json"
    assert parse_qs(request["body"]) == {"receptor": ["09121234567"], "template": ["100200"],
                                         "token": ["654321"]}
    assert "X-API-KEY" not in request["headers"]
    assert "lookup.json" in caplog.text  # the URL was logged by httpx …
    assert API_KEY not in caplog.text  # … without the key


def test_form_auth_and_text_mode():
    """Key as a form field; text mode sends the whole rendered message."""
    config = http_config("", SMS_HTTP_AUTH="form", SMS_HTTP_AUTH_HEADER="apikey",
                         SMS_HTTP_MODE="text", SMS_HTTP_ENCODING="form", SMS_HTTP_TEMPLATES={},
                         SMS_HTTP_BODY={"to": "{mobile_intl}", "message": "{text}"},
                         SMS_HTTP_SUCCESS_PATH="")
    with FakeService((201, {})) as fake:
        config["SMS_HTTP_URL"] = fake.url
        HttpSmsGateway(config).send("09121234567", "سلام", template="welcome")
    assert parse_qs(fake.requests[0]["body"]) == {"to": ["989121234567"], "message": ["سلام"],
                                                 "apikey": [API_KEY]}


@pytest.mark.parametrize("reply", [(500, {}), (401, {"status": 0}), (200, {"status": 0}),
                                   (200, b"not json"), "drop"])
def test_failures_raise_sms_unavailable_without_retry(reply):
    """Provider errors and refusals raise SmsUnavailable; nothing is retried."""
    with FakeService(reply) as fake:
        with pytest.raises(SmsUnavailable) as e:
            HttpSmsGateway(http_config(fake.url)).send("09121234567", "t", template="otp",
                                                       params={"code": "1"})
    assert e.value.code == "sms_unavailable"
    assert len(fake.requests) == 1


def test_timeout_is_not_retried():
    with FakeService(("sleep", 1.0, 200, {"status": 1})) as fake:
        with pytest.raises(SmsUnavailable):
            HttpSmsGateway(http_config(fake.url, SMS_HTTP_TIMEOUT=0.2)).send(
                "09121234567", "t", template="otp", params={"code": "1"})
    assert len(fake.requests) == 1


def test_template_mode_needs_a_provider_template():
    with pytest.raises(SmsUnavailable):
        HttpSmsGateway(http_config("http://127.0.0.1:9")).send("09121234567", "t",
                                                               template="welcome")


def test_bad_settings_are_refused():
    for name, value in [("SMS_HTTP_AUTH", "query"), ("SMS_HTTP_ENCODING", "xml"),
                        ("SMS_HTTP_MODE", "voice")]:
        with pytest.raises(ValueError):
            HttpSmsGateway(http_config("http://x", **{name: value}))


def test_otp_through_the_http_gateway(app, make_app):
    """With SMS_BACKEND=http an OTP goes to the provider; nothing lands in the outbox."""
    from idp.security import otp

    with FakeService((200, {"status": 1})) as fake:
        extra = make_app(SMS_BACKEND="http", **http_config(fake.url))
        with extra.app_context():
            otp.issue_code("registration", "d", "09121234567")
            assert db.session.scalars(select(SmsMessage)).all() == []
            code = json.loads(fake.requests[0]["body"])["parameters"][0]["value"]
            assert otp.verify_code("registration", "d", code)
            db.session.remove()
    assert isinstance(extra.extensions["idp.sms"], HttpSmsGateway)


def test_otp_sms_failure_keeps_nothing(app, make_app, clock):
    """When the provider fails no code is stored and the citizen may retry at once."""
    from idp.errors import DomainError
    from idp.models import OtpChallenge
    from idp.security import otp

    with FakeService((503, {}), (200, {"status": 1})) as fake:
        extra = make_app(SMS_BACKEND="http", **http_config(fake.url))
        with extra.app_context():
            with pytest.raises(DomainError) as e:
                otp.issue_code("registration", "d", "09121234567")
            assert e.value.code == "sms_unavailable"
            assert db.session.scalars(select(OtpChallenge)).all() == []
            otp.issue_code("registration", "d", "09121234567")
            db.session.remove()
