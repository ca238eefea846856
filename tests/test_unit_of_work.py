"""The transaction boundaries of ``idp.unit_of_work``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuditEvent
from idp.unit_of_work import failure_record, unit_of_work

from . import factories


def events() -> list[str]:
    db.session.rollback()  # read what is committed, not what the session holds
    return list(db.session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)))


def add_event(name: str) -> None:
    from idp import audit

    audit.record(name)


def test_a_unit_of_work_commits_at_its_end(app):
    """What the block wrote is committed when the block ends."""
    with unit_of_work():
        add_event("first")
    assert events() == ["first"]


def test_a_nested_unit_commits_only_with_the_outer_one(app):
    """An inner unit joins the outer one: nothing is committed halfway."""
    with pytest.raises(RuntimeError), unit_of_work():
        add_event("outer")
        with unit_of_work():
            add_event("inner")
        raise RuntimeError("the outer use case fails after the inner one finished")
    assert events() == []


def test_an_error_rolls_the_whole_unit_back(app):
    """An exception leaving the block rolls back everything it wrote."""
    with pytest.raises(ValueError), unit_of_work():
        add_event("half")
        raise ValueError
    assert events() == []
    with unit_of_work():
        add_event("next")
    assert events() == ["next"], "the session is usable after a rollback"


def test_a_failure_record_survives_the_failed_use_case(app):
    """The failure is committed; the use case's own writes are not."""
    with pytest.raises(LookupError), unit_of_work():
        add_event("work")
        with failure_record():
            add_event("failure")
        raise LookupError
    assert events() == ["failure"]


def test_a_failure_record_that_raises_writes_nothing(app):
    """An error inside the recorder leaves no half-written failure."""
    with pytest.raises(KeyError), failure_record():
        add_event("partial")
        raise KeyError
    assert events() == []
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_factories_still_see_committed_rows(app):
    """A unit of work leaves the session usable by code that commits on its own."""
    with unit_of_work():
        add_event("before")
    user = factories.make_user()
    assert db.session.get(type(user), user.id) is not None


PACKAGE = Path(__file__).resolve().parent.parent / "idp"
#: Modules converted to units of work (issue 12); the rest of the codebase follows later.
CONVERTED = ["grants/*.py", "clients/service.py", "clients/cache.py", "oidc/storage.py",
             "oidc/grants.py", "oidc/endpoints.py", "oidc/tokens.py", "oidc/server.py",
             "oidc/claims.py"]


def transaction_calls(path: Path) -> list[str]:
    """Return ``name:line`` for every ``….commit()`` or ``….rollback()`` call in ``path``."""
    return [f"{path.name}:{node.lineno}"
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"commit", "rollback"}]


def test_transaction_calls_are_found(tmp_path):
    """The check sees a commit or a rollback wherever it is written."""
    path = tmp_path / "service.py"
    path.write_text("def f(session):\n    if session:\n        session.commit()\n"
                    "    db.session.rollback()\n    session.info.get('commit')\n")
    assert sorted(transaction_calls(path)) == ["service.py:3", "service.py:4"]


def test_converted_modules_leave_commits_to_the_unit_of_work():
    """Grants, client services and the provider's hot paths never commit or roll back."""
    calls = [call for pattern in CONVERTED for path in sorted(PACKAGE.glob(pattern))
             for call in transaction_calls(path)]
    assert calls == []
