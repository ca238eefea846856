"""Sign-in, sign-out and the expired-password step. Thin: parse → one service call → answer."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import DomainError
from ..forms import error_text, form_error
from . import services, session
from .forms import ActionForm, LoginForm, NewPasswordForm, normalize_id_code, safe_next

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form (even inside a session: ``prompt=login``) and check it.

    ``next`` (a same-site relative path) is where a successful sign-in returns;
    ``login_hint`` pre-fills the national/FIDA code.
    """
    next_url = safe_next(request.args.get("next"))
    form = LoginForm()
    if request.method == "GET":
        form.id_code.data = normalize_id_code(request.args.get("login_hint"))
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.id_code.data, form.password.data,
                                         ip=request.remote_addr)
        except DomainError as e:
            form.form_errors.append(error_text(e))
        else:
            if user.must_change_password:
                session.stash("password_change", {"uid": user.id, "next": next_url})
                return redirect(url_for("accounts.expired_password"))
            session.login_user(user, amr=["pwd"])
            return redirect(next_url or url_for("accounts.account"))
    return render_template("accounts/login.html", form=form, next=next_url)


@bp.route("/login/new-password", methods=["GET", "POST"])
def expired_password():
    """Make a citizen whose password must change set a new one before the session starts."""
    pending = session.unstash("password_change", current_app.config["PASSWORD_CHANGE_TTL"])
    if not pending:
        flash(error_text(DomainError("password_change_expired")), "danger")
        return redirect(url_for("accounts.login"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.set_expired_password(pending["uid"], form.new_password.data,
                                                 ip=request.remote_addr)
        except DomainError as e:
            if e.code == "password_change_expired":
                session.forget("password_change")
                flash(error_text(e), "danger")
                return redirect(url_for("accounts.login"))
            form_error(form, e)
        else:
            session.forget("password_change")
            session.login_user(user, amr=["pwd"])
            flash(_("گذرواژه جدید شما ثبت شد."), "success")
            return redirect(pending.get("next") or url_for("accounts.account"))
    return render_template("accounts/expired_password.html", form=form)


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

