"""Replace a password that must change (``must_change_password``) before the session starts."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...errors import DomainError
from ...forms import error_text, form_error
from .. import signin
from ..forms import NewPasswordForm
from . import pending

NAME = "new_password"
AMR = ()  # the password step already proved "pwd"


def needed(ctx) -> bool:
    # Asked before a session starts; a step-up of a live session never asks it.
    return ctx.session is None and ctx.user.must_change_password


def endpoint(ctx) -> str:
    return "accounts.expired_password"


def form() -> NewPasswordForm:
    return NewPasswordForm()


def render(ctx, form):
    return render_template("accounts/expired_password.html", form=form)


def submit(ctx, form) -> None:
    signin.set_expired_password(ctx.user.id, form.new_password.data, ip=request.remote_addr)
    flash(_("گذرواژه جدید شما ثبت شد."), "success")


def refuse(ctx, form, error):
    if error.code == "password_change_expired":
        pending.consume(ctx)
        return lost()
    form_error(form, error)
    return None


def lost():
    flash(error_text(DomainError("password_change_expired")), "danger")
    return redirect(url_for("accounts.login"))
