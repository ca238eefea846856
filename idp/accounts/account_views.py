"""The citizen's own account page (/account) and its actions. Thin views on ``profile``
and ``sessions``.

What each action does for the citizen: docs/FLOWS.md, "The account page".
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import DomainError
from ..forms import error_text, form_error
from ..grants import consents
from ..identity import jalali
from . import profile, session, sessions
from .devices import describe
from .forms import (
    ActionForm,
    ChangePasswordForm,
    CodeForm,
    ConsentForm,
    EmailForm,
    EndSessionForm,
    MobileChangeForm,
)
from .views import bp


def _ip() -> str | None:
    return request.remote_addr


def _signed_out_after_guesses(error: DomainError):
    """End this session after too many wrong current passwords (the account is locked)."""
    session.logout_user(reason="current_password_failures")
    flash(error_text(DomainError("secret_guesses_signed_out", **error.params)), "danger")
    return redirect(url_for("accounts.login"))


def _render_account(user, email_form=None, status=200):
    current = session.current_session()
    # describe() gives browser names as they are, or a Persian "unknown browser" that the
    # catalog translates.
    rows = [{"sid": row.sid, "device": _(describe(row.user_agent)), "ip": row.ip or "—",
             "last_seen": jalali.format_datetime(row.last_seen_at, persian_digits=False),
             "current": row.sid == current.sid}
            for row in sessions.list_sessions(user.id)]
    portals = [{"client_id": c.client_id, "name": c.client_name, "scopes": c.scopes,
                "granted": jalali.format_datetime(c.granted_at, persian_digits=False)}
               for c in consents.list_consents(user.id)]
    email_form = email_form or EmailForm(formdata=None, email=user.email or "")
    return render_template(
        "accounts/account.html", user=user, overview=profile.account_overview(user),
        email_form=email_form, sessions=rows, portals=portals, logout_form=ActionForm(),
        end_form=EndSessionForm(), consent_form=ConsentForm()), status


@bp.get("/account")
@session.login_required
def account():
    """Identity data, email, mobile, password, active sessions and connected portals."""
    return _render_account(session.current_user())


@bp.post("/account/email")
@session.login_required
def email():
    user = session.current_user()
    form = EmailForm()
    if not form.validate_on_submit():
        return _render_account(user, email_form=form, status=400)
    if profile.update_email(user, form.email.data, ip=_ip()):
        return redirect(url_for("accounts.verify_email"))
    flash(_("پست الکترونیک ثبت شد."), "success")
    return redirect(url_for("accounts.account"))


@bp.route("/account/password", methods=["GET", "POST"])
@session.login_required
def change_password():
    """تغییر گذرواژه: current password, new one and its repetition."""
    user = session.current_user()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            profile.change_password(user, form.current_password.data, form.new_password.data,
                                     keep_sid=session.current_session().sid, ip=_ip())
        except DomainError as e:
            if e.code == "account_temporarily_locked":
                return _signed_out_after_guesses(e)
            form_error(form, e)
        else:
            flash(_("گذرواژه جدید ثبت شد. از همه دستگاه‌های دیگر خارج شدید."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/change_password.html", form=form, user=user)


@bp.route("/account/mobile", methods=["GET", "POST"])
@session.login_required
def change_mobile():
    """Step 1 of the mobile change: the new number (ownership checked) and the password."""
    user = session.current_user()
    form = MobileChangeForm()
    if form.validate_on_submit():
        try:
            profile.start_mobile_change(user, form.password.data, form.mobile.data, ip=_ip())
        except DomainError as e:
            if e.code == "account_temporarily_locked":
                return _signed_out_after_guesses(e)
            form_error(form, e)
        else:
            return redirect(url_for("accounts.verify_mobile"))
    return render_template("accounts/change_mobile.html", form=form, user=user)


@bp.route("/account/mobile/verify", methods=["GET", "POST"])
@session.login_required
def verify_mobile():
    """Step 2 of the mobile change: the code sent to the new number."""
    user = session.current_user()
    mobile = profile.pending_mobile(user)
    if mobile is None:
        flash(error_text(DomainError("otp_expired")), "danger")
        return redirect(url_for("accounts.change_mobile"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            profile.confirm_mobile_change(user, form.code.data, ip=_ip())
        except DomainError as e:
            form_error(form, e)
        else:
            flash(_("شماره همراه جدید ثبت شد."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/verify_mobile.html", form=form, mobile=mobile,
                           wait=profile.seconds_until_resend(mobile),
                           resend_form=ActionForm())


@bp.post("/account/mobile/resend")
@session.login_required
def resend_mobile_code():
    form = ActionForm()
    if form.validate_on_submit():
        try:
            profile.resend_mobile_code(session.current_user())
        except DomainError as e:
            flash(error_text(e), "danger")
        else:
            flash(_("کد جدید پیامک شد."), "success")
    return redirect(url_for("accounts.verify_mobile"))


@bp.post("/account/sessions/end")
@session.login_required
def end_session():
    """Sign out one of the citizen's sessions (possibly this one)."""
    form = EndSessionForm()
    if form.validate_on_submit() and sessions.end_session(
            session.current_user().id, form.sid.data, ip=_ip()):
        flash(_("نشست پایان یافت."), "success")
    if session.current_session() is None:
        return redirect(url_for("accounts.login"))
    return redirect(url_for("accounts.account"))


@bp.post("/account/consents/revoke")
@session.login_required
def revoke_consent():
    """Withdraw a portal's access; it asks for consent again at the next sign-in."""
    form = ConsentForm()
    if form.validate_on_submit() and consents.revoke(
            session.current_user().id, form.client_id.data, ip=_ip()):
        flash(_("دسترسی این پورتال لغو شد."), "success")
    return redirect(url_for("accounts.account"))
