"""The database unreachable: 503 with Retry-After (a Persian page, or RFC 6749-style JSON on
the protocol endpoints), one log line per request and no traceback; service resumes by
itself once the database answers again."""

from __future__ import annotations

import logging
import socket

import pytest
import sqlalchemy as sa

from .conftest import TEST_DATABASE_URL
from .factories import make_client

FORM = {"id_code": "0012345679", "password": "x"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unreachable_urls(tmp_path):
    return {
        "sqlite-missing-directory": f"sqlite:///{tmp_path / 'missing' / 'dir' / 'idp.sqlite3'}",
        "postgresql-nothing-listening":
            f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test",
    }


def assert_one_quiet_line_per_request(caplog, requests: int) -> None:
    assert not [r for r in caplog.records if r.exc_info], "no traceback is logged"
    lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(lines) == requests, [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize("kind", ["sqlite-missing-directory", "postgresql-nothing-listening"])
def test_sign_in_page_says_try_later_when_the_database_is_unreachable(
        make_app, tmp_path, caplog, kind):
    """POST /login answers 503 with Retry-After and a Persian page, not a 500."""
    app = make_app(DATABASE_URL=unreachable_urls(tmp_path)[kind])
    caplog.set_level(logging.INFO)
    response = app.test_client().post("/login", data=FORM)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    page = response.get_data(as_text=True)
    assert "موقتاً در دسترس نیست" in page and "خطای داخلی" not in page
    assert_one_quiet_line_per_request(caplog, 1)


@pytest.mark.parametrize("kind", ["sqlite-missing-directory", "postgresql-nothing-listening"])
@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/introspect", "/oauth/revoke"])
def test_protocol_endpoints_answer_temporarily_unavailable(make_app, tmp_path, caplog,
                                                           kind, path):
    """The token, introspection and revocation endpoints answer JSON 503
    ``temporarily_unavailable`` with Retry-After."""
    app = make_app(DATABASE_URL=unreachable_urls(tmp_path)[kind])
    caplog.set_level(logging.INFO)
    response = app.test_client().post(path, data={"grant_type": "client_credentials",
                                                  "token": "abc"}, auth=("portal", "secret"))
    assert response.status_code == 503
    assert response.json["error"] == "temporarily_unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Cache-Control"] == "no-store"
    assert_one_quiet_line_per_request(caplog, 1)


def test_english_page_when_the_database_is_unreachable(make_app, tmp_path):
    app = make_app(DATABASE_URL=unreachable_urls(tmp_path)["sqlite-missing-directory"])
    response = app.test_client().post("/login?lang=en", data=FORM)
    assert response.status_code == 503
    assert "temporarily unavailable" in response.get_data(as_text=True)


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_a_terminated_connection_costs_one_503_then_service_resumes(app, make_app, caplog):
    """pg_terminate_backend on the pooled connection: the next request answers 503, the
    pool drops that connection, and the request after it is served normally."""
    served = make_app()  # its own pool (``app`` empties the tables afterwards)
    with served.app_context():
        client_row, secret = make_client(client_type="service", redirect_uris=[],
                                         grant_types=["client_credentials"], scope="openid")
        client_id = client_row.client_id
        from idp.extensions import db

        pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        db.session.remove()  # back to the pool: the next request gets this connection
        url = served.config["SQLALCHEMY_DATABASE_URI"]
    killer = sa.create_engine(url)
    with killer.begin() as conn:
        assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()
    caplog.set_level(logging.INFO)
    http = served.test_client()
    data = {"grant_type": "client_credentials"}
    first = http.post("/oauth/token", data=data, auth=(client_id, secret))
    assert first.status_code == 503 and first.json["error"] == "temporarily_unavailable"
    assert_one_quiet_line_per_request(caplog, 1)
    assert http.post("/oauth/token", data=data, auth=(client_id, secret)).status_code == 200


def test_pages_behind_a_session_cookie_say_try_later(make_app, tmp_path, caplog):
    """A browser with an SSO cookie gets the 503 page on /account and /authorize too."""
    app = make_app(DATABASE_URL=unreachable_urls(tmp_path)["sqlite-missing-directory"])
    caplog.set_level(logging.INFO)
    browser = app.test_client()
    browser.set_cookie(app.config["SSO_COOKIE_NAME"], "a" * 43, domain="localhost")
    for path in ("/account", "/authorize?client_id=portal&response_type=code&scope=openid"):
        response = browser.get(path)
        assert response.status_code == 503, path
        assert "موقتاً در دسترس نیست" in response.get_data(as_text=True)
    assert_one_quiet_line_per_request(caplog, 2)


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_pool_timeout_answers_503(make_app, caplog):
    """Every pooled connection busy past the pool timeout: 503 with Retry-After, not 500."""
    served = make_app(DB_POOL_SIZE=1, DB_MAX_OVERFLOW=0,
                      SQLALCHEMY_ENGINE_OPTIONS={"pool_timeout": 0.2})
    caplog.set_level(logging.INFO)
    with served.app_context():
        from idp.extensions import db

        held = db.engine.connect()  # the only connection the pool may open
        try:
            response = served.test_client().post("/oauth/token",
                                              data={"grant_type": "client_credentials"},
                                              auth=("portal", "secret"))
        finally:
            held.close()
    assert response.status_code == 503 and response.json["error"] == "temporarily_unavailable"
    assert "Retry-After" in response.headers
    assert_one_quiet_line_per_request(caplog, 1)
