"""Sign-in as an ordered list of steps, after node-oidc-provider's prompts and checks.

A sign-in begins with the password step on ``/login``. Then every step of :data:`ORDER`
that is not done and whose ``needed(ctx)`` is true gets its page, in order; when none is
left the SSO session starts with the ``amr``/``acr`` the steps gathered. Between two
pages the sign-in is a server-side row (:mod:`.pending`); the browser holds only a random
key to it, so another browser cannot continue it, and it is deleted on completion.

A step is a module with ``NAME``, ``AMR`` (the methods it proves, RFC 8176),
``needed(ctx)``, ``endpoint(ctx)`` (its page), ``form()``, ``render(ctx, form)``,
``submit(ctx, form)`` (returns what to show instead of the redirect, or ``None``; raises
``DomainError``) and ``refuse(ctx, form, error)`` (a response, or ``None`` to show the
form with its errors). A step reached from a stored sign-in also has ``lost()``: the
answer when there is none.
"""

from __future__ import annotations

from flask import redirect, request, url_for

from ...errors import DomainError
from .. import session, signin
from . import new_password, password, pending
from .context import Context

#: Every step, in the order a sign-in takes them.
ORDER = (password, new_password)


def start(next_url: str | None) -> Context:
    """Return the context of a new sign-in that returns to ``next_url``."""
    return Context(next_url=next_url, home=url_for("accounts.account"))


def resume() -> Context | None:
    """Return the context of this browser's stored sign-in, or ``None``.

    A sign-in whose account was blocked (or deleted) meanwhile is dropped.
    """
    ctx = pending.load(home=url_for("accounts.account"))
    if ctx is not None and (ctx.user is None or ctx.user.status in signin.BLOCKED_STATUSES):
        pending.consume(ctx)
        return None
    return ctx


def pending_step(ctx: Context):
    """Return the first step not done that ``ctx`` needs, or ``None``."""
    return next((s for s in ORDER if s.NAME not in ctx.done and s.needed(ctx)), None)


def page_url(ctx: Context, step) -> str:
    """Return the address of the page of ``step``."""
    return url_for(step.endpoint(ctx))


def serve(step, ctx: Context | None):
    """Answer a request to the page of ``step``: show it, take its form, or send the
    browser to the step that is due (a step cannot be skipped by opening a later one).
    """
    if ctx is None:
        return step.lost()
    due = pending_step(ctx)
    if due is None:  # the step is no longer needed: sign in again
        pending.consume(ctx)
        return step.lost()
    if due is not step or request.endpoint != step.endpoint(ctx):
        return redirect(page_url(ctx, due))
    form = step.form()
    if form.validate_on_submit():
        try:
            shown = step.submit(ctx, form)
        except DomainError as e:
            return step.refuse(ctx, form, e) or step.render(ctx, form)
        ctx.add(step)
        return _advance(ctx, step, shown)
    return step.render(ctx, form)


def _advance(ctx: Context, step, shown):
    following = pending_step(ctx)
    if following is not None:
        pending.save(ctx)
        return redirect(page_url(ctx, following))
    if not pending.consume(ctx):  # completed or expired meanwhile
        return step.lost()
    session.login_user(ctx.user, amr=ctx.amr, acr=ctx.acr)
    return shown or redirect(ctx.target)
