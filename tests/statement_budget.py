"""Count the SQL statements a block of code sends (STYLE.md §4.17: hot paths are budgets).

A helper for tests (this module holds no tests)::

    with statements() as seen:
        client.get("/userinfo", headers=...)
    assert_budget(seen, 1)

``commits`` records the transactions committed the same way.

Every statement the engine sends to the database driver is recorded through SQLAlchemy's
``before_cursor_execute`` event, so ORM loads, Core statements and flushes all count;
``COMMIT`` and ``ROLLBACK`` are driver calls, not statements, and do not. Measure on a
warm app (one request of the same kind first), so connection set-up and per-process
caches are not counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from idp.extensions import db


@contextmanager
def statements(engine=None) -> Iterator[list[str]]:
    """Record the SQL text of every statement ``engine`` executes inside the block."""
    engine = engine if engine is not None else db.engine
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def commits(engine=None) -> Iterator[list[str]]:
    """Record every transaction ``engine`` commits inside the block (one entry each)."""
    engine = engine if engine is not None else db.engine
    seen: list[str] = []

    def record(conn):
        seen.append("COMMIT")

    event.listen(engine, "commit", record)
    try:
        yield seen
    finally:
        event.remove(engine, "commit", record)


def reading(seen: list[str], table: str) -> list[str]:
    """Return the statements of ``seen`` that read ``table`` (``FROM`` or ``JOIN`` it)."""
    pattern = re.compile(rf"(?<!DELETE )\b(FROM|JOIN)\s+\"?{re.escape(table)}\"?(\s|$)",
                         re.IGNORECASE)
    return [s for s in seen if pattern.search(s)]


def assert_budget(seen: list[str], budget: int, what: str = "the request") -> None:
    """Fail, listing the statements, when ``seen`` has more than ``budget`` of them."""
    listing = "\n".join(f"  {n}. {s}" for n, s in enumerate(seen, 1))
    assert len(seen) <= budget, (
        f"{what} sent {len(seen)} SQL statements, the budget is {budget}:\n{listing}")
