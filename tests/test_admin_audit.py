"""The audit log page: filters (event, user code, client, Jalali date range), Jalali
Tehran times, pages and the CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from idp import audit
from idp.admin import audit_log
from idp.errors import DomainError
from idp.extensions import db
from idp.messages import message

from .factories import make_user


@pytest.fixture
def admin(auth):
    return auth.admin_session()


@pytest.fixture
def history(clock, admin):
    """Events over three days around 2026-11-26 08:00 UTC (= 1405/09/05 11:30 in Tehran)."""
    citizen = make_user()
    other = make_user()
    session_time = clock.current
    day0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    clock.current = day0 - timedelta(days=1)  # 1405/09/04
    audit.record("login_failed", user_id=citizen.id, ip="10.0.0.1")
    audit.record("client_created", actor_id=admin.id, client_id="bime")
    clock.current = day0  # 1405/09/05
    audit.record("login_ok", user_id=citizen.id, client_id="bime", ip="10.0.0.2")
    audit.record("support_locked", user_id=other.id, actor_id=admin.id)
    clock.current = day0 + timedelta(days=1)  # 1405/09/06
    audit.record("login_ok", user_id=other.id, client_id="profile", note="=HYPERLINK(1)")
    db.session.commit()
    clock.current = session_time  # the admin session stays fresh
    return {"citizen": citizen, "other": other, "admin": admin}


EVENT_CELL = re.compile(r'<tr>\s*<td>.*?</td>\s*<td><code dir="ltr">([^<]*)</code></td>', re.S)


def rows_of(client, **query) -> list[str]:
    """The event names listed on the page, in order."""
    response = client.get("/admin/audit", query_string=query)
    assert response.status_code == 200
    return EVENT_CELL.findall(response.get_data(as_text=True))


def test_filters(client, history):
    citizen, admin = history["citizen"], history["admin"]
    everything = rows_of(client)
    assert everything[:3] == ["login_ok", "support_locked", "login_ok"]  # newest first
    assert everything[-2:] == ["client_created", "login_failed"]
    assert set(rows_of(client, event="login_ok")) == {"login_ok"}
    assert rows_of(client, user_code=citizen.id_code) == ["login_ok", "login_failed"]
    # The admin's code finds what the admin did as well as what happened to the account.
    assert "support_locked" in rows_of(client, user_code=admin.id_code)
    assert rows_of(client, client_id="bime") == ["login_ok", "client_created"]
    assert rows_of(client, date_from="1405/09/05", date_to="۱۴۰۵/۰۹/۰۵", client_id="bime") == [
        "login_ok"]
    assert rows_of(client, date_from="1405/9/6") == ["login_ok"]
    assert rows_of(client, date_to="1405/09/04") == ["client_created", "login_failed"]


def test_bad_dates_are_explained(client, history):
    page = client.get("/admin/audit", query_string={"date_from": "1405/13/01"}).get_data(
        as_text=True)
    assert message("jalali_date_invalid") in page
    page = client.get("/admin/audit", query_string={"date_from": "1405/09/06",
                                                    "date_to": "1405/09/04"}).get_data(
        as_text=True)
    assert message("date_range_invalid") in page
    assert client.get("/admin/audit.csv", query_string={"date_to": "x"}).status_code == 400


def test_times_are_jalali_in_tehran(client, history):
    page = client.get("/admin/audit", query_string={"event": "support_locked"}).get_data(
        as_text=True)
    assert "۱۴۰۵/۰۹/۰۵ ۱۱:۳۰:۰۰" in page  # 08:00 UTC is 11:30 in Tehran


def test_event_types_are_offered(client, history):
    page = client.get("/admin/audit").get_data(as_text=True)
    assert '<option value="support_locked">support_locked</option>' in page


def test_pages(client, admin):
    for n in range(audit_log.PAGE_SIZE + 5):
        audit.record("login_failed", ip=f"10.0.0.{n % 250}")
    db.session.commit()
    first = client.get("/admin/audit", query_string={"event": "login_failed"}).get_data(
        as_text=True)
    assert "صفحه بعد" in first and "صفحه قبل" not in first
    second = client.get("/admin/audit", query_string={"event": "login_failed", "page": 2})
    assert len(rows_of(client, event="login_failed", page=2)) == 5
    assert "صفحه قبل" in second.get_data(as_text=True)


def test_csv_export_follows_the_filters(client, history):
    response = client.get("/admin/audit.csv",
                          query_string={"user_code": history["citizen"].id_code})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # spreadsheets then read the Persian as UTF-8
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert list(table[0]) == audit_log.CSV_COLUMNS
    assert [r["event"] for r in table] == ["login_ok", "login_failed"]
    assert {r["user_code"] for r in table} == {history["citizen"].id_code}
    assert table[0]["time_tehran_jalali"] == "1405/09/05 11:30:00"
    assert table[0]["time_utc"] == "2026-11-26T08:00:00+00:00"
    assert table[0]["client_id"] == "bime" and table[0]["ip"] == "10.0.0.2"

    later = client.get("/admin/audit.csv", query_string={"date_from": "1405/09/06"})
    [row] = list(csv.DictReader(io.StringIO(later.get_data(as_text=True).lstrip("\ufeff"))))
    assert row["data"] == '{"note": "=HYPERLINK(1)"}'  # inside JSON: not a formula


def test_csv_cells_cannot_become_formulas():
    assert audit_log._safe_cell("=1+1") == "'=1+1"
    assert audit_log._safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert audit_log._safe_cell("login_ok") == "login_ok"


def test_parse_filter_rules(app):
    flt = audit_log.parse_filter(date_from="1405/09/05", date_to="1405/09/05")
    assert flt.date_from == flt.date_to
    with pytest.raises(DomainError) as caught:
        audit_log.parse_filter(date_from="1405/09/06", date_to="1405/09/05")
    assert caught.value.field == "date_to"


def test_viewing_the_log_needs_an_admin_session(client):
    assert client.get("/admin/audit.csv").status_code == 302
