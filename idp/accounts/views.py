"""Sign-in, its expired-password step and sign-out. Thin: the steps do the work."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from . import session, steps
from .forms import ActionForm, safe_next
from .steps import new_password, password

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form (even inside a session: ``prompt=login``) and check it.

    ``next`` (a same-site relative path) is where a successful sign-in returns, after any
    further step (:mod:`idp.accounts.steps`); ``login_hint`` pre-fills the code.
    """
    return steps.serve(password, steps.start(safe_next(request.args.get("next"))))


@bp.route("/login/new-password", methods=["GET", "POST"])
def expired_password():
    """Make a citizen whose password must change set a new one before the session starts."""
    return steps.serve(new_password, steps.resume())


@bp.route("/account/logout", methods=["GET", "POST"])
def logout():
    """Sign out of the IdP: end this browser's SSO session (portals get back-channel logout)."""
    form = ActionForm()
    if form.validate_on_submit():
        session.logout_user()
        flash(_("از سامانه خارج شدید."), "success")
        return redirect(url_for("accounts.login"))
    if session.current_session() is None:
        return redirect(url_for("accounts.login"))
    return render_template("accounts/logout.html", form=form)

