"""Identify the account and check its password: the ``/login`` form.

The national/FIDA code and the password are asked on one page, so the answer never
tells whether a code has an account (see :func:`~idp.accounts.signin.authenticate`).
"""

from __future__ import annotations

from flask import render_template, request

from ...forms import form_error
from ...security import captcha
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
    captcha.require("login", ip=request.remote_addr, target=form.id_code.data,
                    challenge_id=form.captcha_id.data, answer=form.captcha_answer.data)
    ctx.user = signin.authenticate(form.id_code.data, form.password.data,
                                   ip=request.remote_addr)


def refuse(ctx, form, error) -> None:
    if error.code in ("login_failed", "account_temporarily_locked"):
        captcha.count("login", ip=request.remote_addr, target=form.id_code.data)
    form_error(form, error)
