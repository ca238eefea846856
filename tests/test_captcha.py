"""The self-hosted CAPTCHA: asked for past the soft limits of sign-in, registration step 1
and recovery step 1; image and audio; answered once, server-side, in any digits."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuditEvent, CaptchaChallenge, SmsMessage, SsoSession

from .factories import DEFAULT_PASSWORD, make_registry_record, make_user

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
UNKNOWN = "0012345679"  # a valid code without an account
REQUIRED = "برای ادامه، رقم‌های تصویر امنیتی را بنویسید."
WRONG = "رقم‌های تصویر امنیتی درست نبود"


@pytest.fixture
def captcha_on(configure):
    """CAPTCHA on with small limits; each test raises the ones it does not exercise."""

    def change(**limits):
        configure(CAPTCHA_ENABLED=True, **{"CAPTCHA_LOGIN_IP_FAILURES": 100,
                                            "CAPTCHA_LOGIN_ACCOUNT_FAILURES": 100,
                                            "CAPTCHA_SMS_IP_LIMIT": 100,
                                            "CAPTCHA_SMS_TARGET_LIMIT": 100, **limits})

    return change


def challenge_in(page: str) -> str | None:
    match = re.search(r'name="captcha_id" value="([^"]+)"', page)
    return match[1] if match else None


def answer_of(challenge: str) -> str:
    return db.session.scalar(select(CaptchaChallenge.answer)
                             .where(CaptchaChallenge.id == challenge))


WRONG_PASSWORD = "Wrong1234"


def sign_in(client, id_code, password=WRONG_PASSWORD, **captcha):
    return client.post("/login", data={"id_code": id_code, "password": password, **captcha})


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_sign_in_asks_after_failures_from_an_ip(client, captcha_on):
    """Past CAPTCHA_LOGIN_IP_FAILURES failures from one IP, the sign-in page shows an
    accessible CAPTCHA (image with alt text, audio, a new image, a label); not before,
    and not for another IP."""
    captcha_on(CAPTCHA_LOGIN_IP_FAILURES=3)
    assert challenge_in(client.get("/login").get_data(as_text=True)) is None
    for code in ("0012345679", "1234567891", "0087654326"):
        assert sign_in(client, code).status_code == 200
    page = client.get("/login").get_data(as_text=True)
    challenge = challenge_in(page)
    assert challenge and "تصویر امنیتی" in page
    assert re.search(rf'<img class="captcha-image" src="/captcha/{challenge}.png"[^>]*alt="[^"]+"',
                     page)
    assert f'href="/captcha/{challenge}.wav"' in page
    assert f'href="/captcha/{challenge}.png?new=1"' in page and "تصویر جدید" in page
    assert '<label for="captcha_answer">رقم‌های تصویر امنیتی</label>' in page
    other = client.get("/login", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert challenge_in(other.get_data(as_text=True)) is None


def test_sign_in_asks_after_failures_for_an_account(client, captcha_on):
    """Past CAPTCHA_LOGIN_ACCOUNT_FAILURES for one code (from any IPs), signing in to it
    needs the CAPTCHA even with the right password; the right answer lets it through."""
    captcha_on(CAPTCHA_LOGIN_ACCOUNT_FAILURES=2)
    user = make_user()
    for ip in ("10.0.0.1", "10.0.0.2"):
        client.post("/login", data={"id_code": user.id_code, "password": "Wrong1234"},
                    environ_base={"REMOTE_ADDR": ip})
    refused = sign_in(client, user.id_code, DEFAULT_PASSWORD)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and REQUIRED in page
    challenge = challenge_in(page)
    assert challenge
    assert count(SsoSession) == 0
    answered = sign_in(client, user.id_code, DEFAULT_PASSWORD, captcha_id=challenge,
                       captcha_answer=answer_of(challenge))
    assert answered.status_code == 302
    assert count(SsoSession) == 1


def test_codes_without_an_account_get_the_captcha_too(client, captcha_on):
    """An unknown code is asked for the CAPTCHA exactly like an account: no enumeration."""
    captcha_on(CAPTCHA_LOGIN_ACCOUNT_FAILURES=1)
    user = make_user()
    pages = []
    for code in (user.id_code, UNKNOWN):
        sign_in(client, code)
        pages.append(REQUIRED in sign_in(client, code).get_data(as_text=True))
    assert pages == [True, True]


def test_wrong_answer_is_refused_and_nothing_else_is_done(client, captcha_on):
    """A wrong answer: a Persian error on the field, no password check (no failure
    counted, no audit row, no session), the challenge used up and a new one shown."""
    captcha_on(CAPTCHA_LOGIN_ACCOUNT_FAILURES=1)
    user = make_user()
    sign_in(client, user.id_code)
    challenge = challenge_in(sign_in(client, user.id_code).get_data(as_text=True))
    db.session.refresh(user)
    failures, audits = user.failed_logins, count(AuditEvent)
    right = answer_of(challenge)
    wrong = "0" * len(right) if right != "0" * len(right) else "1" * len(right)
    response = sign_in(client, user.id_code, DEFAULT_PASSWORD, captcha_id=challenge,
                       captcha_answer=wrong)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and WRONG in page
    assert 'class="field-error" role="alert">رقم‌های تصویر امنیتی درست نبود' in page
    db.session.refresh(user)
    assert user.failed_logins == failures and count(AuditEvent) == audits
    assert count(SsoSession) == 0
    assert answer_of(challenge) is None  # used up
    assert challenge_in(page) not in (None, challenge)


def test_right_answer_works_once_only(client, captcha_on):
    """A right answer is used up by the attempt it came with, even when the password was
    wrong: replaying it with the right password is refused."""
    captcha_on(CAPTCHA_LOGIN_ACCOUNT_FAILURES=1)
    user = make_user()
    sign_in(client, user.id_code)
    challenge = challenge_in(sign_in(client, user.id_code).get_data(as_text=True))
    answer = answer_of(challenge)
    first = sign_in(client, user.id_code, "Wrong1234", captcha_id=challenge,
                    captcha_answer=answer)
    assert "کد ملی/کد فیدا یا گذرواژه نادرست است." in first.get_data(as_text=True)
    replay = sign_in(client, user.id_code, DEFAULT_PASSWORD, captcha_id=challenge,
                     captcha_answer=answer)
    assert replay.status_code == 200 and WRONG in replay.get_data(as_text=True)
    assert count(SsoSession) == 0


@pytest.mark.parametrize("digits", [PERSIAN, ARABIC], ids=["persian", "arabic"])
def test_persian_and_arabic_digits_are_accepted(client, captcha_on, digits):
    captcha_on(CAPTCHA_LOGIN_ACCOUNT_FAILURES=1)
    user = make_user()
    sign_in(client, user.id_code)
    challenge = challenge_in(sign_in(client, user.id_code).get_data(as_text=True))
    typed = " " + answer_of(challenge).translate(digits) + " "
    answered = sign_in(client, user.id_code, DEFAULT_PASSWORD, captcha_id=challenge,
                       captcha_answer=typed)
    assert answered.status_code == 302


def test_image_audio_and_a_new_image_are_served(client, captcha_on):
    """The image is a PNG, the audio a WAV, ``?new=1`` changes the digits; unknown → 404."""
    captcha_on(CAPTCHA_LOGIN_IP_FAILURES=1)
    sign_in(client, UNKNOWN)
    challenge = challenge_in(client.get("/login").get_data(as_text=True))
    image = client.get(f"/captcha/{challenge}.png")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data.startswith(b"\x89PNG") and image.headers["Cache-Control"] == "no-store"
    audio = client.get(f"/captcha/{challenge}.wav")
    assert audio.status_code == 200 and audio.mimetype == "audio/wav"
    assert audio.data[:4] == b"RIFF" and len(audio.data) > 10_000
    before = answer_of(challenge)
    answers = set()
    for _ in range(5):  # five new draws of five digits are not all the same as before
        assert client.get(f"/captcha/{challenge}.png?new=1").status_code == 200
        db.session.expire_all()
        answers.add(answer_of(challenge))
    assert answers - {before}
    assert client.get("/captcha/nope.png").status_code == 404
    assert client.get("/captcha/nope.wav").status_code == 404


def test_expired_challenge_is_refused(client, captcha_on, clock):
    captcha_on(CAPTCHA_LOGIN_ACCOUNT_FAILURES=1, CAPTCHA_TTL=60)
    user = make_user()
    sign_in(client, user.id_code)
    challenge = challenge_in(sign_in(client, user.id_code).get_data(as_text=True))
    answer = answer_of(challenge)
    clock.advance(61)
    assert client.get(f"/captcha/{challenge}.png").status_code == 404
    late = sign_in(client, user.id_code, DEFAULT_PASSWORD, captcha_id=challenge,
                   captcha_answer=answer)
    assert WRONG in late.get_data(as_text=True)


def test_turned_off_it_never_asks(client, configure):
    """CAPTCHA_ENABLED=False (the test default) never asks, whatever the counts."""
    configure(CAPTCHA_LOGIN_IP_FAILURES=1, CAPTCHA_LOGIN_ACCOUNT_FAILURES=1)
    user = make_user()
    for _ in range(3):
        sign_in(client, user.id_code)
    assert challenge_in(client.get("/login").get_data(as_text=True)) is None
    assert sign_in(client, user.id_code, DEFAULT_PASSWORD).status_code == 302


def test_recovery_step_one_asks_past_the_ip_soft_limit(client, captcha_on):
    """Past CAPTCHA_SMS_IP_LIMIT recovery requests from an IP, step 1 shows the CAPTCHA;
    without its answer no SMS is sent; with it the recovery starts."""
    captcha_on(CAPTCHA_SMS_IP_LIMIT=1)
    first, second = make_user(), make_user()
    assert client.post("/recover", data={"id_code": first.id_code, "method": "sms"}) \
        .status_code == 302
    sent = count(SmsMessage)
    page = client.get("/recover").get_data(as_text=True)
    challenge = challenge_in(page)
    assert challenge
    refused = client.post("/recover", data={"id_code": second.id_code, "method": "sms"})
    assert refused.status_code == 200 and REQUIRED in refused.get_data(as_text=True)
    assert count(SmsMessage) == sent
    answered = client.post("/recover", data={
        "id_code": second.id_code, "method": "sms", "captcha_id": challenge,
        "captcha_answer": answer_of(challenge).translate(PERSIAN)})
    assert answered.status_code == 302
    assert count(SmsMessage) == sent + 1


def test_registration_step_one_asks_past_the_mobile_soft_limit(client, captcha_on, clock):
    """A mobile given CAPTCHA_SMS_TARGET_LIMIT times at step 1 needs the CAPTCHA next time
    (SMS pumping); a wrong answer sends nothing and keeps the citizen on step 1."""
    captcha_on(CAPTCHA_SMS_TARGET_LIMIT=1)
    record = make_registry_record(mobile="09121110001")
    form = {"id_code": record.id_code, "mobile": record.mobile, "action": "next"}
    client.post("/register", data={"id_type": "national"})
    assert client.post("/register/step/1", data=form).status_code == 302
    sms = count(SmsMessage, SmsMessage.mobile == record.mobile)
    assert sms == 1
    client.post("/register/step/1", data={"action": "edit"})  # "change the mobile"
    clock.advance(600)  # past the resend wait: only the CAPTCHA stands in the way
    refused = client.post("/register/step/1", data=form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and REQUIRED in page
    challenge = challenge_in(page)
    wrong = client.post("/register/step/1", data={**form, "captcha_id": challenge,
                                                  "captcha_answer": "x"})
    assert WRONG in wrong.get_data(as_text=True)
    assert count(SmsMessage, SmsMessage.mobile == record.mobile) == sms
    challenge = challenge_in(wrong.get_data(as_text=True))
    answered = client.post("/register/step/1", data={
        **form, "captcha_id": challenge, "captcha_answer": answer_of(challenge)})
    assert answered.status_code == 302
    assert count(SmsMessage, SmsMessage.mobile == record.mobile) == sms + 1


def test_captcha_texts_in_english(client, captcha_on):
    captcha_on(CAPTCHA_LOGIN_IP_FAILURES=1)
    sign_in(client, UNKNOWN)
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert "Security image" in page and "Audio version" in page and "New image" in page
    assert "Digits in the security image" in page


def test_counts_are_shared_through_redis(app, make_app, redis_url):
    """With REDIS_URL the soft-limit counts are shared by every instance."""
    config = {"CAPTCHA_ENABLED": True, "CAPTCHA_LOGIN_IP_FAILURES": 2, "REDIS_URL": redis_url}
    first, second = make_app(**config).test_client(), make_app(**config).test_client()
    sign_in(first, UNKNOWN)
    sign_in(second, UNKNOWN)
    assert challenge_in(first.get("/login").get_data(as_text=True))
    assert challenge_in(second.get("/login").get_data(as_text=True))


def test_audio_is_rate_limited_per_ip(app, make_app):
    """Drawing the audio costs CPU: the route is limited per IP like SMS requests."""
    http = make_app(CAPTCHA_ENABLED=True, CAPTCHA_LOGIN_IP_FAILURES=1, RATELIMIT_ENABLED=True,
                    RATELIMIT_SMS="2 per hour").test_client()
    sign_in(http, UNKNOWN)
    challenge = challenge_in(http.get("/login").get_data(as_text=True))
    answers = [http.get(f"/captcha/{challenge}.wav").status_code for _ in range(3)]
    assert answers == [200, 200, 429]
