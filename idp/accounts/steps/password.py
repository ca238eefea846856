"""Identify the account and check its password: the ``/login`` form.

The national/FIDA code and the password are asked on one page, so the answer never
tells whether a code has an account (see :func:`~idp.accounts.signin.authenticate`).
"""

from __future__ import annotations

from flask import render_template, request

from ...forms import error_text
from .. import signin
from ..forms import LoginForm, normalize_id_code

NAME = "password"
AMR = ("pwd",)


def needed(ctx) -> bool:
    return ctx.session is None  # a step-up builds on the session's own sign-in


def endpoint(ctx) -> str:
    return "accounts.login"


def form() -> LoginForm:
    form = LoginForm()
    if request.method == "GET":
        form.id_code.data = normalize_id_code(request.args.get("login_hint"))
    return form


def render(ctx, form):
    return render_template("accounts/login.html", form=form, next=ctx.next_url)


def submit(ctx, form) -> None:
    ctx.user = signin.authenticate(form.id_code.data, form.password.data,
                                   ip=request.remote_addr)


def refuse(ctx, form, error) -> None:
    form.form_errors.append(error_text(error))
