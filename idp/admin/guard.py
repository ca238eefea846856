"""The admin blueprint and its gate: a signed-in admin who passed the TOTP step."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, redirect, render_template, request, url_for

from .. import audit
from ..accounts import session as sso
from ..accounts import steps
from ..accounts.steps.context import Context
from ..models import SsoSession, User
from ..unit_of_work import unit_of_work

bp = Blueprint("admin", __name__, url_prefix="/admin")


def here() -> str:
    return request.full_path.rstrip("?")


def safe_next(value: str | None) -> str | None:
    """Accept only a path inside the admin pages as the place to return to."""
    if value and value.startswith("/admin") and "\\" not in value and "\n" not in value:
        return value
    return None


def current_admin() -> User:
    """The admin of this request (call only inside :func:`admin_required` views)."""
    return sso.current_user()


def admin_step_up(user: User, row: SsoSession, next_url: str | None) -> Context:
    """Return the step-up that makes ``row`` an admin session: a second factor."""
    return steps.step_up(user, row, required={"admin"}, next_url=safe_next(next_url),
                         home=url_for("admin.index"))


def _forbidden(user: User):
    with unit_of_work():
        audit.record("admin_access_denied", user_id=user.id, ip=request.remote_addr,
                     path=request.path)
    return render_template("admin/forbidden.html"), 403


def admin_account_required(view):
    """Let through a signed-in admin account, before or after the TOTP step."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = sso.current_user()
        if user is None:
            return redirect(url_for("accounts.login", next=here()))
        if not user.is_admin:
            return _forbidden(user)
        return view(user, *args, **kwargs)

    return wrapped


def admin_required(view):
    """Let through only an admin session: signed in, admin, TOTP passed in this session.

    Anonymous visitors go to the sign-in page; citizens get 403; an admin who has not
    passed the TOTP step goes to it (or to enrolment), then comes back
    (:mod:`idp.accounts.steps.second_factor`).
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        row = sso.current_session()
        user = sso.current_user()
        if row is None or user is None:
            return redirect(url_for("accounts.login", next=here()))
        if not user.is_admin:
            return _forbidden(user)
        if not row.is_admin:
            ctx = admin_step_up(user, row, here())
            return redirect(steps.page_url(ctx, steps.pending_step(ctx)))
        return view(*args, **kwargs)

    return wrapped

