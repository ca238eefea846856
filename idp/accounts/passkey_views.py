"""Passkey routes: the account page's passkey section, the sign-in with a passkey on
``/login`` and the passkey step. Thin views on :mod:`idp.accounts.passkeys`.

The ceremonies are JSON posts from ``static/js/passkeys.js`` (CSRF token in the
``X-CSRFToken`` header); an error answers ``{"error": code, "message": text}`` in the
page's language, which the script shows.
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from ..errors import DomainError
from ..forms import error_text
from ..identity import jalali
from ..unit_of_work import unit_of_work
from . import passkeys, session, steps
from .account_views import _signed_out_after_guesses
from .forms import safe_next
from .passkey_forms import PasskeyNameForm, PasskeyRemoveForm
from .steps import passkey as passkey_step
from .views import bp


def _ip() -> str | None:
    return request.remote_addr


def _json_error(error: DomainError, status: int = 400):
    return jsonify(error=error.code, message=error_text(error)), status


def _payload() -> dict | None:
    """The JSON object posted, or ``None`` when the body is not one."""
    try:
        payload = request.get_json(silent=True)
    except RecursionError:
        return None
    return payload if isinstance(payload, dict) else None


def _credential(payload: dict | None) -> dict | None:
    credential = (payload or {}).get("credential")
    return credential if isinstance(credential, dict) else None


@bp.app_context_processor
def _passkey_section():
    """``passkey_section(user)`` for ``accounts/_passkeys.html``: rows and forms."""

    def section(user):
        rows = [{"id": p.id, "name": p.name, "synced": p.backup_eligible,
                 "created": jalali.format_datetime(p.created_at, persian_digits=False),
                 "last_used": jalali.format_datetime(p.last_used_at, persian_digits=False)
                 if p.last_used_at else None}
                for p in passkeys.list_passkeys(user.id)]
        return {"rows": rows, "name_error": error_text(DomainError("passkey_name_invalid")),
                "add_form": PasskeyNameForm(formdata=None),
                "rename_form": PasskeyNameForm(formdata=None),
                "remove_form": PasskeyRemoveForm(formdata=None)}

    return {"passkey_section": section}


# --- the account page ------------------------------------------------------------------

@bp.post("/account/passkeys/options")
@session.login_required
def passkey_registration_options():
    """Options for ``navigator.credentials.create()``."""
    try:
        return jsonify(passkeys.registration_options(session.current_user()))
    except DomainError as e:
        return _json_error(e)


@bp.post("/account/passkeys")
@session.login_required
def passkey_register():
    """Store the passkey the browser created: ``{"name": …, "credential": {…}}``."""
    payload = _payload()
    credential = _credential(payload)
    if credential is None:
        return _json_error(DomainError("passkey_request_invalid"))
    name = payload.get("name") if isinstance(payload.get("name"), str) else None
    try:
        passkeys.register(session.current_user(), credential, name, ip=_ip())
    except DomainError as e:
        return _json_error(e)
    flash(_("کلید عبور ثبت شد."), "success")
    # No #fragment: the script's navigation to the page it is on must reload it.
    return jsonify(redirect=url_for("accounts.account"))


@bp.post("/account/passkeys/<int:passkey_id>/rename")
@session.login_required
def passkey_rename(passkey_id: int):
    form = PasskeyNameForm()
    try:
        if not form.validate_on_submit():
            raise DomainError("passkey_name_invalid")
        passkeys.rename(session.current_user(), passkey_id, form.name.data, ip=_ip())
    except DomainError as e:
        flash(error_text(e), "danger")
    else:
        flash(_("نام کلید عبور تغییر کرد."), "success")
    return redirect(url_for("accounts.account", _anchor="passkeys"))


@bp.post("/account/passkeys/<int:passkey_id>/remove")
@session.login_required
def passkey_remove(passkey_id: int):
    """Remove a passkey; the password is typed again (wrong ones count towards lockout)."""
    form = PasskeyRemoveForm()
    try:
        if not form.validate_on_submit():
            raise DomainError("current_password_wrong")
        passkeys.remove(session.current_user(), passkey_id, form.password.data, ip=_ip())
    except DomainError as e:
        if e.code == "account_temporarily_locked":
            return _signed_out_after_guesses(e)
        flash(error_text(e), "danger")
    else:
        flash(_("کلید عبور حذف شد."), "success")
    return redirect(url_for("accounts.account", _anchor="passkeys"))


# --- sign-in with a passkey alone -------------------------------------------------------

@bp.post("/login/passkey/options")
def passkey_login_options():
    """Options for ``navigator.credentials.get()`` with a discoverable credential."""
    return jsonify(passkeys.sign_in_options())


@bp.post("/login/passkey")
def passkey_login():
    """Sign in with a passkey: ``{"credential": {…}}``; answers where to go next (the
    page ``next`` names, the pending OIDC authorization, or a further step)."""
    credential = _credential(_payload())
    if credential is None:
        return _json_error(DomainError("passkey_request_invalid"))
    ctx = steps.start(safe_next(request.args.get("next")))
    try:
        with unit_of_work():
            ctx.user, amr = passkeys.authenticate(credential, ip=_ip())
            response = steps.first_factor_proved(ctx, amr)
    except DomainError as e:
        return _json_error(e)
    return jsonify(redirect=response.headers["Location"])


# --- the passkey step ---------------------------------------------------------------------

def _step_context():
    """The sign-in waiting for a passkey, else a step-up of this browser's session to a
    passkey (then returning to ``next``), else ``None``."""
    ctx = steps.resume()
    row = session.current_session() if ctx is None else None
    if row is None:
        return ctx
    return steps.step_up(session.current_user(), row, required={"passkey"},
                         next_url=safe_next(request.args.get("next")),
                         home=url_for("accounts.account"))


@bp.route("/login/passkey-step", methods=["GET", "POST"])
def passkey_step_page():
    """Prove a passkey as a further step of a sign-in that asks for one, or to raise
    this browser's session (its ``amr`` gains ``hwk``/``swk``)."""
    return steps.serve(passkey_step, _step_context())


@bp.post("/login/passkey-step/options")
def passkey_step_options():
    """Options listing the passkeys of the account signing in."""
    ctx = _step_context()
    if ctx is None or steps.pending_step(ctx) is not passkey_step:
        return _json_error(DomainError("passkey_request_invalid"))
    return jsonify(passkeys.step_options(ctx.user))
