"""The local registry table as operators manage it: seed, import from CSV, look up.

Used by ``flask registry …``; the identity port itself lives in :mod:`.local`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from typing import IO

from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..models import RegistryRecord
from ..text import normalize_digits, normalize_mobile, normalize_name
from ..unit_of_work import transactional
from . import jalali
from .national_id import parse_id_code
from .seed import synthetic_records

#: Columns of an import file, in the order ``flask registry show`` prints them.
COLUMNS = ("id_type", "id_code", "first_name", "last_name", "father_name",
           "certificate_number", "birth_date", "gender", "mobile", "is_deceased")
REQUIRED = ("id_code", "first_name", "last_name", "father_name", "certificate_number",
            "birth_date", "gender", "mobile")
_GENDERS = {"male": "male", "m": "male", "مرد": "male", "female": "female", "f": "female",
            "زن": "female"}
_TRUE = {"1", "true", "yes", "y", "بله"}
_FALSE = {"", "0", "false", "no", "n", "خیر"}


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    skipped: int = 0  # already present (without ``replace``)
    errors: list[str] = field(default_factory=list)  # "line N: reason"


@transactional
def seed(count: int, seed_value: int) -> int:
    """Add ``count`` synthetic records (deterministic for ``seed_value``); return how many
    were new (codes already present are left alone)."""
    existing = set(db.session.scalars(select(RegistryRecord.id_code)))
    fresh = [r for r in synthetic_records(count, seed_value) if r["id_code"] not in existing]
    db.session.add_all(RegistryRecord(**r) for r in fresh)
    return len(fresh)


def find(code: str) -> RegistryRecord | None:
    """Return the record of a national or FIDA code typed in any digits."""
    return db.session.scalar(select(RegistryRecord).where(
        RegistryRecord.id_code == normalize_digits(code).replace("-", "")))


def parse_row(row: dict) -> dict:
    """Validate and normalise one CSV row into ``RegistryRecord`` values.

    ``id_type`` may be left empty (10 digits → national, 12 → FIDA); a national code that
    lost its leading zeros in a spreadsheet (8–9 digits) is padded. ``birth_date`` is
    Jalali (``1370/06/31``, either digit set) or ISO Gregorian (``1991-09-22``);
    ``gender`` is male/female (or مرد/زن); ``is_deceased`` is optional.

    :raises ValueError: with an English reason naming the column.
    """
    values = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
    missing = [name for name in REQUIRED if not values.get(name)]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    code = normalize_digits(values["id_code"]).replace("-", "")
    id_type = values.get("id_type", "").lower() or ("fida" if len(code) == 12 else "national")
    if id_type not in ("national", "fida"):
        raise ValueError(f"id_type must be national or fida, not {id_type!r}")
    if id_type == "national" and code.isascii() and code.isdigit() and 8 <= len(code) < 10:
        code = code.zfill(10)
    try:
        code = parse_id_code(code, id_type)
    except DomainError:
        raise ValueError(f"invalid {id_type} code {code!r}") from None
    mobile = normalize_mobile(values["mobile"])
    if mobile is None:
        raise ValueError(f"invalid mobile {values['mobile']!r}")
    gender = _GENDERS.get(values["gender"].lower())
    if gender is None:
        raise ValueError(f"gender must be male or female, not {values['gender']!r}")
    deceased = values.get("is_deceased", "").lower()
    if deceased not in _TRUE | _FALSE:
        raise ValueError(f"is_deceased must be true or false, not {deceased!r}")
    return {"id_type": id_type, "id_code": code,
            "first_name": normalize_name(values["first_name"]),
            "last_name": normalize_name(values["last_name"]),
            "father_name": normalize_name(values["father_name"]),
            "certificate_number": normalize_digits(values["certificate_number"]),
            "birth_date": _birth_date(values["birth_date"]), "gender": gender,
            "mobile": mobile, "is_deceased": deceased in _TRUE}


def _birth_date(text: str) -> date:
    folded = normalize_digits(text)
    try:
        if len(folded) == 10 and folded[4] == "-" and int(folded[:4]) > 1800:
            return date.fromisoformat(folded)
        return jalali.parse(folded)
    except (ValueError, DomainError):
        raise ValueError(f"invalid birth_date {text!r} (Jalali 1370/06/31 or ISO)") from None


@transactional
def import_csv(stream: IO[str], replace: bool = False, skip_invalid: bool = False
               ) -> ImportReport:
    """Load registry records from a CSV file with a header row (see :data:`COLUMNS`).

    All or nothing: with any invalid row nothing is written, unless ``skip_invalid``.
    Codes already in the table are skipped, or overwritten with ``replace``.
    """
    report = ImportReport()
    reader = csv.DictReader(stream)
    if not reader.fieldnames or "id_code" not in [f.strip().lower() for f in reader.fieldnames]:
        report.errors.append("line 1: a header row with at least id_code is required")
        return report
    parsed: dict[str, dict] = {}
    for row in reader:
        try:
            values = parse_row(row)
        except ValueError as e:
            report.errors.append(f"line {reader.line_num}: {e}")
            continue
        if values["id_code"] in parsed:
            report.errors.append(f"line {reader.line_num}: {values['id_code']} appears twice")
            continue
        parsed[values["id_code"]] = values
    if report.errors and not skip_invalid:
        return report
    existing = {r.id_code: r for r in db.session.scalars(
        select(RegistryRecord).where(RegistryRecord.id_code.in_(list(parsed))))}
    for code, values in parsed.items():
        row = existing.get(code)
        if row is None:
            db.session.add(RegistryRecord(**values))
            report.added += 1
        elif replace:
            for name, value in values.items():
                setattr(row, name, value)
            report.updated += 1
        else:
            report.skipped += 1
    return report
