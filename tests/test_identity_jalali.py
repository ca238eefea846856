"""Solar Hijri dates: validation, conversion and display (DOMAIN.md §5)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idp.errors import DomainError
from idp.identity import jalali

TODAY = date(2026, 11, 26)  # 1405/09/05


@pytest.mark.parametrize(("typed", "expected"), [
    ("1370/06/31", date(1991, 9, 22)),
    ("۱۳۷۰/۰۶/۳۱", date(1991, 9, 22)),
    ("١٣٧٠-٦-٣١", date(1991, 9, 22)),
    ("1369/1/1", date(1990, 3, 21)),
    ("1403/12/30", date(2025, 3, 20)),  # 1403 is a leap year
    ("1399/12/30", date(2021, 3, 20)),
])
def test_parse(typed, expected):
    assert jalali.parse(typed, today=TODAY) == expected


@pytest.mark.parametrize("typed", ["1402/12/30", "1370/07/31", "1370/13/01", "1370/00/10",
                                   "1370/01/00", "1289/12/29", "13700631", "1370/06", "abc",
                                   "", None])
def test_impossible_dates_are_refused(typed):
    """No 30 Esfand in a common year, no 31st in autumn months, no month 13, no 1289."""
    with pytest.raises(DomainError) as e:
        jalali.parse(typed, today=TODAY)
    assert (e.value.code, e.value.field) == ("jalali_date_invalid", "birth_date")


def test_future_birth_date_is_refused():
    with pytest.raises(DomainError) as e:
        jalali.to_gregorian(1405, 9, 6, today=TODAY)
    assert e.value.code == "jalali_date_future"
    assert jalali.to_gregorian("۱۴۰۵", "۹", "۵", today=TODAY) == TODAY


def test_selects_accept_persian_digits_and_name_the_field():
    with pytest.raises(DomainError) as e:
        jalali.to_gregorian("x", 1, 1, field="dob")
    assert e.value.field == "dob"


@pytest.mark.parametrize(("year", "month", "days"), [
    (1403, 12, 30), (1402, 12, 29), (1408, 12, 30), (1370, 1, 31), (1370, 6, 31), (1370, 7, 30),
    (1370, 11, 30)])
def test_days_in_month(year, month, days):
    assert jalali.days_in_month(year, month) == days


@given(st.dates(min_value=date(1912, 1, 1), max_value=date(2100, 1, 1)))
def test_round_trip(value):
    """Any Gregorian date → Jalali parts → Gregorian is the identity; formatting parses back."""
    assert jalali.to_gregorian(*jalali.parts(value)) == value
    assert jalali.parse(jalali.format_date(value)) == value
    assert jalali.parse(jalali.format_date(value, persian_digits=False)) == value


def test_format_uses_persian_digits():
    assert jalali.format_date(date(1991, 9, 22)) == "۱۳۷۰/۰۶/۳۱"
    assert jalali.format_date(date(1991, 9, 22), persian_digits=False) == "1370/06/31"
    assert jalali.format_long(date(1991, 9, 22)) == "۳۱ شهریور ۱۳۷۰"
    assert jalali.format_date(None) == ""


def test_tehran_today():
    """21:00 UTC is already the next day in Tehran (UTC+03:30)."""
    assert jalali.tehran_today(datetime(2026, 11, 26, 21, 0, tzinfo=UTC)) == date(2026, 11, 27)


def test_format_datetime_is_tehran_wall_time():
    """An instant is shown as Tehran's date and time to the minute (21:00 UTC is 00:30)."""
    moment = datetime(2026, 11, 26, 21, 0, 59, tzinfo=UTC)
    assert jalali.format_datetime(moment) == "۱۴۰۵/۰۹/۰۶ ۰۰:۳۰"
    assert jalali.format_datetime(moment, persian_digits=False) == "1405/09/06 00:30"
