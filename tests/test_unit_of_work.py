"""The transaction boundaries of ``idp.unit_of_work``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import func, select

import idp
from idp.extensions import db
from idp.models import AuditEvent
from idp.unit_of_work import (
    after_commit,
    failure_record,
    set_rollback_only,
    transactional,
    unit_of_work,
)

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


def test_a_transactional_function_is_a_unit_of_work(app):
    """Each call commits when it returns and rolls back when it raises; calls made
    inside another unit join it."""

    @transactional
    def record(name: str, fail: bool = False) -> str:
        add_event(name)
        if fail:
            raise ValueError(name)
        return name

    assert record("kept") == "kept"
    with pytest.raises(ValueError):
        record("dropped", fail=True)
    with pytest.raises(RuntimeError), unit_of_work():
        record("joined")
        raise RuntimeError
    assert events() == ["kept"]


def test_after_commit_waits_for_the_outer_commit(app):
    """A callback runs once the outermost unit has committed, and never after a rollback."""
    calls = []
    with unit_of_work():
        with unit_of_work():
            add_event("job")
            after_commit(lambda: calls.append(events()))
        assert calls == []
    assert calls == [["job"]], "it ran after the commit and saw the committed row"
    with pytest.raises(RuntimeError), unit_of_work():
        after_commit(lambda: calls.append("rolled back"))
        raise RuntimeError
    with unit_of_work():
        add_event("next")
    assert calls == [["job"]]


def test_a_failure_record_drops_the_callbacks_of_the_failed_work(app):
    """The writes a failure record discards take their after-commit callbacks along."""
    calls = []
    with pytest.raises(LookupError), unit_of_work():
        after_commit(lambda: calls.append("job"))
        with failure_record():
            add_event("failure")
        raise LookupError
    with unit_of_work():
        pass
    assert calls == [] and events() == ["failure"]


@pytest.mark.parametrize("needs_a_unit", [lambda: after_commit(print), set_rollback_only],
                         ids=["after_commit", "set_rollback_only"])
def test_callbacks_and_rollback_only_need_an_open_unit(app, needs_a_unit):
    """Outside a unit of work there is nothing to wait for or to roll back."""
    with pytest.raises(RuntimeError):
        needs_a_unit()


def test_a_unit_marked_rollback_only_keeps_only_its_failure_records(app):
    """A use case that refuses without raising keeps nothing but what it recorded as a
    failure; the next unit commits as usual."""
    calls = []
    with unit_of_work():
        add_event("work")
        with failure_record():
            add_event("failure")
        add_event("more work")
        after_commit(lambda: calls.append("job"))
        with unit_of_work():
            set_rollback_only()
    assert events() == ["failure"] and calls == []
    with unit_of_work():
        add_event("next")
    assert events() == ["failure", "next"]


PACKAGE = Path(idp.__file__).parent
#: Where a transaction may end: the unit of work and its failure recorder (commit and
#: rollback), and the readiness probe, which rolls back a broken connection it tested.
ALLOWED = {"commit": {"unit_of_work.py"}, "rollback": {"unit_of_work.py", "health.py"}}


def transaction_calls(path: Path, module: str | None = None) -> list[tuple[str, str, int]]:
    """Return ``(module, "commit"|"rollback", line)`` for every such call in ``path``."""
    module = module or path.name
    return [(module, node.func.attr, node.lineno)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"commit", "rollback"}]


def test_transaction_calls_are_found(tmp_path):
    """The check sees a commit or a rollback wherever it is written."""
    path = tmp_path / "service.py"
    path.write_text("def f(session):\n    if session:\n        session.commit()\n"
                    "    db.session.rollback()\n    session.info.get('commit')\n")
    assert sorted(transaction_calls(path)) == [("service.py", "commit", 3),
                                               ("service.py", "rollback", 4)]


def test_only_the_unit_of_work_ends_transactions():
    """Services open units of work; commit() and rollback() live in a handful of places."""
    calls = [call for path in sorted(PACKAGE.rglob("*.py"))
             for call in transaction_calls(path, path.relative_to(PACKAGE).as_posix())]
    assert any(kind == "commit" for _, kind, _ in calls), "the scan is looking in the wrong place"
    outside = [call for call in calls if call[0] not in ALLOWED[call[1]]]
    assert outside == []
    assert len([c for c in calls if c[1] == "commit"]) <= 6
