"""Input limits: the request body is bounded (413) and every form field is capped before
the form does any work — no huge password is hashed, no huge value is echoed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuditEvent

from .factories import auth_params, make_portal, make_user, query_of

BIG = 100 * 1024 * 1024  # the probe's 100 MB body
PASSWORD_MAX, SHORT_MAX = 128, 20  # the caps README's "Input limits" documents


def events(name):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_body_limit_is_a_setting_of_64_kb(app):
    """MAX_CONTENT_LENGTH is a typed setting, 64 KB by default, given to Flask."""
    from idp import settings

    assert settings.of(app).max_content_length == 65536
    assert app.config["MAX_CONTENT_LENGTH"] == 65536


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/introspect", "/oauth/revoke"])
def test_oversized_body_at_a_protocol_endpoint_is_413_json(client, path):
    """A body over the limit → 413 with an RFC 6749-style JSON error; nothing is parsed."""
    rp, secret = make_portal()
    response = client.post(path, data={"grant_type": "client_credentials",
                                       "token": "x" * 70000}, auth=(rp.client_id, secret))
    assert response.status_code == 413
    assert response.json["error"] == "invalid_request"


def test_oversized_json_registration_is_413_json(app, client, configure):
    """A DCR body over the limit → 413 JSON."""
    configure(DCR_ENABLED=True)
    response = client.post("/connect/register", data="[" + "1," * 40000 + "1]",
                           content_type="application/json",
                           headers={"Authorization": "Bearer x"})
    assert response.status_code == 413 and response.json["error"] == "invalid_request"


def test_oversized_body_at_a_page_is_a_persian_413_page(client):
    """A body over the limit at /login → a Persian 413 page, no sign-in attempted."""
    user = make_user()
    response = client.post("/login", data={"id_code": user.id_code, "password": "x" * 70000})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "بیش از اندازه" in page and 'lang="fa"' in page
    assert events("login_failed") == []


def test_a_huge_declared_body_is_refused_before_reading(client):
    """A Content-Length of 100 MB is refused from the header alone."""
    response = client.post("/oauth/token", data=b"grant_type=x",
                           environ_overrides={"CONTENT_LENGTH": str(BIG)},
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


def test_a_long_password_is_refused_before_it_is_hashed(app, client, configure):
    """A password over the field cap fails the form: no sign-in attempt, no failure counted,
    the value is not echoed."""
    configure(MAX_CONTENT_LENGTH=2 * 1024 * 1024)
    user = make_user()
    password = "Aa1" * 300000  # 900 KB, inside a raised body limit
    response = client.post("/login", data={"id_code": user.id_code, "password": password})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"حداکثر {PASSWORD_MAX}".translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in page
    assert "Aa1Aa1" not in page
    assert events("login_failed") == [] and events("login_ok") == []


def test_a_long_id_code_is_not_echoed(app, client, configure):
    """A 1 MB id_code (with the body limit raised) → a form error, not a 1 MB page."""
    configure(MAX_CONTENT_LENGTH=2 * 1024 * 1024)
    response = client.post("/login", data={"id_code": "1" * 1024 * 1024, "password": "x"})
    assert response.status_code == 200
    assert len(response.get_data()) < 50_000
    assert "1111111111111111111111" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("path", "field", "cap"), [
    ("/login", "id_code", SHORT_MAX), ("/login", "password", PASSWORD_MAX),
    ("/recover", "id_code", SHORT_MAX)])
def test_every_field_has_a_cap(client, path, field, cap):
    """One character over a field's cap is refused with the too_long message."""
    response = client.post(path, data={field: "7" * (cap + 1)})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "7" * (cap + 1) not in page
    assert "حداکثر" in page


def test_a_page_number_of_any_size_is_served(client, auth):
    """The audit log's ?page= of 4,301 digits (or 10**30) never reaches SQL as an overflow."""
    auth.admin_session()
    for page in ("9" * 4301, str(10**30), "-5", "x"):
        assert client.get(f"/admin/audit?page={page}").status_code == 200


@pytest.mark.parametrize("value", ["9" * 4301, "1" * 30])
def test_admin_numbers_are_bounded(client, auth, value):
    """An admin number field with more digits than any setting needs → a form error."""
    auth.admin_session()
    response = client.post("/admin/registration-tokens", data={"label": "x", "ttl_hours": value,
                                                  "max_uses": value})
    assert response.status_code in (200, 400), response.status_code


@pytest.mark.parametrize("number", ["9" * 4301, "9" * 30])
def test_huge_ids_in_paths_are_not_found(client, auth, number):
    """An <int:…> path part of any length → 404, never an int-string or SQL overflow."""
    auth.admin_session()
    assert client.get(f"/admin/users/{number}").status_code == 404
    assert client.get(f"/register/step/{number}").status_code in (302, 404)


def test_a_long_authorize_parameter_is_invalid_request_and_not_parked(client, oidc):
    """A query-string value over 8,192 characters → invalid_request; no request is parked."""
    from idp.models import PendingAuthorization

    rp, _ = make_portal()
    response = oidc.authorize(auth_params(rp, nonce="n" * 9000))
    assert response.status_code == 302 and query_of(response)["error"] == "invalid_request"
    assert db.session.scalar(select(func.count()).select_from(PendingAuthorization)) == 0


def test_going_back_does_not_keep_a_long_value(client):
    """Registration "back" keeps typed values without a form; an over-long one is dropped."""
    from idp.models import RegistrationDraft

    client.post("/register", data={"id_type": "national"})
    client.post("/register/step/1", data={"action": "back", "id_code": "1" * 5000,
                                          "mobile": "09121234567"})
    draft = db.session.scalar(select(RegistrationDraft))
    assert draft.data["typed"]["1"] == {"mobile": "09121234567"}
