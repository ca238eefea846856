"""Plain factories for test data: users, registry records and clients."""

from __future__ import annotations

import itertools
from datetime import date

from idp.accounts.passwords import hash_password
from idp.clients.service import register_client
from idp.clients.spec import ClientSpec
from idp.extensions import db
from idp.identity.national_id import check_digit
from idp.models import Client, RegistryRecord, User

DEFAULT_PASSWORD = "Secret123"
_serial = itertools.count(100001)


def national_code() -> str:
    """Return a fresh, valid national code."""
    body = f"001{next(_serial):06d}"
    return body + str(check_digit(body))


def make_registry_record(**overrides) -> RegistryRecord:
    values = {
        "id_type": "national", "id_code": national_code(), "first_name": "علی",
        "last_name": "احمدی", "father_name": "حسین", "certificate_number": "1234",
        "birth_date": date(1990, 3, 21), "gender": "male",
        "mobile": f"0912{next(_serial):07d}", "is_deceased": False,
    }
    values.update(overrides)
    record = RegistryRecord(**values)
    db.session.add(record)
    db.session.commit()
    return record


def make_user(password: str = DEFAULT_PASSWORD, **overrides) -> User:
    """Create an active account (with its registry record) and return it."""
    record = make_registry_record(**{k: v for k, v in overrides.items()
                                     if k in RegistryRecord.__table__.columns})
    values = {name: getattr(record, name) for name in (
        "id_type", "id_code", "mobile", "first_name", "last_name", "father_name",
        "birth_date", "gender", "certificate_number")}
    values.update(email="citizen@example.ir", password_hash=hash_password(password))
    values.update({k: v for k, v in overrides.items() if k in User.__table__.columns})
    user = User(**values)
    db.session.add(user)
    db.session.commit()
    return user


def make_client(**overrides) -> tuple[Client, str | None]:
    """Register a client through the real service; return it and its one-time secret."""
    values = {"name_fa": "پورتال آزمایشی", "redirect_uris": ["https://rp.example.ir/cb"],
              "scope": "openid profile email phone national_id"}
    values.update(overrides)
    return register_client(ClientSpec(**values))
