"""The registration wizard end to end through the test client (docs/FLOWS.md, "Registration")."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, RegistrationDraft, SmsMessage, SsoSession, User
from idp.security.hashing import sha256

from .factories import auth_params, make_portal, make_registry_record, make_user, query_of

PASSWORD = "Registr8tion"
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def outbox(mobile: str | None = None) -> list[SmsMessage]:
    query = select(SmsMessage).order_by(SmsMessage.id)
    if mobile:
        query = query.where(SmsMessage.mobile == mobile)
    return list(db.session.scalars(query))


class Wizard:
    """Drives the wizard like a browser: each method posts one page and returns the answer."""

    def __init__(self, client, record=None):
        self.client = client
        self.record = record

    def start(self, id_type="national", **extra):
        return self.client.post("/register", data={"id_type": id_type, **extra})

    def step1(self, id_code=None, mobile=None, action="next"):
        return self.client.post("/register/step/1", data={
            "id_code": self.record.id_code if id_code is None else id_code,
            "mobile": self.record.mobile if mobile is None else mobile, "action": action})

    def sms_code(self) -> str:
        return re.search(r"#([0-9]{6})$", outbox(self.record.mobile)[-1].text)[1]

    def verify(self, code=None, action="verify"):
        return self.client.post("/register/step/1", data={
            "code": self.sms_code() if code is None else code, "action": action})

    def person(self, **overrides):
        r = self.record
        values = {"first_name": r.first_name, "last_name": r.last_name,
                  "father_name": r.father_name, "certificate_number": r.certificate_number,
                  "birth_year": "1369", "birth_month": "1", "birth_day": "1",
                  "gender": r.gender, "action": "next"}
        values.update(overrides)
        return values

    def step2(self, **overrides):
        return self.client.post("/register/step/2", data=self.person(**overrides))

    def step3(self, email="citizen@example.ir", action="next"):
        """Submit the email; past the code page with «بعداً» (verified email: its own tests)."""
        answer = self.client.post("/register/step/3", data={"email": email, "action": action})
        if action == "next" and answer.headers.get("Location", "").endswith("/register/step/3"):
            answer = self.client.post("/register/step/3", data={"action": "later"})
        return answer

    def step4(self, password=PASSWORD, confirm=None, action="next"):
        return self.client.post("/register/step/4", data={
            "new_password": password, "confirm": password if confirm is None else confirm,
            "action": action})

    def confirm(self, action="next"):
        return self.client.post("/register/step/5", data={"action": action})

    def through_step(self, last: int, id_type="national"):
        """Pass every step up to ``last`` (1 = mobile proven), asserting each one moves on."""
        assert self.start(id_type).status_code == 302
        assert self.step1().headers["Location"].endswith("/register/step/1")
        assert self.verify().headers["Location"].endswith("/register/step/2")
        for n, action in [(2, self.step2), (3, self.step3), (4, self.step4)]:
            if n > last:
                break
            answer = action()
            assert answer.headers["Location"].endswith(f"/register/step/{n + 1}"), answer.text
        return self


def make_citizen():
    """A citizen in the local registry, born 1369/01/01 (1990-03-21)."""
    return make_registry_record(first_name="محمد حسین", last_name="کاظمی", father_name="علی",
                                certificate_number="4521", birth_date=date(1990, 3, 21),
                                gender="male", mobile="09121110001")


@pytest.fixture
def record(app):
    return make_citizen()


@pytest.fixture
def wizard(client, record):
    return Wizard(client, record)


def events() -> list[str]:
    return [e.event for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_first_page_offers_both_user_types_and_the_notices(client):
    """The start page lets the citizen choose natural person or foreign national."""
    page = client.get("/register").text
    assert "اشخاص حقیقی" in page and "اتباع خارجی" in page
    assert 'value="national"' in page and 'value="fida"' in page
    assert "باید به نام خود شما" in page  # notice 2: the mobile must be the registrant's
    assert "گذرواژه خود را نزد خود نگه دارید" in page  # notice 5
    assert 'href="/login"' in page


def test_happy_path_natural_person(wizard, record):
    """All five steps; the account is created, the welcome SMS sent, events audited."""
    wizard.through_step(4)
    review = wizard.client.get("/register/step/5").text
    for shown in ["محمد حسین", "کاظمی", "علی", "۴۵۲۱", "۱۳۶۹/۰۱/۰۱", "citizen@example.ir",
                  "۰۹۱۲۱۱۱۰۰۰۱", record.id_code.translate(PERSIAN), "مرد", "تایید و ثبت نام"]:
        assert shown in review
    answer = wizard.confirm()
    assert answer.headers["Location"].endswith("/register/done")
    done = wizard.client.get(answer.headers["Location"]).text
    assert "ثبت نام شما با موفقیت انجام شد." in done and 'href="/login"' in done
    user = db.session.scalars(select(User)).one()
    assert (user.id_type, user.id_code, user.mobile, user.email) == (
        "national", record.id_code, "09121110001", "citizen@example.ir")
    assert (user.first_name, user.last_name, user.father_name, user.gender) == (
        "محمد حسین", "کاظمی", "علی", "male")
    assert user.birth_date == date(1990, 3, 21) and user.certificate_number == "4521"
    assert user.status == "active" and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    welcome = outbox()[-1]
    assert welcome.mobile == "09121110001"
    assert welcome.text == ("آقای محمد حسین کاظمی، به سرویس‌های متمرکز سازمان تأمین اجتماعی "
                            "خوش آمدید. حساب کاربری شما ایجاد گردید.")
    assert events()[-1] == "registration_completed"
    completed = db.session.scalars(select(AuditEvent)).all()[-1]
    assert completed.user_id == user.id
    assert db.session.scalars(select(RegistrationDraft)).all() == []
    assert "idp_registration=;" in answer.headers.get("Set-Cookie", "")


def test_happy_path_foreign_national(client, app):
    """A FIDA holder registers the same way; the welcome SMS says خانم for a woman."""
    record = make_registry_record(id_type="fida", id_code="۱۲۳۴۵۶۷۸۹۰۱۲".translate(
        str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")), first_name="Sara", last_name="Karimi",
        father_name="Ahmad", certificate_number="X12345", gender="female",
        birth_date=date(1995, 5, 5), mobile="09351230000")
    wizard = Wizard(client, record)
    wizard.start("fida")
    page = client.get("/register/step/1").text
    assert "کد فیدا" in page and "اتباع خارجی" in page
    wizard.step1(id_code="۱۲۳۴ ۵۶۷۸ ۹۰۱۲", mobile="+98 935 123 0000")
    wizard.verify()
    answer = wizard.step2(first_name="sara", last_name="KARIMI", father_name="Ahmad",
                          certificate_number="X12345", birth_year="1374", birth_month="2",
                          birth_day="15", gender="female")
    assert answer.headers["Location"].endswith("/register/step/3"), answer.text
    wizard.step3("Sara.K@Example.COM")
    wizard.step4()
    assert wizard.confirm().status_code == 302
    user = db.session.scalars(select(User)).one()
    assert (user.id_type, user.id_code, user.email) == ("fida", "123456789012",
                                                        "Sara.K@example.com")
    assert outbox()[-1].text.startswith("خانم sara KARIMI، به سرویس‌های متمرکز")
    assert outbox()[-1].mobile == "09351230000"


def test_persian_digits_in_every_numeric_field(wizard, record):
    """Code, mobile, SMS code, certificate number and date selects accept Persian digits."""
    wizard.start()
    wizard.step1(id_code=record.id_code.translate(PERSIAN),
                 mobile="۰۹۱۲ ۱۱۱ ۰۰۰۱")
    assert wizard.verify(code=wizard.sms_code().translate(PERSIAN)).headers[
        "Location"].endswith("/step/2")
    answer = wizard.step2(certificate_number="۴۵۲۱", birth_year="۱۳۶۹", birth_month="۱",
                          birth_day="۱")
    assert answer.headers["Location"].endswith("/step/3"), answer.text


def test_draft_lives_server_side_and_cookie_holds_only_a_key(wizard, record):
    """The cookie is an opaque HttpOnly key scoped to /register; nothing personal in it."""
    answer = wizard.start()
    cookie = answer.headers["Set-Cookie"]
    raw = re.search(r"idp_registration=([^;]+)", cookie)[1]
    assert "HttpOnly" in cookie and "Path=/register" in cookie and "SameSite=Lax" in cookie
    wizard.step1()
    draft = db.session.scalars(select(RegistrationDraft)).one()
    assert draft.key_hash == sha256(raw) and raw not in draft.key_hash
    assert record.id_code not in raw and record.mobile not in raw
    session_cookie = wizard.client.get_cookie("session")
    assert session_cookie is None or record.mobile not in session_cookie.value


def test_reload_and_come_back_lands_on_the_same_step(wizard, clock):
    """/register and other step URLs send the citizen to the draft's step."""
    wizard.through_step(2)
    assert wizard.client.get("/register").headers["Location"].endswith("/register/step/3")
    assert wizard.client.get("/register/step/5").headers["Location"].endswith("/step/3")
    assert wizard.client.get("/register/step/1").headers["Location"].endswith("/step/3")
    clock.advance(29 * 60)  # idle just under REGISTRATION_DRAFT_TTL
    assert wizard.client.get("/register/step/3").status_code == 200
    clock.advance(29 * 60)  # the visit above extended the draft's life
    assert wizard.client.get("/register/step/3").status_code == 200


def test_draft_expires_after_idle_time(wizard, clock):
    """After 30 idle minutes the draft is gone; the citizen is told and starts again."""
    wizard.through_step(2)
    clock.advance(30 * 60)
    answer = wizard.client.get("/register/step/3")
    assert answer.headers["Location"].endswith("/register")
    page = wizard.client.get("/register").text
    assert "مهلت تکمیل ثبت نام تمام شد" in page
    assert wizard.step3().headers["Location"].endswith("/register")


def test_back_navigation_keeps_what_was_typed(wizard, record):
    """مرحله قبل from each step shows the previous page filled in; values of the page left
    are kept too (even when not yet valid)."""
    wizard.through_step(3)
    # Step 4 → 3: the email is still there.
    assert wizard.step4(action="back").headers["Location"].endswith("/step/3")
    assert 'value="citizen@example.ir"' in wizard.client.get("/register/step/3").text
    # Step 3 → 2 with a half-typed email: kept for later.
    assert wizard.step3(email="half@", action="back").headers["Location"].endswith("/step/2")
    page = wizard.client.get("/register/step/2").text
    assert 'value="محمد حسین"' in page and 'value="4521"' in page
    assert '<option selected value="1369">' in page
    # Step 2 → 1 with a changed (unchecked) first name: kept.
    wizard.step2(first_name="محمدحسین", action="back")
    page = wizard.client.get("/register/step/1").text
    assert f'value="{record.id_code}"' in page and 'value="09121110001"' in page
    # Unchanged code and mobile: straight to step 2, no second SMS.
    sent = len(outbox())
    assert wizard.step1().headers["Location"].endswith("/step/2")
    assert len(outbox()) == sent
    assert 'value="محمدحسین"' in wizard.client.get("/register/step/2").text
    wizard.step2()
    assert 'value="half@"' in wizard.client.get("/register/step/3").text
    # Step 1 → the first page keeps the chosen type.
    wizard.client.post("/register/step/3", data={"email": "x@y.ir", "action": "back"})
    wizard.client.post("/register/step/2", data=wizard.person(action="back"))
    assert wizard.step1(action="back").headers["Location"].endswith("/register")
    start = wizard.client.get("/register").text
    assert 'checked id="id_type-0" name="id_type" type="radio" value="national"' in start \
        or re.search(r'<input checked[^>]*value="national"', start)


def test_back_from_review_asks_for_the_password_again(wizard):
    wizard.through_step(4)
    assert wizard.confirm(action="back").headers["Location"].endswith("/step/4")
    page = wizard.client.get("/register/step/4").text
    assert PASSWORD not in page
    assert wizard.client.get("/register/step/5").headers["Location"].endswith("/step/4")


def test_changing_the_code_after_verification_needs_a_new_sms(wizard, app, clock):
    """Back at step 1 with another code or mobile the ownership check and SMS run again."""
    other = make_registry_record(mobile="09121110002")
    wizard.through_step(1)
    wizard.client.post("/register/step/2", data=wizard.person(action="back"))
    clock.advance(120)
    answer = wizard.step1(id_code=other.id_code, mobile=other.mobile)
    assert answer.headers["Location"].endswith("/step/1")
    assert outbox()[-1].mobile == "09121110002"
    assert wizard.client.get("/register/step/2").headers["Location"].endswith("/step/1")


def test_switching_user_type_starts_over(wizard):
    wizard.through_step(1)
    wizard.client.post("/register/step/2", data=wizard.person(action="back"))
    wizard.step1(action="back")
    wizard.start("fida")
    assert "کد فیدا" in wizard.client.get("/register/step/1").text
    draft = db.session.scalars(select(RegistrationDraft)).one()
    assert (draft.id_type, draft.id_code, draft.mobile_verified_at) == ("fida", None, None)


def test_restart_discards_the_draft(wizard):
    wizard.through_step(2)
    answer = wizard.client.post("/register/restart")
    assert answer.headers["Location"].endswith("/register")
    assert db.session.scalars(select(RegistrationDraft)).all() == []
    assert "شروع ثبت نام" in wizard.client.get("/register").text


LENGTH = "کد ملی ده رقم دارد؛ لطفاً همه رقم‌های آن را وارد کنید."
CHECK_DIGIT = "رقم کنترل (رقم آخر) این کد ملی با نه رقم دیگر نمی‌خواند؛"
NOT_VALID = "کد ملی واردشده معتبر نیست؛ لطفاً آن را دوباره بررسی کنید."


@pytest.mark.parametrize(("typed", "message", "not_said"), [
    ("0012345678", CHECK_DIGIT, LENGTH),
    ("1111111111", NOT_VALID, LENGTH),
    ("12345", LENGTH, CHECK_DIGIT),
    ("12345678901", LENGTH, CHECK_DIGIT),
    ("", "پر کردن این فیلد الزامی است.", LENGTH),
], ids=["check-digit", "repeated", "short", "long", "empty"])
def test_bad_national_code(wizard, typed, message, not_said):
    """A wrong length and a wrong check digit are told apart; repeated digits are refused."""
    wizard.start()
    answer = wizard.step1(id_code=typed)
    assert answer.status_code == 200 and message in answer.text
    assert not_said not in answer.text
    assert f'value="{typed}"' in answer.text or not typed
    assert outbox() == []


def test_bad_mobile(wizard):
    wizard.start()
    answer = wizard.step1(mobile="0812345")
    assert "شماره همراه معتبر نیست" in answer.text and 'value="0812345"' in answer.text


def test_mobile_not_registered_to_the_code(wizard, record):
    """The ownership check fails: the guide's message; no SMS; audited (masked)."""
    wizard.start()
    answer = wizard.step1(mobile="09129999999")
    assert answer.status_code == 200
    assert "امکان ایجاد حساب کاربری وجود ندارد" in answer.text
    assert outbox() == []
    event = db.session.scalars(select(AuditEvent)).one()
    assert event.event == "registration_mobile_refused" and event.data["result"] == "MISMATCH"
    assert record.id_code not in str(event.data)


def test_account_already_exists(client, app):
    """A registered code gets "sign in instead" with a link to ورود به سامانه."""
    user = make_user(mobile="09121110003")
    wizard = Wizard(client, user)
    wizard.start()
    answer = wizard.step1()
    assert "قبلاً حساب کاربری ساخته شده است" in answer.text
    assert "ورود به سامانه" in answer.text and 'href="/login"' in answer.text
    assert outbox() == []


def test_already_registered_is_not_told_to_a_stranger(client, app):
    """Whether a code has an account is said only with the mobile registered to it:
    a code typed with someone else's number gets the ownership refusal, so step 1 is
    no oracle for which codes are registered (recovery keeps the same secret)."""
    user = make_user(mobile="09121110004")
    wizard = Wizard(client, user)
    wizard.start()
    answer = wizard.step1(mobile="09129999999")
    assert "قبلاً حساب کاربری ساخته شده است" not in answer.text
    assert "امکان ایجاد حساب کاربری وجود ندارد" in answer.text
    assert outbox() == []


def test_deceased_person_cannot_register(client, app):
    record = make_registry_record(is_deceased=True)
    wizard = Wizard(client, record)
    wizard.start()
    answer = wizard.step1()
    assert "ثبت نام با این مشخصات امکان‌پذیر نیست" in answer.text
    assert db.session.scalars(select(AuditEvent)).one().data["result"] == "DECEASED"


def test_deceased_found_at_step_two(wizard, record):
    wizard.through_step(1)
    record.is_deceased = True
    db.session.commit()
    answer = wizard.step2()
    assert "ثبت نام با این مشخصات امکان‌پذیر نیست" in answer.text


@pytest.mark.parametrize(("field", "value", "message"), [
    ("first_name", "محمد", "نام با اطلاعات ثبت احوال مطابقت ندارد."),
    ("last_name", "کاظمیان", "نام خانوادگی با اطلاعات ثبت احوال مطابقت ندارد."),
    ("father_name", "حسن", "نام پدر با اطلاعات ثبت احوال مطابقت ندارد."),
    ("certificate_number", "4522", "شماره شناسنامه با اطلاعات ثبت احوال مطابقت ندارد."),
    ("gender", "female", "جنسیت با اطلاعات ثبت احوال مطابقت ندارد."),
])
def test_registry_mismatch_names_the_field_without_revealing_values(wizard, field, value,
                                                                    message):
    wizard.through_step(1)
    answer = wizard.step2(**{field: value})
    assert answer.status_code == 200
    assert message in answer.text
    assert "مطابقت ندارد. موارد مشخص‌شده" in answer.text
    page = answer.text
    record_value = {"first_name": "محمد حسین", "last_name": "کاظمی", "father_name": "علی",
                    "certificate_number": "4521", "gender": None}[field]
    if record_value:
        assert record_value not in page.replace(f'value="{value}"', "")
    assert db.session.scalars(select(AuditEvent)).all()[-1].data["fields"] == [field]


def test_birth_date_mismatch(wizard):
    wizard.through_step(1)
    answer = wizard.step2(birth_day="2")
    assert "تاریخ تولد با اطلاعات ثبت احوال این کد مطابقت ندارد" in answer.text


@pytest.mark.parametrize(("year", "month", "day", "message"), [
    ("1402", "12", "30", "تاریخ واردشده وجود ندارد"),
    ("1370", "7", "31", "تاریخ واردشده وجود ندارد"),
    ("1405", "12", "1", "نمی‌تواند بعد از امروز باشد"),
    ("", "1", "1", "پر کردن این فیلد الزامی است."),
])
def test_impossible_birth_dates(wizard, year, month, day, message):
    wizard.through_step(1)
    answer = wizard.step2(birth_year=year, birth_month=month, birth_day=day)
    assert answer.status_code == 200 and message in answer.text


def test_name_with_digits_is_refused(wizard):
    wizard.through_step(1)
    answer = wizard.step2(first_name="علی۲")
    assert "فقط حروف فارسی یا لاتین" in answer.text


def test_registry_checks_per_draft_are_limited(wizard, app):
    """Each draft may ask the registry REGISTRATION_MAX_REGISTRY_CHECKS times."""
    wizard.through_step(1)  # 1 check
    for _ in range(4):
        assert "مطابقت ندارد" in wizard.step2(father_name="حسن").text
    answer = wizard.step2()
    assert "تعداد استعلام‌های این ثبت نام از حد مجاز گذشت" in answer.text


@pytest.mark.parametrize(("email", "ok"), [("bad@", False), ("علی@example.ir", False),
                                           ("a@b", False), (" Ali@Example.IR ", True)])
def test_email_step(wizard, email, ok):
    wizard.through_step(2)
    answer = wizard.step3(email)
    if ok:
        assert answer.headers["Location"].endswith("/step/4")
        draft = db.session.scalars(select(RegistrationDraft)).one()
        assert draft.data["email"] == "Ali@example.ir"
    else:
        assert "نشانی ایمیل معتبر نیست" in answer.text


@pytest.mark.parametrize(("password", "confirm", "message"), [
    ("Short1", None, "دست‌کم ۸ نویسه"),
    ("alllowercase1", None, "حرف بزرگ لاتین"),
    ("ALLUPPERCASE1", None, "حرف کوچک لاتین"),
    ("NoDigitsHere", None, "دست‌کم یک رقم"),
    ("Pass word12", None, "فقط می‌تواند از حروف بزرگ و کوچک لاتین"),
    ("Gozarvazhe۱۲", None, "فقط می‌تواند از حروف بزرگ و کوچک لاتین"),
    ("Password1", None, "بسیار رایج"),
    ("Registr8tion", "Registr8tioN", "تکرار گذرواژه با گذرواژه یکسان نیست."),
])
def test_weak_passwords(wizard, password, confirm, message):
    """Every rule (docs/FLOWS.md, "Password rules") is checked on the server; the page shows why."""
    wizard.through_step(3)
    answer = wizard.step4(password, confirm)
    assert answer.status_code == 200 and message in answer.text
    assert password not in answer.text


def test_password_containing_the_national_code(wizard, record):
    wizard.through_step(3)
    answer = wizard.step4(f"Ab{record.id_code}")
    assert "نباید کد ملی یا کد فیدای شما را در خود داشته باشد" in answer.text


def test_pages_carry_the_mobile_friendly_input_hints(wizard):
    """ltr, inputmode=numeric, autocomplete hints and the one-time-code field."""
    wizard.start()
    page = wizard.client.get("/register/step/1").text
    assert re.search(r'<input[^>]*autocomplete="username"[^>]*dir="ltr"[^>]*'
                     r'inputmode="numeric"[^>]*name="id_code"', page)
    assert re.search(r'<input[^>]*autocomplete="tel"[^>]*dir="ltr"[^>]*inputmode="numeric"'
                     r'[^>]*name="mobile"[^>]*type="tel"', page)
    assert 'name="viewport"' in page and 'aria-current="step"' in page
    wizard.step1()
    page = wizard.client.get("/register/step/1").text
    assert re.search(r'<input[^>]*autocomplete="one-time-code"[^>]*dir="ltr"[^>]*'
                     r'inputmode="numeric"[^>]*name="code"', page)
    assert 'type="number"' not in page
    wizard.verify()
    page = wizard.client.get("/register/step/2").text
    assert 'autocomplete="given-name"' in page and 'autocomplete="family-name"' in page
    assert "۱۳۶۹" in page and "فروردین" in page  # Persian digits and month names
    wizard.step2()
    assert 'autocomplete="email"' in wizard.client.get("/register/step/3").text
    wizard.step3()
    page = wizard.client.get("/register/step/4").text
    assert 'autocomplete="new-password"' in page and 'data-password-rules' in page
    assert "مرحله قبل" in page and "مرحله بعد" in page


def test_started_from_a_portal_signs_in_and_returns(wizard, client):
    """With next (the parked authorization request) finishing signs the citizen in."""
    client.get("/register?next=/authorize%3Fclient_id%3Deservices")
    assert wizard.start(next="/authorize?client_id=eservices").status_code == 302
    wizard.step1()
    wizard.verify()
    wizard.step2()
    wizard.step3()
    wizard.step4()
    answer = wizard.confirm()
    assert answer.headers["Location"] == "/register/done?next=/authorize?client_id%3Deservices"
    assert "idp_session=" in ";".join(answer.headers.getlist("Set-Cookie"))
    done = client.get(answer.headers["Location"]).text  # the system message, then «ادامه»
    assert "ثبت نام شما با موفقیت انجام شد." in done
    assert '<a href="/authorize?client_id=eservices" class="btn btn-primary">ادامه</a>' in done
    session = db.session.scalars(select(SsoSession)).one()
    assert session.amr == ["sms"]  # the SMS code of step 1 was the proof, no password typed


@pytest.mark.parametrize("signed_in", [False, True])
def test_prompt_create_registers_then_answers_the_portal(wizard, client, oidc, signed_in):
    """prompt=create (Initiating User Registration via OpenID Connect 1.0): the portal's
    request goes to the wizard, even from a signed-in browser, and comes back to the portal
    with a code for the new citizen."""
    assert "create" in client.get("/.well-known/openid-configuration").json[
        "prompt_values_supported"]
    rp, secret = make_portal(first_party=True)
    if signed_in:
        oidc.sign_in(make_user())
    params = auth_params(rp, prompt="create", scope="openid national_id")
    response = oidc.authorize(params)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/register"
    resume = parse_qs(location.query)["next"][0]
    assert resume.startswith("/authorize/resume?key=")
    assert wizard.start(next=resume).status_code == 302
    wizard.step1()
    wizard.verify()
    wizard.step2()
    wizard.step3()
    wizard.step4()
    done = wizard.confirm().headers["Location"]
    assert parse_qs(urlsplit(done).query)["next"] == [resume]
    answer = query_of(client.get(resume))
    assert answer["state"] == params["state"] and "code" in answer, answer
    tokens = oidc.exchange(rp, secret, answer["code"], params).json
    assert oidc.decode(tokens["id_token"]).claims["amr"] == ["sms"]
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.json["national_code"] == wizard.record.id_code


def test_register_link_of_the_sign_in_page_keeps_the_portal(wizard, client):
    """A citizen sent to /login by a portal who follows "ثبت نام" comes back to it."""
    portal = "/authorize?client_id=eservices&state=s1"
    page = client.get("/login", query_string={"next": portal}).text
    link = re.search(r'<a href="([^"]*)">ثبت نام</a>', page)[1].replace("&amp;", "&")
    start = client.get(link).text
    next_value = re.search(r'name="next"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="next"',
                           start)
    assert next_value and portal in next_value.group(0).replace("&amp;", "&")
    assert wizard.start(next=portal).status_code == 302
    wizard.step1()
    wizard.verify()
    wizard.step2()
    wizard.step3()
    wizard.step4()
    done = wizard.confirm().headers["Location"]
    assert parse_qs(urlsplit(done).query)["next"] == [portal]


def test_already_registered_links_to_sign_in_with_the_portal(client, app):
    """"Already registered" sends the citizen to sign in, still bound for the portal."""
    user = make_user()
    record_wizard = Wizard(client, user)
    record_wizard.start(next="/authorize?client_id=eservices")
    page = record_wizard.step1().text
    assert 'href="/login?next=/authorize?client_id%3Deservices"' in page


def test_restart_looks_like_a_link_not_the_main_button(app):
    """"انصراف و شروع دوباره" (btn-link) must not wear the primary button's colours."""
    css = Path(app.static_folder, "css", "idp.css").read_text(encoding="utf-8")
    rule = re.search(r"\.btn-link \{([^}]*)\}", css)
    assert rule and "background: transparent" in rule[1]


def test_unsafe_next_is_ignored(wizard):
    wizard.start(next="https://evil.example/")
    draft = db.session.scalars(select(RegistrationDraft)).one()
    assert "next" not in draft.data


def test_cookie_lifetime_follows_activity(wizard):
    """Each visit renews the cookie's Max-Age with the draft's (idle) lifetime."""
    wizard.start()
    answer = wizard.client.get("/register/step/1")
    cookie = [c for c in answer.headers.getlist("Set-Cookie") if "idp_registration=" in c]
    assert cookie and "Max-Age=1800" in cookie[0] and "HttpOnly" in cookie[0]


@pytest.mark.parametrize(("id_type", "total"), [("national", "10"), ("fida", "12")])
def test_digit_counter_follows_the_user_type(wizard, id_type, total):
    """The code field's counter counts to the chosen type's length (12 for FIDA from the
    first digit), and the script takes that total from the field."""
    wizard.start(id_type)
    page = wizard.client.get("/register/step/1").text
    field = re.search(r'<input[^>]*name="id_code"[^>]*>', page)[0]
    assert f'data-digit-total="{total}"' in field
    script = (Path(__file__).parents[1] / "static" / "js" / "accounts.js").read_text()
    assert "input.dataset.digitTotal" in script


def test_one_live_countdown_on_the_code_step(wizard):
    """The code step has one countdown, on the «ارسال دوباره کد» button (the script ticks
    it); no second, frozen sentence beside it."""
    wizard.start()
    wizard.step1()
    page = wizard.client.get("/register/step/1").text
    assert page.count("data-resend-wait=") == 1 and 'data-resend-wait="120"' in page
    assert "(پس از" not in page and "ثانیه" not in page
    assert "ارسال دوباره کد" in page


def test_notices_are_shown_on_every_step(wizard):
    """The five notices are shown (compact, not folded away) on the first page and on
    every step."""
    pages = [wizard.client.get("/register").text]
    wizard.start()
    pages.append(wizard.client.get("/register/step/1").text)
    wizard.step1()
    wizard.verify()
    pages.append(wizard.client.get("/register/step/2").text)
    for page in pages:
        assert "<details" not in page and 'class="notices' in page
        assert "باید به نام خود شما" in page and "گذرواژه خود را نزد خود نگه دارید" in page


def test_success_text_is_inside_the_system_message_box(wizard):
    """As in the user guide, «ثبت نام شما با موفقیت انجام شد.» is inside «پیام سیستم»."""
    wizard.through_step(4)
    answer = wizard.confirm()
    done = wizard.client.get(answer.headers["Location"]).text
    box = re.search(r'<section class="card[^"]*">(.*?)</section>', done, re.S)[1]
    assert "پیام سیستم" in box and "ثبت نام شما با موفقیت انجام شد." in box
    assert done.count("ثبت نام شما با موفقیت انجام شد.") == 1
