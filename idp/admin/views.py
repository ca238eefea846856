"""Admin sign-in pages (the second-factor step: TOTP enrolment and verification), home,
audit log, DCR tokens.

Thin views: parse → one service call → render or redirect.
"""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice as C

from .. import settings
from ..accounts import session as sso
from ..accounts import steps
from ..accounts.steps import second_factor
from ..clients import dcr
from ..errors import DomainError
from ..forms import error_text, form_error
from ..security import totp
from . import audit_log, support
from .forms import ActionForm, AuditFilterForm, InitialTokenForm
from .guard import (
    admin_account_required,
    admin_required,
    admin_step_up,
    bp,
    current_admin,
)


@bp.route("/verify", methods=["GET", "POST"])
@admin_account_required
def verify(user):
    """The TOTP step asked at each admin sign-in (a recovery code also works, once)."""
    return steps.serve(second_factor,
                       admin_step_up(user, sso.current_session(), request.args.get("next")))


@bp.route("/enrol", methods=["GET", "POST"])
@admin_account_required
def enrol(user):
    """Enrol an authenticator app: QR code shown once, then recovery codes shown once."""
    return steps.serve(second_factor,
                       admin_step_up(user, sso.current_session(), request.args.get("next")))


@bp.get("/")
@admin_required
def index():
    return render_template("admin/index.html", counts=support.counts(), admin=current_admin(),
                           recovery_left=totp.recovery_codes_left(current_admin()))


def _audit_filter():
    form = AuditFilterForm(request.args)
    form.event.choices = [C("", _("همه")), *(C(e) for e in audit_log.event_types())]
    flt = audit_log.AuditFilter()
    if form.validate():
        try:
            flt = audit_log.parse_filter(form.event.data or "", form.user_code.data or "",
                                         form.client_id.data or "", form.date_from.data or "",
                                         form.date_to.data or "")
        except DomainError as e:
            form_error(form, e)
    return form, flt


@bp.get("/audit")
@admin_required
def audit():
    """The audit log, newest first, with filters; Jalali Tehran times."""
    form, flt = _audit_filter()
    number = request.args.get("page", 1, type=int)
    rows, more = audit_log.page(flt, number)
    query = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("admin/audit.html", form=form, rows=rows, page=number, more=more,
                           query=query)


@bp.get("/audit.csv")
@admin_required
def audit_csv():
    form, flt = _audit_filter()
    if form.errors or form.form_errors:
        abort(400)
    response = Response(stream_with_context(audit_log.csv_lines(flt)),
                        mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="audit.csv"'
    return response


@bp.route("/registration-tokens", methods=["GET", "POST"])
@admin_required
def registration_tokens():
    """Initial access tokens for dynamic client registration; a new one is shown once."""
    form = InitialTokenForm()
    if request.method == "GET":
        form.ttl_hours.data = form.ttl_hours.data or _default_ttl_hours()
    issued = None
    if form.validate_on_submit():
        try:
            row, raw = dcr.issue_initial_token(
                form.label.data, form.ttl_hours.data * 3600, form.max_uses.data,
                actor_id=current_admin().id, ip=request.remote_addr)
        except DomainError as e:
            form_error(form, e)
        else:
            issued = {"row": row, "token": raw}
            form = InitialTokenForm(formdata=None, ttl_hours=_default_ttl_hours())
    return render_template("admin/registration_tokens.html", form=form, issued=issued,
                           tokens=dcr.list_initial_tokens(), state=dcr.token_state,
                           enabled=dcr.enabled(), action_form=ActionForm())


def _default_ttl_hours() -> int:
    return max(1, settings.current().dcr_token_ttl // 3600)


@bp.post("/registration-tokens/<int:token_id>/revoke")
@admin_required
def revoke_registration_token(token_id):
    # CSRFProtect has checked the token of this POST before the view runs.
    try:
        dcr.revoke_initial_token(token_id, actor_id=current_admin().id, ip=request.remote_addr)
        flash(_("توکن باطل شد."), "success")
    except DomainError as e:
        flash(error_text(e), "danger")
    return redirect(url_for("admin.registration_tokens"))
