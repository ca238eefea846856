"""Transaction boundaries: one unit of work per use case, and the failure recorder.

A service operation runs inside :func:`unit_of_work`: the change, its audit rows and its
outbox messages commit together when the block ends, or not at all when it raises. A unit
of work opened inside another joins it, so services compose without committing halfway
(the outer block commits once).

A failure that must outlive the rollback of the use case that failed (a wrong password
counted towards a lockout, a replayed code's revocation, a client assertion's ``jti``) is
written by :func:`failure_record`: it drops whatever the failing use case had written, then
commits only the failure. It reuses the request's session rather than opening a second
connection, so it can never wait on a lock that its own request holds (SQLite allows one
writer; PostgreSQL would block on the row the use case updated).

These two and the CLI entry points are the only places that call ``commit()``
(``tests/test_unit_of_work.py`` keeps it so).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from .extensions import db

_DEPTH = "idp.unit_of_work.depth"


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """Run the block in one transaction; commit at its end, roll back if it raises.

    Nested blocks join the outermost one, which alone commits or rolls back. An exception
    leaving a nested block still rolls the whole unit back when it leaves the outer one;
    one caught in between leaves the unit to commit what it has.
    """
    session = db.session()
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth


@contextmanager
def failure_record() -> Iterator[Session]:
    """Discard the failing use case's writes, then commit only what the block writes.

    Use it right before raising the error that ends a use case, for records that must
    survive: failure counters, lockouts, replay revocations and their audit rows.
    """
    session = db.session()
    session.rollback()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
