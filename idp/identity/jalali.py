"""Solar Hijri (Jalali) dates at the edges: typed or selected in Jalali, stored Gregorian.

Months 1–6 have 31 days, 7–11 have 30 and month 12 has 29 (30 in a leap year, by
jdatetime's 33-year rule, which agrees with ICU for 1300–1501 AP). Pure functions: the
caller passes "today" so the clock port stays in charge of time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import jdatetime

from ..errors import DomainError
from ..text import fa_digits, normalize_digits

MIN_YEAR = 1290  # no living person was born earlier
MONTH_NAMES = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
               "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند")
# Iran has kept UTC+03:30 all year since 2022 (no daylight saving).
TEHRAN = timezone(timedelta(hours=3, minutes=30), "Asia/Tehran")
_TYPED = re.compile(r"([0-9]{4})[/\-]([0-9]{1,2})[/\-]([0-9]{1,2})", re.ASCII)


def tehran_today(moment: datetime) -> date:
    """Return the calendar date in Tehran at the aware instant ``moment``."""
    return moment.astimezone(TEHRAN).date()


def days_in_month(year: int, month: int) -> int:
    """Return the number of days of a Jalali month (leap years give Esfand 30 days)."""
    if month < 12:
        return 31 if month <= 6 else 30
    return 30 if jdatetime.date(year, 1, 1).isleap() else 29


def to_gregorian(year: object, month: object, day: object, today: date | None = None,
                 field: str = "birth_date") -> date:
    """Validate a Jalali year/month/day and return the Gregorian date.

    Each part may be an int or text with Persian/Arabic-Indic digits.

    :param today: when given, a date after it is refused (a birth date cannot be future).
    :raises DomainError: ``jalali_date_invalid`` (no such day, or a year before 1290) or
        ``jalali_date_future``, on ``field``.
    """
    try:
        y, m, d = (int(normalize_digits(str(part))) for part in (year, month, day))
    except ValueError:
        raise DomainError("jalali_date_invalid", field=field) from None
    if not MIN_YEAR <= y <= 9377 or not 1 <= m <= 12 or not 1 <= d <= days_in_month(y, m):
        raise DomainError("jalali_date_invalid", field=field)
    result = jdatetime.date(y, m, d).togregorian()
    if today is not None and result > today:
        raise DomainError("jalali_date_future", field=field)
    return result


def parse(text: str | None, today: date | None = None, field: str = "birth_date") -> date:
    """Parse ``1370/06/31`` (either digit set, ``/`` or ``-``, 1-digit month/day) to Gregorian.

    :raises DomainError: as :func:`to_gregorian`.
    """
    match = _TYPED.fullmatch(normalize_digits(text))
    if match is None:
        raise DomainError("jalali_date_invalid", field=field)
    return to_gregorian(*match.groups(), today=today, field=field)


def parts(value: date) -> tuple[int, int, int]:
    """Return the Jalali ``(year, month, day)`` of a Gregorian date."""
    j = jdatetime.date.fromgregorian(date=value)
    return j.year, j.month, j.day


def format_date(value: date | None, persian_digits: bool = True) -> str:
    """Format a Gregorian date as Jalali ``۱۳۷۰/۰۶/۳۱`` (or ``1370/06/31``)."""
    if value is None:
        return ""
    y, m, d = parts(value)
    text = f"{y:04d}/{m:02d}/{d:02d}"
    return fa_digits(text) if persian_digits else text


def format_datetime(moment: datetime, persian_digits: bool = True,
                    seconds: bool = False) -> str:
    """Format an aware instant as Tehran wall time in Jalali: ``۱۴۰۵/۰۹/۰۵ ۱۱:۳۰``
    (``۱۱:۳۰:۰۰`` with ``seconds``)."""
    local = moment.astimezone(TEHRAN)
    clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    text = f"{format_date(local.date(), persian_digits=False)} {clock}"
    return fa_digits(text) if persian_digits else text


def format_long(value: date | None) -> str:
    """Format a Gregorian date as ``۳۱ شهریور ۱۳۷۰`` (Persian digits and month name)."""
    if value is None:
        return ""
    y, m, d = parts(value)
    return fa_digits(f"{d} {MONTH_NAMES[m - 1]} {y}")
