"""A second factor: a TOTP code, or once each a recovery code; enrolled on first use.

Needed when the target asks for it: today the admin area (``"admin"`` in ``required``),
as a step-up of the SSO session, at each sign-in. Its pages are the admin's:
``/admin/enrol`` until an authenticator app is enrolled, then ``/admin/verify``. Codes
are checked by :mod:`idp.security.totp`; too many wrong ones end the session.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...forms import error_text, form_error
from ...i18n import localized_digits
from ...security import totp
from .. import session
from ..forms import SecondFactorForm

NAME = "second_factor"
AMR = ("otp",)  # RFC 8176; the runner adds "mfa" since a first factor came before


def needed(ctx) -> bool:
    if "admin" not in ctx.required:
        return False
    return ctx.session is None or not ctx.session.is_admin


def endpoint(ctx) -> str:
    return "admin.verify" if totp.is_enrolled(ctx.user) else "admin.enrol"


def form() -> SecondFactorForm:
    return SecondFactorForm()


def render(ctx, form):
    if totp.is_enrolled(ctx.user):
        return render_template("admin/verify.html", form=form)
    # Each visit makes a new secret, so a secret is never shown twice.
    return _enrol_page(form, totp.start_enrolment(ctx.user))


def _enrol_page(form, enrolment):
    return render_template("admin/enrol.html", form=form, enrolment=enrolment)


def submit(ctx, form):
    """Check the code; at enrolment, answer with the recovery codes (shown once)."""
    if not totp.is_enrolled(ctx.user):
        codes = totp.confirm_enrolment(ctx.user, form.code.data, ip=request.remote_addr)
        return render_template("admin/recovery_codes.html", codes=codes, next_url=ctx.target)
    if totp.verify(ctx.user, form.code.data, ip=request.remote_addr) == "recovery":
        left = localized_digits(totp.recovery_codes_left(ctx.user))
        flash(_("یک کد بازیابی مصرف شد؛ %(left)s کد باقی است.", left=left), "warning")
    return None


def refuse(ctx, form, error):
    enrolling = not totp.is_enrolled(ctx.user)
    if error.code == "totp_too_many":
        if ctx.session is not None:
            session.end_sessions([ctx.session], reason="admin_totp_failures")
        flash(error_text(error), "danger")
        return redirect(url_for("accounts.login", next=None if enrolling else ctx.target))
    if enrolling and error.code == "totp_not_enrolled":
        flash(error_text(error), "danger")
        return redirect(url_for("accounts.login"))
    form_error(form, error)
    return _enrol_page(form, totp.pending_enrolment(ctx.user)) if enrolling else None
