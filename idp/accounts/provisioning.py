"""Accounts created by operators (``flask users create``) from civil-registry records.

The same checks as the registration wizard, minus the SMS code: the mobile must belong to
the code (mobile-ownership service), the identity must match the civil registry and not be
deceased, no account may exist yet, and the password must pass the password rules.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..errors import DomainError
from ..extensions import db, now
from ..identity import Status, compare_with_record, registry
from ..models import RegistryRecord, User
from ..unit_of_work import transactional
from .passwords import check_password_rules, hash_password


def registry_record(id_code: str) -> RegistryRecord | None:
    """Return the local registry record of a national/FIDA code, or ``None``."""
    return db.session.scalar(select(RegistryRecord).where(RegistryRecord.id_code == id_code))


def first_record_without_account() -> RegistryRecord | None:
    """Return the oldest local registry record (alive) that has no account yet."""
    taken = exists().where(User.id_code == RegistryRecord.id_code)
    return db.session.scalar(select(RegistryRecord).where(
        ~taken, RegistryRecord.is_deceased.is_(False)).order_by(RegistryRecord.id).limit(1))


def _check_registry(row: RegistryRecord):
    owner = registry().verify_mobile_owner(row.id_type, row.id_code, row.mobile)
    identity = registry().lookup_identity(row.id_type, row.id_code, row.birth_date)
    results = (owner.status, identity.status)
    if Status.UNAVAILABLE in results:
        raise DomainError("identity_unavailable")
    if Status.DECEASED in results:
        raise DomainError("account_deceased")
    if not owner.ok or not identity.ok:
        raise DomainError("registry_mismatch")
    if compare_with_record(identity.record, row.first_name, row.last_name, row.father_name,
                           row.certificate_number, row.birth_date, row.gender):
        raise DomainError("registry_mismatch")
    return identity.record


@transactional
def create_from_registry(id_code: str, password: str, email: str | None = None,
                         source: str = "cli") -> User:
    """Create an account for the local registry record of ``id_code`` and return it.

    :raises DomainError: ``registry_record_not_found``, ``account_already_exists``,
        ``identity_unavailable``, ``account_deceased``, ``registry_mismatch`` or
        ``password_rules`` (with ``codes``).
    """
    row = registry_record(id_code)
    if row is None:
        raise DomainError("registry_record_not_found")
    if db.session.scalar(select(User.id).where(User.id_code == id_code)) is not None:
        raise DomainError("account_already_exists")
    record = _check_registry(row)
    codes = check_password_rules(password, id_code)
    if codes:
        raise DomainError("password_rules", field="password", codes=codes)
    moment = now()
    user = User(id_type=record.id_type, id_code=record.id_code, mobile=row.mobile, email=email,
                first_name=record.first_name, last_name=record.last_name,
                father_name=record.father_name, birth_date=record.birth_date,
                gender=record.gender, certificate_number=record.certificate_number,
                password_hash=hash_password(password), password_changed_at=moment,
                created_at=moment)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as e:  # created concurrently: the unique code decides
        raise DomainError("account_already_exists") from e
    audit.record("account_created", user_id=user.id, source=source)
    return user
