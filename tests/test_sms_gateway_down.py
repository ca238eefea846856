"""An SMS gateway that is down never makes a page claim a code was sent (issue 9, finding
14): registration step 1 shows only the failure, keeps the draft and offers a retry; the
mobile change stays on its first page with the failure. A fake provider on loopback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.messages import message
from idp.models import OtpChallenge, RegistrationDraft, RegistryRecord

from .factories import DEFAULT_PASSWORD, make_user
from .test_registration import Wizard, make_citizen

GATEWAY_PORT = 18240
REFUSING_PORT = 18249  # nothing listens there
SENT_TEXT = "پیامک شد"


class FakeGateway(BaseHTTPRequestHandler):
    """Answers each POST with ``status``; records the texts it accepted."""

    status = 500
    texts: list[str] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok = self.status == 200
        if ok:
            FakeGateway.texts.append(body["text"])
        answer = json.dumps({"status": 1 if ok else 0}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    FakeGateway.status, FakeGateway.texts = 500, []
    server = ThreadingHTTPServer(("127.0.0.1", GATEWAY_PORT), FakeGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield FakeGateway
    server.shutdown()
    server.server_close()


def http_sms_app(make_app, port):
    app = make_app(SMS_BACKEND="http", SMS_HTTP_URL=f"http://127.0.0.1:{port}/send",
                   SMS_HTTP_MODE="text", SMS_HTTP_TEMPLATES={}, SMS_HTTP_AUTH="header",
                   SMS_HTTP_API_KEY="k", SMS_HTTP_BODY={"to": "{mobile}", "text": "{text}"},
                   SMS_HTTP_SUCCESS_PATH="status", SMS_HTTP_SUCCESS_VALUE="1",
                   SMS_HTTP_TIMEOUT=5.0)
    return app


def follow(browser, response):
    assert response.status_code == 302
    return browser.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("port", [GATEWAY_PORT, REFUSING_PORT], ids=["http_500", "refused"])
def test_registration_step_one_shows_only_the_failure_and_offers_a_retry(app, make_app, gateway,
                                                                        port):
    app = http_sms_app(make_app, port)
    with app.app_context():
        record = make_citizen()
        wizard = Wizard(app.test_client(), record)
        wizard.start()
        page = follow(wizard.client, wizard.step1())
        assert message("sms_unavailable") in page
        assert SENT_TEXT not in page and 'name="code"' not in page
        assert "ارسال دوباره کد" in page  # the retry
        draft = db.session.scalar(select(RegistrationDraft))
        assert (draft.id_code, draft.mobile) == (record.id_code, record.mobile)
        assert db.session.scalar(select(OtpChallenge)) is None
        # Shown again later (the flash is gone): still no claim that a code was sent.
        page = wizard.client.get("/register/step/1").get_data(as_text=True)
        assert SENT_TEXT not in page and "ارسال دوباره کد" in page

        if port != GATEWAY_PORT:
            return
        gateway.status = 200  # the provider is back: the retry sends a code
        page = follow(wizard.client,
                      wizard.client.post("/register/step/1", data={"action": "resend"}))
        assert SENT_TEXT in page and 'name="code"' in page
        assert len(gateway.texts) == 1


def test_mobile_change_with_the_gateway_down_stays_on_the_first_page(app, make_app, gateway):
    app = http_sms_app(make_app, GATEWAY_PORT)
    with app.app_context():
        user = make_user()
        new_mobile = "09351234567"
        db.session.execute(RegistryRecord.__table__.update()
                           .where(RegistryRecord.id_code == user.id_code)
                           .values(mobile=new_mobile))
        db.session.commit()
        browser = app.test_client()
        browser.post("/login", data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
        response = browser.post("/account/mobile", data={"password": DEFAULT_PASSWORD,
                                                         "mobile": new_mobile})
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert message("sms_unavailable") in page and SENT_TEXT not in page
        assert db.session.scalar(select(OtpChallenge)) is None
        # The code page is not reachable without a code.
        response = browser.get("/account/mobile/verify")
        assert response.status_code == 302
