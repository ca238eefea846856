"""Password recovery pages (/recover…): code → SMS code → new password. Thin views."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import settings
from ..errors import DomainError
from ..forms import error_text, form_error
from ..security import captcha
from . import recovery, session
from .forms import ActionForm, CodeForm, NewPasswordForm, RecoveryStartForm, safe_next
from .views import bp

STASH = "recovery"


def _key() -> str | None:
    return session.unstash(STASH, settings.current().recovery_ttl)


def _restart(error: str = "recovery_expired"):
    session.forget(STASH)
    flash(error_text(DomainError(error)), "danger")
    return redirect(url_for("accounts.recover"))


@bp.route("/recover", methods=["GET", "POST"])
def recover():
    """Step 1: the national/FIDA code and the method (SMS)."""
    next_url = safe_next(request.args.get("next"))
    form = RecoveryStartForm()
    if form.validate_on_submit():
        ip = request.remote_addr
        try:
            captcha.require("recovery", ip=ip, target=form.id_code.data,
                            challenge_id=form.captcha_id.data, answer=form.captcha_answer.data)
            captcha.count("recovery", ip=ip, target=form.id_code.data)
            key = recovery.start(form.id_code.data, next_url=next_url, ip=ip)
        except DomainError as e:
            form_error(form, e)
        else:
            session.stash(STASH, key)
            return redirect(url_for("accounts.recover_code"))
    return render_template("accounts/recover_start.html", form=form, step=1)


@bp.route("/recover/code", methods=["GET", "POST"])
def recover_code():
    """Step 2: the code sent by SMS (درج کد)."""
    key = _key()
    if not recovery.is_open(key):
        return _restart()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            recovery.verify(key, form.code.data, ip=request.remote_addr)
        except DomainError as e:
            if e.code == "recovery_expired":
                return _restart()
            form_error(form, e)
        else:
            return redirect(url_for("accounts.recover_password"))
    return render_template("accounts/recover_code.html", form=form, step=2,
                           wait=recovery.seconds_until_resend(key), resend_form=ActionForm())


@bp.post("/recover/resend")
def recover_resend():
    form = ActionForm()
    if form.validate_on_submit():
        try:
            recovery.resend(_key())
        except DomainError as e:
            if e.code == "recovery_expired":
                return _restart()
            flash(error_text(e), "danger")
        else:
            flash(_("اگر برای این کد حساب کاربری وجود داشته باشد، کد جدید پیامک شد."), "success")
    return redirect(url_for("accounts.recover_code"))


@bp.route("/recover/password", methods=["GET", "POST"])
def recover_password():
    """Step 3: the new password and its repetition (ثبت گذرواژه جدید)."""
    key = _key()
    if not recovery.is_open(key, verified=True):
        return _restart()
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user, next_url = recovery.finish(key, form.new_password.data,
                                             ip=request.remote_addr)
        except DomainError as e:
            if e.code == "recovery_expired":
                return _restart()
            form_error(form, e)
        else:
            session.forget(STASH)
            flash(_("گذرواژه جدید شما ثبت شد."), "success")
            if next_url:  # started from a portal's sign-in: continue there, signed in
                session.login_user(user, amr=["pwd", "sms"])
                return redirect(next_url)
            return redirect(url_for("accounts.login"))
    return render_template("accounts/recover_password.html", form=form, step=3)
