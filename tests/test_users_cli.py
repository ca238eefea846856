"""``flask users create|show|lock|unlock``."""

from __future__ import annotations

import json

from sqlalchemy import select

from idp.accounts import passwords
from idp.extensions import db
from idp.models import AuditEvent, SsoSession, User
from tests.factories import DEFAULT_PASSWORD, make_registry_record, make_user

GOOD = "Tabriz1402Sky"


def test_create_from_code_with_password_stdin(runner):
    """CODE + --password-stdin creates the account from the registry record (--json)."""
    record = make_registry_record()
    result = runner.invoke(args=["users", "create", record.id_code, "--password-stdin", "--json"],
                           input=GOOD + "\n")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    user = db.session.get(User, data["user_id"])
    assert data == {"id_type": "national", "id_code": record.id_code, "mobile": record.mobile,
                    "user_id": user.id}
    assert user.first_name == record.first_name and user.birth_date == record.birth_date
    assert passwords.verify_password(user.password_hash, GOOD)
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.event == "account_created")).data["source"] == "cli"


def test_create_from_registry_takes_first_free_record(runner):
    """--from-registry uses the first record without an account; the account can sign in."""
    taken = make_user()
    free = make_registry_record()
    result = runner.invoke(args=["users", "create", "--from-registry", "--password", GOOD,
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["id_code"] == free.id_code != taken.id_code
    client = runner.app.test_client()
    response = client.post("/login", data={"id_code": free.id_code, "password": GOOD})
    assert response.status_code == 302


def test_create_applies_password_rules(runner):
    """A password breaking the rules is refused with every rule's message."""
    record = make_registry_record()
    result = runner.invoke(args=["users", "create", record.id_code, "--password", "password"])
    assert result.exit_code == 1
    assert "password_no_upper" in result.output and "password_no_digit" in result.output
    assert db.session.scalar(select(User)) is None


def test_create_refuses_existing_unknown_and_deceased(runner):
    """No second account, no account without a record, none for a deceased person."""
    user = make_user()
    result = runner.invoke(args=["users", "create", user.id_code, "--password", GOOD])
    assert result.exit_code == 1 and "account_already_exists" in result.output
    result = runner.invoke(args=["users", "create", "0012345679", "--password", GOOD])
    assert result.exit_code == 1 and "registry_record_not_found" in result.output
    dead = make_registry_record(is_deceased=True)
    result = runner.invoke(args=["users", "create", dead.id_code, "--password", GOOD])
    assert result.exit_code == 1 and "account_deceased" in result.output


def test_create_needs_exactly_one_source_and_password(runner):
    """CODE xor --from-registry, --password xor --password-stdin."""
    record = make_registry_record()
    for args in (["--password", GOOD], [record.id_code, "--from-registry", "--password", GOOD],
                 [record.id_code], [record.id_code, "--password", GOOD, "--password-stdin"]):
        result = runner.invoke(args=["users", "create", *args])
        assert result.exit_code == 2, args


def test_show_prints_the_account_without_secrets(runner):
    """users show prints status and counters, never the password hash."""
    user = make_user(failed_logins=2)
    result = runner.invoke(args=["users", "show", user.id_code, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["id_code"] == user.id_code and data["status"] == "active"
    assert data["failed_logins"] == 2 and data["live_sessions"] == 0
    assert "argon2" not in result.output
    assert runner.invoke(args=["users", "show", "0012345679"]).exit_code == 1


def test_lock_and_unlock(runner):
    """lock ends the sessions and refuses sign-in; unlock allows it again."""
    user = make_user()
    client = runner.app.test_client()
    client.post("/login", data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
    result = runner.invoke(args=["users", "lock", user.id_code])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(SsoSession).where(SsoSession.ended_at.is_(None))) is None
    response = client.post("/login", data={"id_code": user.id_code,
                                           "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    result = runner.invoke(args=["users", "unlock", user.id_code])
    assert result.exit_code == 0, result.output
    response = client.post("/login", data={"id_code": user.id_code,
                                           "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
