"""The citizen's second factor: the code page of a sign-in or step-up (``/login/verify``)
and the account page's section (enrol, remove, "always ask"). Thin views on
:mod:`idp.accounts.factors` and the sign-in steps.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import DomainError
from ..forms import error_text, form_error
from ..security import totp
from . import assurance, factors, session, steps
from .forms import (
    RemoveSecondFactorForm,
    SecondFactorForm,
    SecondFactorPreferenceForm,
    safe_next,
)
from .steps import second_factor
from .views import bp


@bp.route("/login/verify", methods=["GET", "POST"])
def second_factor_step():
    """Ask the authenticator-app code: in a sign-in (the citizen asked for it every time)
    or to raise this session to level 2 for a portal (``next`` is where it returns)."""
    ctx = steps.resume()
    if ctx is None:
        row, user = session.current_session(), session.current_user()
        if row is not None and user is not None:
            ctx = steps.step_up(user, row, required={assurance.SECOND_FACTOR},
                                next_url=safe_next(request.args.get("next")),
                                home=url_for("accounts.account"))
    return steps.serve(second_factor, ctx)


@bp.app_template_global()
def second_factor_summary(user) -> dict:
    """What the account page's section shows (``accounts/_second_factor.html``)."""
    enrolled = totp.is_enrolled(user)
    return {"enrolled": enrolled, "always": bool(user.always_second_factor),
            "recovery_left": totp.recovery_codes_left(user) if enrolled else 0,
            "preference_form": SecondFactorPreferenceForm(formdata=None)}


@bp.route("/account/second-factor/enrol", methods=["GET", "POST"])
@session.login_required
def enrol_second_factor():
    """Enrol an authenticator app: QR code shown once, then recovery codes shown once."""
    user = session.current_user()
    if totp.is_enrolled(user):
        flash(error_text(DomainError("totp_already_enrolled")), "warning")
        return redirect(url_for("accounts.account", _anchor="second-factor"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            codes = factors.confirm_enrolment(user, form.code.data, session.current_session(),
                                              ip=request.remote_addr)
        except DomainError as e:
            if e.code in ("totp_too_many", "totp_not_enrolled"):
                flash(error_text(e), "danger")
                return redirect(url_for("accounts.account", _anchor="second-factor"))
            form_error(form, e)
            return render_template("accounts/second_factor_enrol.html", form=form,
                                   enrolment=totp.pending_enrolment(user)), 400
        return render_template("accounts/second_factor_codes.html", codes=codes,
                               next_url=safe_next(request.args.get("next"))
                               or url_for("accounts.account", _anchor="second-factor"))
    # Each visit makes a new secret, so a secret is never shown twice.
    return render_template("accounts/second_factor_enrol.html", form=form,
                           enrolment=factors.start_enrolment(user))


@bp.route("/account/second-factor/remove", methods=["GET", "POST"])
@session.login_required
def remove_second_factor():
    """Remove the authenticator app after the current password."""
    user = session.current_user()
    form = RemoveSecondFactorForm()
    if form.validate_on_submit():
        try:
            factors.remove(user, form.password.data, ip=request.remote_addr)
        except DomainError as e:
            if e.code == "account_temporarily_locked":
                session.logout_user(reason="current_password_failures")
                flash(error_text(DomainError("secret_guesses_signed_out", **e.params)), "danger")
                return redirect(url_for("accounts.login"))
            if e.code == "totp_not_enrolled":
                return redirect(url_for("accounts.account", _anchor="second-factor"))
            form_error(form, e)
        else:
            flash(_("برنامه احراز هویت حذف شد."), "success")
            return redirect(url_for("accounts.account", _anchor="second-factor"))
    return render_template("accounts/second_factor_remove.html", form=form, user=user)


@bp.post("/account/second-factor/preference")
@session.login_required
def second_factor_preference():
    """Turn "always ask for my second factor" on or off."""
    form = SecondFactorPreferenceForm()
    if form.validate_on_submit():
        try:
            factors.set_always_ask(session.current_user(), form.always.data == "1",
                                   ip=request.remote_addr)
        except DomainError as e:
            flash(error_text(e), "danger")
        else:
            flash(_("ترجیح شما ثبت شد."), "success")
    return redirect(url_for("accounts.account", _anchor="second-factor"))
