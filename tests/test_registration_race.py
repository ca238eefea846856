"""Exactly one account per code: duplicates and racing confirmations (DB-enforced)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from idp.accounts.passwords import hash_password
from idp.extensions import db
from idp.models import AuditEvent, RegistrationDraft, User

from .test_registration import Wizard, make_citizen, outbox


@pytest.fixture
def record(app):
    return make_citizen()


def at_review(client, record, clock) -> Wizard:
    wizard = Wizard(client, record)
    wizard.start()
    wizard.step1()
    wizard.verify()
    wizard.step2()
    wizard.step3()
    wizard.step4()
    clock.advance(120)  # the next browser may get its own SMS code
    return wizard


def test_account_created_meanwhile_gives_the_sign_in_message(app, record, clock):
    """Someone finished first: confirming says "already registered"; nothing half-made."""
    wizard = at_review(app.test_client(), record, clock)
    db.session.add(User(id_type="national", id_code=record.id_code, mobile="09120000000",
                        first_name="x", last_name="y", father_name="z", gender="male",
                        birth_date=record.birth_date, certificate_number="1",
                        password_hash=hash_password("Other1234")))
    db.session.commit()
    answer = wizard.confirm()
    assert answer.status_code == 200
    assert "قبلاً حساب کاربری ساخته شده است" in answer.text and 'href="/login"' in answer.text
    assert db.session.scalar(select(func.count(User.id))) == 1
    assert db.session.scalar(select(func.count(RegistrationDraft.id))) == 1  # kept
    assert "registration_duplicate" in [e.event for e in db.session.scalars(select(AuditEvent))]
    assert all("خوش آمدید" not in m.text for m in outbox())


def test_double_submit_of_one_draft(app, record, clock):
    """A second click on تایید و ثبت نام after success does not fail or duplicate."""
    client = app.test_client()
    wizard = at_review(client, record, clock)
    cookie = client.get_cookie("idp_registration", path="/register").value
    assert wizard.confirm().status_code == 302
    client.set_cookie("idp_registration", cookie, path="/register")
    answer = wizard.confirm()
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/register")
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_two_browsers_racing_create_one_account(app, record, clock):
    """Two confirmations for the same code at the same moment: one account, one refusal.

    Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL where the two
    transactions really overlap and the unique index decides.
    """
    first = at_review(app.test_client(), record, clock)
    second = at_review(app.test_client(), record, clock)
    barrier = threading.Barrier(2)
    answers = {}

    def confirm(name, wizard):
        with app.app_context():
            barrier.wait()
            answers[name] = wizard.confirm()
            db.session.remove()

    threads = [threading.Thread(target=confirm, args=(n, w))
               for n, w in (("first", first), ("second", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    statuses = sorted(a.status_code for a in answers.values())
    assert statuses == [200, 302], statuses
    refused = next(a for a in answers.values() if a.status_code == 200)
    assert "قبلاً حساب کاربری ساخته شده است" in refused.text
    db.session.expire_all()
    assert db.session.scalar(select(func.count(User.id))) == 1
    welcome = [m for m in outbox() if "خوش آمدید" in m.text]
    assert len(welcome) == 1
