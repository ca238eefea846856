"""The audit log as admins read it: filters, pages, CSV export and Jalali timestamps."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from ..errors import DomainError
from ..extensions import db
from ..identity import jalali
from ..models import AuditEvent, User

PAGE_SIZE = 50
CSV_LIMIT = 100_000  # rows in one export; narrow the filters for more
CSV_COLUMNS = ["id", "time_utc", "time_tehran_jalali", "event", "user_code", "actor_code",
               "client_id", "ip", "data"]


@dataclass
class AuditFilter:
    """What to show. Dates are Gregorian calendar days in Tehran, both ends included."""

    event: str = ""
    user_code: str = ""
    client_id: str = ""
    date_from: date | None = None
    date_to: date | None = None


def parse_filter(event: str = "", user_code: str = "", client_id: str = "",
                 date_from: str = "", date_to: str = "") -> AuditFilter:
    """Build a filter from text typed in the form (Jalali dates ``1403/09/05``).

    :raises DomainError: ``jalali_date_invalid`` on ``date_from``/``date_to``, or
        ``date_range_invalid`` when the range is reversed.
    """
    start = jalali.parse(date_from, field="date_from") if date_from else None
    end = jalali.parse(date_to, field="date_to") if date_to else None
    if start and end and start > end:
        raise DomainError("date_range_invalid", field="date_to")
    return AuditFilter(event=event.strip(), user_code=user_code.strip(),
                       client_id=client_id.strip(), date_from=start, date_to=end)


def _tehran_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=jalali.TEHRAN)


def _query(flt: AuditFilter):
    subject = aliased(User)
    actor = aliased(User)
    query = (select(AuditEvent, subject.id_code, actor.id_code)
             .outerjoin(subject, subject.id == AuditEvent.user_id)
             .outerjoin(actor, actor.id == AuditEvent.actor_id))
    if flt.event:
        query = query.where(AuditEvent.event == flt.event)
    if flt.user_code:
        # The account the event is about, or the admin who acted.
        query = query.where(or_(subject.id_code == flt.user_code, actor.id_code == flt.user_code))
    if flt.client_id:
        query = query.where(AuditEvent.client_id == flt.client_id)
    if flt.date_from:
        query = query.where(AuditEvent.created_at >= _tehran_midnight(flt.date_from))
    if flt.date_to:
        query = query.where(AuditEvent.created_at
                            < _tehran_midnight(flt.date_to + timedelta(days=1)))
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


MAX_PAGE = 10**6


def page(flt: AuditFilter, number: int = 1) -> tuple[list[tuple], bool]:
    """Return one page of ``(event, user_code, actor_code)`` rows and whether more follow."""
    number = min(max(1, number), MAX_PAGE)  # a page number of any size stays an SQL integer
    rows = db.session.execute(_query(flt).offset((number - 1) * PAGE_SIZE)
                              .limit(PAGE_SIZE + 1)).all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def event_types() -> list[str]:
    """Every event name present in the log, for the filter's list."""
    return list(db.session.scalars(select(AuditEvent.event).distinct().order_by(AuditEvent.event)))


def format_datetime(moment: datetime | None, persian_digits: bool = True) -> str:
    """Format an audit timestamp to the second (empty when there is none)."""
    if moment is None:
        return ""
    return jalali.format_datetime(moment, persian_digits, seconds=True)


def _safe_cell(value: str) -> str:
    # Spreadsheets run cells that start with these as formulas (CSV injection).
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


def csv_lines(flt: AuditFilter) -> Iterator[str]:
    """Yield the CSV export (UTF-8 with BOM, so spreadsheets read Persian) line by line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + flush()
    rows = db.session.execute(_query(flt).limit(CSV_LIMIT).execution_options(yield_per=500))
    for event, user_code, actor_code in rows:
        writer.writerow([_safe_cell(str(v)) for v in (
            event.id, event.created_at.isoformat(), format_datetime(event.created_at, False),
            event.event, user_code or "", actor_code or "", event.client_id or "",
            event.ip or "", json.dumps(event.data or {}, ensure_ascii=False, sort_keys=True))])
        yield flush()
