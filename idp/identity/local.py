"""The local identity adapter: the ``registry_records`` table (development, demos, tests).

Seeded with ``flask registry seed`` or loaded with ``flask registry import``. Production
refuses it (``settings.check``).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import RegistryRecord
from .national_id import is_valid_fida_code, is_valid_national_code
from .ports import IdentityRecord, Result, Status


def _well_formed(id_type: str, id_code: str) -> bool:
    if id_type == "national":
        return is_valid_national_code(id_code)
    return id_type == "fida" and is_valid_fida_code(id_code)


def to_record(row: RegistryRecord) -> IdentityRecord:
    return IdentityRecord(
        id_type=row.id_type, id_code=row.id_code, first_name=row.first_name,
        last_name=row.last_name, father_name=row.father_name,
        certificate_number=row.certificate_number, birth_date=row.birth_date,
        gender=row.gender, is_deceased=row.is_deceased)


class LocalIdentityRegistry:
    """Answers from the local registry table, like the real services would."""

    def _row(self, id_type: str, id_code: str) -> RegistryRecord | None:
        return db.session.scalar(select(RegistryRecord).where(
            RegistryRecord.id_code == id_code, RegistryRecord.id_type == id_type))

    def verify_mobile_owner(self, id_type: str, id_code: str, mobile: str) -> Result:
        if not _well_formed(id_type, id_code):
            return Result(Status.INVALID_INPUT, detail="malformed code")
        row = self._row(id_type, id_code)
        if row is None or row.mobile != mobile:
            return Result(Status.MISMATCH)
        if row.is_deceased:
            return Result(Status.DECEASED)
        return Result(Status.MATCH)

    def lookup_identity(self, id_type: str, id_code: str, birth_date: date) -> Result:
        if not _well_formed(id_type, id_code) or not isinstance(birth_date, date):
            return Result(Status.INVALID_INPUT, detail="malformed code or date")
        row = self._row(id_type, id_code)
        # Like the registry's own inquiry, code and birth date are one question.
        if row is None or row.birth_date != birth_date:
            return Result(Status.MISMATCH)
        if row.is_deceased:
            return Result(Status.DECEASED)
        return Result(Status.MATCH, record=to_record(row))
