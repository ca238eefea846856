"""The local identity adapter (registry table) and the shared comparison rule."""

from __future__ import annotations

from datetime import date

import pytest

from idp.identity import IdentityRecord, Status, compare_with_record, registry
from idp.identity.local import LocalIdentityRegistry

from .factories import make_registry_record


def test_default_backend_is_local(app):
    assert isinstance(registry().adapter, LocalIdentityRegistry)  # metrics wrap it


def test_mobile_owner(app):
    """MATCH only for the code's own mobile; unknown codes and other mobiles MISMATCH."""
    row = make_registry_record(mobile="09121112233")
    reg = registry()
    assert reg.verify_mobile_owner("national", row.id_code, "09121112233").status is Status.MATCH
    assert reg.verify_mobile_owner("national", row.id_code, "09121112234").status \
        is Status.MISMATCH
    assert reg.verify_mobile_owner("fida", row.id_code, "09121112233").status \
        is Status.INVALID_INPUT  # ten digits are no FIDA code
    assert reg.verify_mobile_owner("fida", "123456789012", "09121112233").status \
        is Status.MISMATCH
    assert reg.verify_mobile_owner("national", "0012345679", "09121112233").status \
        is Status.MISMATCH
    assert reg.verify_mobile_owner("national", "0012345678", "09121112233").status \
        is Status.INVALID_INPUT


def test_lookup(app):
    """Code and birth date together find the record; a wrong date is a MISMATCH."""
    row = make_registry_record(birth_date=date(1985, 6, 1))
    reg = registry()
    found = reg.lookup_identity("national", row.id_code, date(1985, 6, 1))
    assert found.status is Status.MATCH
    assert found.record == IdentityRecord(
        id_type="national", id_code=row.id_code, first_name=row.first_name,
        last_name=row.last_name, father_name=row.father_name,
        certificate_number=row.certificate_number, birth_date=date(1985, 6, 1),
        gender=row.gender, is_deceased=False)
    assert reg.lookup_identity("national", row.id_code, date(1985, 6, 2)).status \
        is Status.MISMATCH
    assert reg.lookup_identity("national", "12", date(1985, 6, 1)).status is Status.INVALID_INPUT


def test_deceased(app):
    row = make_registry_record(is_deceased=True, birth_date=date(1950, 1, 1))
    reg = registry()
    assert reg.lookup_identity("national", row.id_code, date(1950, 1, 1)).status \
        is Status.DECEASED
    assert reg.verify_mobile_owner("national", row.id_code, row.mobile).status is Status.DECEASED


def test_fida_holder(app):
    row = make_registry_record(id_type="fida", id_code="123456789012")
    assert registry().verify_mobile_owner("fida", "123456789012", row.mobile).ok


RECORD = IdentityRecord(id_type="national", id_code="0012345679", first_name="محمد حسین",
                        last_name="کاظمی", father_name="علی", certificate_number="0123",
                        birth_date=date(1990, 3, 21), gender="male")
TYPED = {"first_name": "محمد\u200cحسين", "last_name": " كاظمی ", "father_name": "علي",
         "certificate_number": "۱۲۳", "birth_date": date(1990, 3, 21), "gender": "male"}


def test_compare_accepts_spelling_variants():
    """Spaces, ZWNJ, Arabic letter forms, Persian digits and leading zeros do not matter."""
    assert compare_with_record(RECORD, **TYPED) == []


@pytest.mark.parametrize(("field", "value"), [
    ("first_name", "محمد"), ("last_name", "کاظمیان"), ("father_name", "حسن"),
    ("certificate_number", "124"), ("birth_date", date(1990, 3, 22)), ("gender", "female"),
    ("first_name", ""), ("certificate_number", "000"),
])
def test_compare_names_the_mismatching_field(field, value):
    """Each differing field is named; the answer never contains a registry value."""
    result = compare_with_record(RECORD, **{**TYPED, field: value})
    assert result == [field]


def test_compare_reports_every_mismatch_in_form_order():
    result = compare_with_record(RECORD, **{**TYPED, "gender": "female", "first_name": "رضا"})
    assert result == ["first_name", "gender"]
