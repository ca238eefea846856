"""Sign-in as an ordered list of steps, after node-oidc-provider's prompts and checks.

A sign-in begins with the password step on ``/login``. Then every step of :data:`ORDER`
that is not done and whose ``needed(ctx)`` is true gets its page, in order; when none is
left the SSO session starts with the ``amr``/``acr`` the steps gathered. Between two
pages the sign-in is a server-side row (:mod:`.pending`); the browser holds only a random
key to it, so another browser cannot continue it, and it is deleted on completion.

A step-up raises an existing SSO session the same way (the admin area asks for a second
factor): its context is built from the session on each request (the session cookie
already binds it to this browser), and completing it adds the new methods to that
session instead of starting another.

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
from ...models import SsoSession, User
from ...unit_of_work import unit_of_work
from .. import session, signin
from . import new_password, passkey, password, pending, second_factor
from .context import Context

#: Every step, in the order a sign-in takes them.
ORDER = (password, new_password, second_factor, passkey)


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


def step_up(user: User, row: SsoSession, *, required: set[str], next_url: str | None,
            home: str) -> Context:
    """Return the context of raising the SSO session ``row`` to what ``required`` names."""
    return Context(next_url=next_url, home=home, user=user, amr=list(row.amr or []),
                   acr=row.acr, required=frozenset(required), session=row)


def pending_step(ctx: Context):
    """Return the first step not done that ``ctx`` needs, or ``None``."""
    return next((s for s in ORDER if s.NAME not in ctx.done and s.needed(ctx)), None)


def page_url(ctx: Context, step) -> str:
    """Return the address of the page of ``step``."""
    if ctx.session is None:
        return url_for(step.endpoint(ctx))
    # A step-up is not stored: its target travels in the address.
    return url_for(step.endpoint(ctx), next=ctx.next_url)


def serve(step, ctx: Context | None):
    """Answer a request to the page of ``step``: show it, take its form, or send the
    browser to the step that is due (a step cannot be skipped by opening a later one).
    """
    if ctx is None:
        return step.lost()
    due = pending_step(ctx)
    if due is None:
        if ctx.session is not None:  # the session already has what the target needs
            return redirect(ctx.target)
        pending.consume(ctx)  # the step is no longer needed: sign in again
        return step.lost()
    if due is not step or request.endpoint != step.endpoint(ctx):
        return redirect(page_url(ctx, due))
    form = step.form()
    if form.validate_on_submit():
        try:
            # One unit of work: the step's check and what it leads to (the stored
            # sign-in, the new session) commit together; failure records commit alone.
            with unit_of_work():
                shown = step.submit(ctx, form)
                ctx.add(step)
                return _advance(ctx, step, shown)
        except DomainError as e:
            return step.refuse(ctx, form, e) or step.render(ctx, form)
    return step.render(ctx, form)


def first_factor_proved(ctx: Context, amr: list[str]):
    """Go on with a sign-in whose first factor was proved without the password page (a
    passkey on ``/login``): the password step counts as done and ``amr`` is what was
    proved; the answer is the redirect to the next step or to the target."""
    ctx.done.append(password.NAME)
    ctx.amr = list(amr)
    return _advance(ctx, password, None)


def _advance(ctx: Context, step, shown):
    following = pending_step(ctx)
    if following is not None:
        if ctx.session is None:
            pending.save(ctx)
        return redirect(page_url(ctx, following))
    if ctx.session is not None:
        session.raise_session(ctx.session, amr=ctx.amr, admin="admin" in ctx.required)
    elif pending.consume(ctx):
        session.login_user(ctx.user, amr=ctx.amr)
    else:  # completed or expired meanwhile
        return step.lost()
    return shown or redirect(ctx.target)
