"""A passkey as a further step of a sign-in, when the target asks for one.

Needed when ``"passkey"`` is in ``ctx.required`` and the sign-in has not yet proved a
passkey (a sign-in with a passkey alone already has ``hwk`` or ``swk``). The page
``/login/passkey-step`` asks the browser for an assertion by one of the account's
passkeys (``static/js/passkeys.js`` fills the hidden field and submits the form).
"""

from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for

from ...errors import DomainError
from ...forms import error_text, form_error
from ...security import totp
from .. import assurance, passkeys
from ..passkey_forms import PasskeyAssertionForm

NAME = "passkey"
AMR = ("user",)  # plus "hwk" or "swk", which depends on the passkey (see submit)
PASSKEY_METHODS = ("hwk", "swk")


def needed(ctx) -> bool:
    """A passkey asked for by name, or the second factor a portal (level 2) or the
    citizen ("always ask") wants from a citizen whose only second factor is a passkey."""
    if any(m in ctx.amr for m in PASSKEY_METHODS) or "admin" in ctx.required:
        return False
    if "passkey" in ctx.required:
        return True
    return assurance.second_factor_due(ctx) and not totp.is_enrolled(ctx.user)


def endpoint(ctx) -> str:
    return "accounts.passkey_step_page"


def form() -> PasskeyAssertionForm:
    return PasskeyAssertionForm()


def render(ctx, form):
    return render_template("accounts/passkey_step.html", form=form,
                           has_passkeys=passkeys.has_passkeys(ctx.user.id))


def submit(ctx, form) -> None:
    """Verify the assertion; add its method (and ``mfa``) before the runner adds ``user``."""
    try:
        credential = json.loads(form.credential.data)
    except (ValueError, RecursionError):
        credential = None
    if not isinstance(credential, dict):
        raise DomainError("passkey_request_invalid")
    found = passkeys.verify_step(ctx.user, credential, ip=request.remote_addr)
    # RFC 8176 §2: "mfa" once a method joins another one already used.
    extra = [found] + (["mfa"] if ctx.amr and "mfa" not in ctx.amr else [])
    ctx.amr = [*ctx.amr, *(m for m in extra if m not in ctx.amr)]


def refuse(ctx, form, error) -> None:
    form_error(form, error)


def lost():
    flash(error_text(DomainError("passkey_step_expired")), "danger")
    return redirect(url_for("accounts.login"))
