"""The account page's email actions (/account/email/…) and the template helpers of its
email and recent-sign-ins sections. Thin views on ``email_address`` and ``notices``."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import DomainError
from ..forms import error_text, form_error
from . import email_address, notices, session
from .forms import ActionForm, CodeForm
from .views import bp


@bp.app_template_global()
def email_verified(user) -> bool:
    """Whether ``user``'s email is proven (the account page's email section)."""
    return email_address.is_verified(user)


@bp.app_template_global()
def recent_sign_ins(user) -> list[dict]:
    """The last sign-ins of ``user`` for the account page (Jalali time, coarse device)."""
    return notices.recent_sign_ins(user.id)


@bp.post("/account/email/send")
@session.login_required
def send_email_code():
    """Mail a code to the current, unverified address."""
    form = ActionForm()
    if form.validate_on_submit():
        try:
            email_address.send_code(session.current_user())
        except DomainError as e:
            flash(error_text(e), "danger")
            return redirect(url_for("accounts.account", _anchor="contact"))
    return redirect(url_for("accounts.verify_email"))


@bp.route("/account/email/verify", methods=["GET", "POST"])
@session.login_required
def verify_email():
    """Type the code mailed to the address; the address is then verified."""
    user = session.current_user()
    if not user.email or email_address.is_verified(user):
        return redirect(url_for("accounts.account", _anchor="contact"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            email_address.confirm(user, form.code.data, ip=request.remote_addr)
        except DomainError as e:
            form_error(form, e)
        else:
            flash(_("پست الکترونیک شما تأیید شد."), "success")
            return redirect(url_for("accounts.account", _anchor="contact"))
    return render_template("accounts/verify_email.html", form=form, email=user.email,
                           wait=email_address.seconds_until_resend(user),
                           resend_form=ActionForm())
