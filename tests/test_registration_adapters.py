"""The wizard with the HTTP identity adapter: an unavailable registry never decides."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import RegistrationDraft, RegistryRecord, User

from .test_identity_http import RECORD, FakeService
from .test_registration import Wizard

CITIZEN = RegistryRecord(id_type="national", id_code="0012345679", first_name="علی",
                         last_name="احمدی", father_name="حسین", certificate_number="1234",
                         birth_date=date(1990, 3, 21), gender="male", mobile="09121234567")


@pytest.fixture
def http_app(app, make_app):
    """Extra apps on the HTTP adapter; ``app`` cleans the shared database afterwards."""
    def build(*script):
        fake = FakeService(*script).__enter__()
        app = make_app(IDENTITY_BACKEND="http", IDENTITY_HTTP_URL=fake.url,
                       IDENTITY_HTTP_TIMEOUT=2.0)
        return app, fake

    made = []

    def factory(*script):
        app, fake = build(*script)
        made.append(fake)
        return app, fake

    yield factory
    for fake in made:
        fake.__exit__(None, None, None)


def run(app, fn):
    with app.app_context():
        try:
            return fn(Wizard(app.test_client(), CITIZEN))
        finally:
            db.session.remove()


def test_unavailable_at_step_one_keeps_the_draft(http_app):
    """503 from the service: "try again later", typed values kept, no SMS; then it works."""
    app, fake = http_app((503, {}), (200, {"result": "MATCH"}))

    def scenario(wizard):
        wizard.start()
        answer = wizard.step1()
        assert answer.status_code == 200
        assert "لطفاً چند دقیقه دیگر دوباره تلاش کنید" in answer.text
        assert 'value="0012345679"' in answer.text
        assert wizard.client.get("/register/step/1").status_code == 200
        draft = db.session.scalars(select(RegistrationDraft)).one()
        assert draft.step == 1 and draft.data.get("checks", 0) == 0
        assert wizard.step1().headers["Location"].endswith("/step/1")
        assert "کد تأیید" in wizard.client.get("/register/step/1").text

    run(app, scenario)
    assert [r["path"] for r in fake.requests] == ["/mobile-owner", "/mobile-owner"]


def test_unavailable_at_step_two_keeps_everything(http_app):
    app, fake = http_app((200, {"result": "MATCH"}), (504, {}), "drop",
                         (200, {"result": "MATCH", "record": RECORD}))

    def scenario(wizard):
        wizard.start()
        wizard.step1()
        wizard.verify()
        answer = wizard.step2()  # 504, not retried
        assert "سامانه استعلام ثبت احوال در حال حاضر پاسخ نمی‌دهد" in answer.text
        assert 'value="علی"' in answer.text and 'value="1234"' in answer.text
        answer = wizard.step2()  # dropped, retried once → MATCH
        assert answer.headers["Location"].endswith("/step/3"), answer.text
        wizard.step3()
        wizard.step4()
        assert wizard.confirm().status_code == 302
        assert db.session.scalars(select(User)).one().id_code == "0012345679"

    run(app, scenario)
    assert fake.json(-1)["birth_date_jalali"] == "1369/01/01"


@pytest.mark.parametrize(("result", "message"), [
    ("MISMATCH", "امکان ایجاد حساب کاربری وجود ندارد"),
    ("DECEASED", "ثبت نام با این مشخصات امکان‌پذیر نیست"),
    ("INVALID_INPUT", "کد ملی واردشده معتبر نیست"),
])
def test_http_refusals_at_step_one(http_app, result, message):
    app, _ = http_app((200, {"result": result}))

    def scenario(wizard):
        wizard.start()
        assert message in wizard.step1().text

    run(app, scenario)
