"""Transaction boundaries: one unit of work per use case, and the failure recorder.

A service operation runs inside :func:`unit_of_work` (or is decorated with
:func:`transactional`): the change, its audit rows and its outbox messages commit together
when the block ends, or not at all when it raises. A unit of work opened inside another
joins it, so services compose without committing halfway (the outer block commits once).

A failure that must outlive the rollback of the use case that failed (a wrong password
counted towards a lockout, a replayed code's revocation, a client assertion's ``jti``) is
written by :func:`failure_record`: it drops whatever the failing use case had written, then
commits only the failure. It reuses the request's session rather than opening a second
connection, so it can never wait on a lock that its own request holds (SQLite allows one
writer; PostgreSQL would block on the row the use case updated).

Effects that other connections must not see before the change exists (a thread that
delivers a job this unit queued) are registered with :func:`after_commit`.

These two and the CLI entry points are the only places that call ``commit()``
(``tests/test_unit_of_work.py`` keeps it so).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from sqlalchemy.orm import Session

from .extensions import db

_DEPTH = "idp.unit_of_work.depth"
_AFTER_COMMIT = "idp.unit_of_work.after_commit"
_ROLLBACK_ONLY = "idp.unit_of_work.rollback_only"

P = ParamSpec("P")
R = TypeVar("R")


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
            if session.info.pop(_ROLLBACK_ONLY, False):
                _roll_back(session)
            else:
                session.commit()
                _run_after_commit(session)
    except BaseException:
        if depth == 0:
            session.info.pop(_ROLLBACK_ONLY, None)
            _roll_back(session)
        raise
    finally:
        session.info[_DEPTH] = depth


def transactional(func: Callable[P, R]) -> Callable[P, R]:
    """Run each call of ``func`` in a :func:`unit_of_work` (joining one already open)."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with unit_of_work():
            return func(*args, **kwargs)

    return wrapper


@contextmanager
def failure_record() -> Iterator[Session]:
    """Discard the failing use case's writes, then commit only what the block writes.

    Use it right before raising the error that ends a use case, for records that must
    survive: failure counters, lockouts, replay revocations and their audit rows.
    """
    session = db.session()
    _roll_back(session)
    try:
        yield session
        session.commit()
    except BaseException:
        _roll_back(session)
        raise


def after_commit(callback: Callable[[], object]) -> None:
    """Call ``callback`` once the unit of work open now has committed.

    It is never called when the unit rolls back. Use it for effects that read what the
    unit wrote through another connection, such as a background thread.

    :raises RuntimeError: outside a unit of work.
    """
    session = db.session()
    if not session.info.get(_DEPTH):
        raise RuntimeError("after_commit() needs an open unit of work")
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def set_rollback_only() -> None:
    """Roll the unit of work open now back at its end instead of committing it.

    For a use case that ends in a refusal without raising (Authlib answers a refused
    token request with an error response): nothing it wrote is kept, while what a
    :func:`failure_record` committed meanwhile stays.

    :raises RuntimeError: outside a unit of work.
    """
    session = db.session()
    if not session.info.get(_DEPTH):
        raise RuntimeError("set_rollback_only() needs an open unit of work")
    session.info[_ROLLBACK_ONLY] = True


def _roll_back(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)  # their writes are gone
    session.rollback()


def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, []):
        callback()
