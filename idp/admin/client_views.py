"""Client application pages: list, register, detail, edit, rotate secret, disable, delete.

A new secret is rendered straight into the answer to the POST that made it (never put in
the cookie session by ``flash``); the page is ``no-store`` like every page.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import settings
from ..clients import service
from ..clients.spec import ClientSpec
from ..errors import DomainError
from ..forms import error_text, form_error
from .forms import ActionForm, ClientForm, RotateSecretForm
from .guard import admin_required, bp, current_admin


def _client_or_404(client_id):
    try:
        return service.get_client(client_id)
    except DomainError:
        return None


def _secret_page(client, secret, title):
    return render_template("admin/client_secret.html", client=client, secret=secret,
                           title=title)


@bp.get("/clients")
@admin_required
def clients():
    search = request.args.get("q", "")[:200]  # a name or an id; never a long scan
    return render_template("admin/clients.html", clients=service.list_clients(search),
                           search=search)


@bp.route("/clients/new", methods=["GET", "POST"])
@admin_required
def client_new():
    form = ClientForm()
    if form.validate_on_submit():
        spec = ClientSpec(**form.changes())
        try:
            client, secret = service.register_client(spec, actor_id=current_admin().id,
                                                     ip=request.remote_addr)
        except DomainError as e:
            form_error(form, e)
        else:
            if secret:
                return _secret_page(client, secret, _("برنامه ثبت شد"))
            flash(_("برنامه ثبت شد."), "success")
            return redirect(url_for("admin.client_detail", client_id=client.client_id))
    return render_template("admin/client_form.html", form=form, client=None)


@bp.get("/clients/<client_id>")
@admin_required
def client_detail(client_id):
    client = _client_or_404(client_id)
    if client is None:
        return render_template("admin/not_found.html"), 404
    return render_template("admin/client_detail.html", client=client,
                           summary=service.client_summary(client), action_form=ActionForm(),
                           deliveries=service.logout_deliveries(client.client_id),
                           rotate_form=RotateSecretForm(grace_hours=_default_grace_hours()))


def _default_grace_hours() -> int:
    return settings.current().client_secret_grace_period // 3600


@bp.route("/clients/<client_id>/edit", methods=["GET", "POST"])
@admin_required
def client_edit(client_id):
    client = _client_or_404(client_id)
    if client is None:
        return render_template("admin/not_found.html"), 404
    form = ClientForm()
    if request.method == "GET":
        form.fill(service.client_summary(client))
    form.client_type.data = client.client_type  # fixed at registration
    if form.validate_on_submit():
        try:
            client, secret = service.update_client(client_id, form.changes(),
                                                    actor_id=current_admin().id,
                                                    ip=request.remote_addr)
        except DomainError as e:
            form_error(form, e)
        else:
            if secret:
                return _secret_page(client, secret, _("تغییرات ثبت شد؛ رمز تازه"))
            flash(_("تغییرات ثبت شد."), "success")
            return redirect(url_for("admin.client_detail", client_id=client_id))
    return render_template("admin/client_form.html", form=form, client=client)


@bp.post("/clients/<client_id>/rotate-secret")
@admin_required
def client_rotate(client_id):
    form = RotateSecretForm()
    if not form.validate():
        flash(" ".join(form.grace_hours.errors), "danger")
        return redirect(url_for("admin.client_detail", client_id=client_id))
    grace = None if form.grace_hours.data is None else form.grace_hours.data * 3600
    try:
        client, secret = service.rotate_secret(client_id, current_admin().id, grace=grace,
                                               ip=request.remote_addr)
    except DomainError as e:
        flash(error_text(e), "danger")
        return redirect(url_for("admin.clients"))
    return _secret_page(client, secret, _("رمز تازه ساخته شد"))


@bp.post("/clients/<client_id>/<any(enable, disable):action>")
@admin_required
def client_enabled(client_id, action):
    try:
        service.set_enabled(client_id, action == "enable", actor_id=current_admin().id,
                             ip=request.remote_addr)
    except DomainError as e:
        flash(error_text(e), "danger")
        return redirect(url_for("admin.clients"))
    flash(_("برنامه فعال شد.") if action == "enable" else
          _("برنامه غیرفعال شد؛ توکن‌های آن از همین لحظه پذیرفته نمی‌شوند."), "success")
    return redirect(url_for("admin.client_detail", client_id=client_id))


@bp.route("/clients/<client_id>/delete", methods=["GET", "POST"])
@admin_required
def client_delete(client_id):
    client = _client_or_404(client_id)
    if client is None:
        return render_template("admin/not_found.html"), 404
    form = ActionForm()
    if form.validate_on_submit():
        service.delete_client(client_id, actor_id=current_admin().id, ip=request.remote_addr)
        flash(_("برنامه و همه توکن‌ها و رضایت‌های آن حذف شد."), "success")
        return redirect(url_for("admin.clients"))
    return render_template("admin/client_delete.html", client=client, form=form)
