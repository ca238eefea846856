"""A second factor: a TOTP code, or once each a recovery code.

Needed when

- the admin area asks for it (``"admin"`` in ``required``), as a step-up of the SSO
  session, at each sign-in; its pages are the admin's: ``/admin/enrol`` until an
  authenticator app is enrolled, then ``/admin/verify``; too many wrong codes end the
  session;
- a portal asks for level 2 (``"mfa"`` in ``required``, :mod:`idp.accounts.assurance`)
  and the session is below it, for a citizen who enrolled an app on the account page;
- a citizen asked for it at every sign-in ("always ask for my second factor").

Citizens get ``/login/verify``; their wrong codes also count on the password lockout
(:mod:`idp.accounts.factors`). Codes are checked by :mod:`idp.security.totp`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...forms import error_text, form_error
from ...i18n import localized_digits
from ...security import totp
from .. import assurance, factors, session
from ..forms import SecondFactorForm, safe_next
from . import pending

NAME = "second_factor"
AMR = ("otp",)  # RFC 8176; the runner adds "mfa" since a first factor came before


def _admin(ctx) -> bool:
    return "admin" in ctx.required


def needed(ctx) -> bool:
    if _admin(ctx):
        return ctx.session is None or not ctx.session.is_admin
    # The app when the citizen has one (a citizen with passkeys only: the passkey step).
    return totp.is_enrolled(ctx.user) and assurance.second_factor_due(ctx)


def endpoint(ctx) -> str:
    if not _admin(ctx):
        return "accounts.second_factor_step"
    return "admin.verify" if totp.is_enrolled(ctx.user) else "admin.enrol"


def form() -> SecondFactorForm:
    return SecondFactorForm()


def render(ctx, form):
    if not _admin(ctx):
        return render_template("accounts/second_factor.html", form=form,
                               cancel_url=_cancel_url(), passkey_url=_passkey_url(ctx))
    if totp.is_enrolled(ctx.user):
        return render_template("admin/verify.html", form=form)
    # Each visit makes a new secret, so a secret is never shown twice.
    return _enrol_page(form, totp.start_enrolment(ctx.user))


def _passkey_url(ctx) -> str | None:
    """A step-up may be given with a passkey instead of the code, when the citizen has one
    (the passkey page raises the same session, then returns to the same place)."""
    if ctx.session is None or "passkey" not in assurance.second_factors(ctx.user):
        return None
    return url_for("accounts.passkey_step_page", next=ctx.next_url)


def _cancel_url() -> str | None:
    """Where «انصراف» posts: a portal's step-up may be given up, and the portal is told
    (``unmet_authentication_requirements``). Only the provider's cancel address is taken,
    so a crafted link cannot turn the button into another same-site POST."""
    url = safe_next(request.args.get("cancel"))
    if url and urlsplit(url).path == url_for("oidc.cancel"):
        return url
    return None


def _enrol_page(form, enrolment):
    return render_template("admin/enrol.html", form=form, enrolment=enrolment)


def submit(ctx, form):
    """Check the code; at enrolment, answer with the recovery codes (shown once)."""
    if not _admin(ctx):
        method = factors.verify_code(ctx.user, form.code.data, ip=request.remote_addr)
    elif not totp.is_enrolled(ctx.user):
        codes = totp.confirm_enrolment(ctx.user, form.code.data, ip=request.remote_addr)
        return render_template("admin/recovery_codes.html", codes=codes, next_url=ctx.target)
    else:
        method = totp.verify(ctx.user, form.code.data, ip=request.remote_addr)
    if method == "recovery":
        left = localized_digits(totp.recovery_codes_left(ctx.user))
        flash(_("یک کد بازیابی مصرف شد؛ %(left)s کد باقی است.", left=left), "warning")
    return None


def refuse(ctx, form, error):
    if not _admin(ctx):
        return _refuse_citizen(ctx, form, error)
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


def _refuse_citizen(ctx, form, error):
    if error.code in ("totp_too_many", "account_temporarily_locked", "totp_not_enrolled"):
        # Too many guesses (or the app was removed meanwhile): this sign-in is over.
        if ctx.session is not None:
            session.end_sessions([ctx.session], reason="totp_failures")
        else:
            pending.consume(ctx)
        flash(error_text(error), "danger")
        return redirect(url_for("accounts.login", next=ctx.next_url))
    form_error(form, error)
    return None


def lost():
    """A citizen's stored sign-in is gone (expired or completed): sign in again."""
    return redirect(url_for("accounts.login"))
