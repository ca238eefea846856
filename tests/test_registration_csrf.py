"""The wizard with CSRF protection on, as in production."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import RegistrationDraft, User

from .factories import make_registry_record
from .test_registration import PASSWORD, outbox


@pytest.fixture
def csrf_app(app, make_app):
    """An extra app with CSRF on; ``app`` cleans the shared database afterwards."""
    extra = make_app(WTF_CSRF_ENABLED=True)
    with extra.app_context():
        yield extra
        db.session.remove()


def token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]


def test_post_without_token_is_refused(csrf_app):
    """No token: a Persian 400 page, no draft, never a 500."""
    client = csrf_app.test_client()
    answer = client.post("/register", data={"id_type": "national"})
    assert answer.status_code == 400 and 'lang="fa"' in answer.text
    assert db.session.scalars(select(RegistrationDraft)).all() == []


def test_whole_wizard_with_tokens(csrf_app):
    """Every page carries a token and the wizard completes with them."""
    record = make_registry_record(mobile="09121119999")
    client = csrf_app.test_client()

    def post(url, **data):
        page = client.get(url).text
        return client.post(url, data={"csrf_token": token(page), **data})

    assert post("/register", id_type="national").status_code == 302
    assert post("/register/step/1", id_code=record.id_code, mobile=record.mobile,
                action="next").status_code == 302
    code = re.search(r"#([0-9]{6})$", outbox()[-1].text)[1]
    assert post("/register/step/1", code=code, action="verify").status_code == 302
    assert post("/register/step/2", first_name=record.first_name, last_name=record.last_name,
                father_name=record.father_name, certificate_number=record.certificate_number,
                birth_year="1369", birth_month="1", birth_day="1", gender=record.gender,
                action="next").status_code == 302
    assert post("/register/step/3", email="c@example.ir", action="next").status_code == 302
    assert post("/register/step/3", action="later").status_code == 302
    assert post("/register/step/4", new_password=PASSWORD, confirm=PASSWORD,
                action="next").status_code == 302
    forged = client.post("/register/step/5", data={"action": "next"})
    assert forged.status_code == 400
    assert db.session.scalars(select(User)).all() == []
    assert post("/register/step/5", action="next").headers["Location"].endswith("/done")
    assert db.session.scalars(select(User)).one().id_code == record.id_code
