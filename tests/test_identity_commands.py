"""``flask registry seed|import|show``: the local civil registry for operators."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select

from idp.extensions import db
from idp.identity.national_id import is_valid_fida_code, is_valid_national_code
from idp.models import RegistryRecord
from idp.text import normalize_mobile

HEADER = "id_type,id_code,first_name,last_name,father_name,certificate_number,birth_date," \
         "gender,mobile,is_deceased\n"


def count() -> int:
    return db.session.scalar(select(func.count(RegistryRecord.id)))


def test_seed_is_deterministic_and_valid(runner, app):
    """Same --seed, same citizens; every code, mobile and name is well-formed."""
    result = runner.invoke(args=["registry", "seed", "--count", "12", "--seed", "7"])
    assert result.exit_code == 0 and "added 12" in result.output
    rows = db.session.scalars(select(RegistryRecord).order_by(RegistryRecord.id)).all()
    assert {r.id_type for r in rows} == {"national", "fida"}
    for r in rows:
        valid = is_valid_national_code if r.id_type == "national" else is_valid_fida_code
        assert valid(r.id_code) and normalize_mobile(r.mobile) == r.mobile
        assert r.gender in ("male", "female") and r.first_name and not r.is_deceased
    codes = [r.id_code for r in rows]
    assert "added 0" in runner.invoke(args=["registry", "seed", "--count", "12",
                                            "--seed", "7"]).output
    db.session.execute(RegistryRecord.__table__.delete())
    db.session.commit()
    runner.invoke(args=["registry", "seed", "--count", "12", "--seed", "7"])
    assert [r.id_code for r in db.session.scalars(
        select(RegistryRecord).order_by(RegistryRecord.id))] == codes


def test_import_csv(runner, app, tmp_path):
    """Jalali or ISO dates, Persian digits, inferred type, zero-padding, Persian gender."""
    path = tmp_path / "people.csv"
    path.write_text("\ufeff" + HEADER +
                    "national,۰۰۱۲۳۴۵۶۷۹,علي,احمدی,حسین,۱۲۳,۱۳۷۰/۰۶/۳۱,مرد,۰۹۱۲ ۱۲۳ ۴۵۶۷,\n"
                    ",123456789012,Sara,Karimi,Ahmad,X1,1995-05-05,female,+989351230000,no\n"
                    ",87654326,زهرا,رضایی,رضا,9,1369/1/1,زن,9121112233,true\n",
                    encoding="utf-8")
    result = runner.invoke(args=["registry", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "added 3, updated 0, skipped 0 existing, 0 invalid" in result.output
    first = db.session.scalar(select(RegistryRecord).where(
        RegistryRecord.id_code == "0012345679"))
    assert (first.first_name, first.certificate_number, first.birth_date, first.gender,
            first.mobile, first.id_type) == ("علی", "123", date(1991, 9, 22), "male",
                                             "09121234567", "national")
    fida = db.session.scalar(select(RegistryRecord).where(
        RegistryRecord.id_code == "123456789012"))
    assert fida.id_type == "fida" and fida.mobile == "09351230000"
    padded = db.session.scalar(select(RegistryRecord).where(
        RegistryRecord.id_code == "0087654326"))
    assert padded.is_deceased and padded.gender == "female"


def test_import_is_all_or_nothing(runner, app, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER +
                    "national,0012345679,علی,احمدی,حسین,1,1370/06/31,male,09121234567,\n"
                    "national,0012345678,علی,احمدی,حسین,1,1370/06/31,male,09121234567,\n"
                    "national,0087654326,علی,احمدی,حسین,1,1402/12/30,male,09121234567,\n"
                    "national,2720012343,علی,احمدی,,1,1370/06/31,male,0812,\n", encoding="utf-8")
    result = runner.invoke(args=["registry", "import", str(path)])
    assert result.exit_code == 1
    assert "line 3: invalid national code" in result.output
    assert "line 4: invalid birth_date" in result.output
    assert "line 5: missing father_name" in result.output
    assert count() == 0
    result = runner.invoke(args=["registry", "import", "--skip-invalid", str(path)])
    assert result.exit_code == 0 and "added 1" in result.output and "3 invalid" in result.output


def test_import_skips_or_replaces_existing(runner, app, tmp_path):
    path = tmp_path / "p.csv"
    line = "national,0012345679,علی,احمدی,حسین,1,1370/06/31,male,{mobile},\n"
    path.write_text(HEADER + line.format(mobile="09121234567"), encoding="utf-8")
    runner.invoke(args=["registry", "import", str(path)])
    path.write_text(HEADER + line.format(mobile="09120000001"), encoding="utf-8")
    assert "skipped 1" in runner.invoke(args=["registry", "import", str(path)]).output
    assert "updated 1" in runner.invoke(args=["registry", "import", "--replace",
                                              str(path)]).output
    assert db.session.scalar(select(RegistryRecord.mobile)) == "09120000001"


def test_import_needs_a_header(runner, app, tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("0012345679,علی\n", encoding="utf-8")
    result = runner.invoke(args=["registry", "import", str(path)])
    assert result.exit_code == 1 and "header row" in result.output


def test_show_prints_every_field(runner, app, tmp_path):
    runner.invoke(args=["registry", "seed", "--count", "1", "--seed", "3"])
    record = db.session.scalars(select(RegistryRecord)).one()
    persian = record.id_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    result = runner.invoke(args=["registry", "show", persian])
    assert result.exit_code == 0
    for name in ("id_type", "id_code", "first_name", "last_name", "father_name",
                 "certificate_number", "birth_date", "birth_date_jalali", "gender", "mobile",
                 "mobile_e164", "is_deceased", "created_at"):
        assert f"{name}: " in result.output
    data = json.loads(runner.invoke(args=["registry", "show", record.id_code, "--json"]).output)
    assert data["id_code"] == record.id_code and data["mobile_e164"].startswith("+989")
    assert data["birth_date"] == record.birth_date.isoformat()
    missing = runner.invoke(args=["registry", "show", "0012345679"])
    assert missing.exit_code == 1 and "no registry record" in missing.output
