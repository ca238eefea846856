"""One-time SMS codes: lifetime, attempts, single use, resend and hourly limits."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from idp.errors import DomainError
from idp.extensions import db
from idp.models import OtpChallenge, SmsMessage
from idp.security import otp
from idp.security.hashing import keyed_hash
from idp.text import fa_digits

MOBILE = "09121234567"


def last_sms(mobile: str = MOBILE) -> SmsMessage:
    return db.session.scalars(select(SmsMessage).where(SmsMessage.mobile == mobile)
                              .order_by(SmsMessage.id.desc())).first()


def sent_code(mobile: str = MOBILE) -> str:
    return re.search(r"#([0-9]{6})$", last_sms(mobile).text)[1]


def test_issue_sends_a_webotp_sms_and_stores_only_an_hmac(app):
    """The SMS goes to the mobile, ends with '@host #code'; the row holds only an HMAC."""
    challenge = otp.issue_code("registration", "draft-1", MOBILE)
    sms = last_sms()
    code = sent_code()
    assert sms.mobile == MOBILE and sms.template == "otp_registration"
    assert sms.text.splitlines()[-1] == f"@localhost #{code}"
    assert fa_digits(code) in sms.text.splitlines()[1]  # Persian digits in the Persian line
    row = db.session.get(OtpChallenge, challenge.id)
    assert row.code_hmac == keyed_hash(code, "otp") and code not in row.code_hmac
    assert (row.expires_at - row.created_at).total_seconds() == 120


def test_other_purposes_use_the_generic_template(app):
    otp.issue_code("some_purpose", "user-7", MOBILE)
    assert last_sms().template == "otp"
    assert last_sms().text.endswith(f"@localhost #{sent_code()}")


def test_right_code_works_once(app):
    """Persian digits are accepted; a second use of the same code is refused."""
    otp.issue_code("registration", "d", MOBILE)
    code = sent_code()
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert otp.verify_code("registration", "d", f" {persian} ").consumed_at is not None
    with pytest.raises(DomainError) as e:
        otp.verify_code("registration", "d", code)
    assert e.value.code == "otp_expired"


def test_code_is_bound_to_purpose_and_subject(app):
    otp.issue_code("registration", "d1", MOBILE)
    code = sent_code()
    for purpose, subject in [("recovery", "d1"), ("registration", "d2")]:
        with pytest.raises(DomainError) as e:
            otp.verify_code(purpose, subject, code)
        assert e.value.code == "otp_expired"  # nothing issued for them
    assert otp.verify_code("registration", "d1", code)


def test_wrong_codes_count_down_then_the_code_is_dead(app):
    """Five wrong tries kill the code; even the right code is refused afterwards."""
    otp.issue_code("registration", "d", MOBILE)
    code = sent_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(DomainError) as e:
            otp.verify_code("registration", "d", wrong)
        assert (e.value.code, e.value.params, e.value.field) == (
            "otp_invalid", {"attempts_left": left}, "code")
    with pytest.raises(DomainError) as e:
        otp.verify_code("registration", "d", "12")  # malformed counts as a try too
    assert e.value.code == "otp_dead"
    with pytest.raises(DomainError) as e:
        otp.verify_code("registration", "d", code)
    assert e.value.code == "otp_dead"


def test_code_expires(app, clock):
    otp.issue_code("registration", "d", MOBILE)
    code = sent_code()
    clock.advance(120)
    with pytest.raises(DomainError) as e:
        otp.verify_code("registration", "d", code)
    assert e.value.code == "otp_expired"


def test_code_valid_until_its_lifetime(app, clock):
    otp.issue_code("registration", "d", MOBILE)
    clock.advance(119)
    assert otp.verify_code("registration", "d", sent_code())


def test_resend_only_after_the_cooldown(app, clock):
    """A second code within 120 s is refused with the seconds left; after that it works
    and only the newest code counts."""
    otp.issue_code("registration", "d", MOBILE)
    first = sent_code()
    clock.advance(30)
    with pytest.raises(DomainError) as e:
        otp.issue_code("registration", "d", MOBILE)
    assert (e.value.code, e.value.params) == ("otp_resend_too_soon", {"seconds": 90})
    assert otp.seconds_until_resend("registration", MOBILE) == 90
    clock.advance(90)
    assert otp.seconds_until_resend("registration", MOBILE) == 0
    otp.issue_code("registration", "d", MOBILE)
    second = sent_code()
    if first != second:
        with pytest.raises(DomainError):
            otp.verify_code("registration", "d", first)
    assert otp.verify_code("registration", "d", second)


def test_cooldown_is_per_mobile_across_subjects(app, clock):
    """A new draft does not get around the cooldown of the same mobile; other mobiles do."""
    otp.issue_code("registration", "d1", MOBILE)
    with pytest.raises(DomainError) as e:
        otp.issue_code("registration", "d2", MOBILE)
    assert e.value.code == "otp_resend_too_soon"
    otp.issue_code("registration", "d2", "09351234567")


def test_hourly_limit(app, clock):
    """Five codes per mobile in any hour; the sixth is refused until the first is an hour old."""
    for _ in range(5):
        otp.issue_code("registration", "d", MOBILE)
        clock.advance(600)
    with pytest.raises(DomainError) as e:
        otp.issue_code("registration", "d", MOBILE)
    assert e.value.code == "otp_hourly_limit"
    assert db.session.scalar(select(OtpChallenge.id).order_by(OtpChallenge.id.desc())) == 5
    clock.advance(600)  # the first code is now more than an hour old
    otp.issue_code("registration", "d", MOBILE)


def test_refused_issue_leaves_no_trace(app, clock):
    """A refused request neither sends an SMS nor moves the cooldown."""
    otp.issue_code("registration", "d", MOBILE)
    clock.advance(100)
    with pytest.raises(DomainError):
        otp.issue_code("registration", "d", MOBILE)
    assert len(db.session.scalars(select(SmsMessage)).all()) == 1
    clock.advance(20)
    otp.issue_code("registration", "d", MOBILE)


def test_codes_are_random_six_digits(app, clock):
    codes = set()
    for i in range(5):
        otp.issue_code("registration", str(i), f"0912000000{i}")
        codes.add(sent_code(f"0912000000{i}"))
    assert all(re.fullmatch(r"[0-9]{6}", c) for c in codes) and len(codes) > 1


def _race(app, work, n=2):
    """Run ``work(i)`` in ``n`` threads released together; return what each gave or raised."""
    import threading

    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = work(i)
            except DomainError as e:
                results[i] = e.code
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_requests_send_one_code(app):
    """Two requests for the same mobile at once: one code, one "too soon" (DB-enforced)."""
    results = _race(app, lambda i: otp.issue_code("registration", f"d{i}", MOBILE).id)
    assert sorted(r == "otp_resend_too_soon" for r in results) == [False, True], results
    db.session.expire_all()
    assert len(db.session.scalars(select(SmsMessage)).all()) == 1


def test_concurrent_verifications_use_the_code_once(app):
    otp.issue_code("registration", "d", MOBILE)
    code = sent_code()
    db.session.remove()
    results = _race(app, lambda i: otp.verify_code("registration", "d", code).id)
    assert sorted(r == "otp_expired" for r in results) == [False, True], results
