"""Citizen support pages: search, an account's overview and the support actions."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from ..errors import DomainError
from ..forms import error_text, form_error
from . import support
from .forms import ActionForm, SearchForm
from .guard import admin_required, bp, current_admin

# action in the URL → (service, confirmation; Persian source, translated when shown)
ACTIONS = {
    "lock": (support.lock, _l("حساب مسدود شد و همه نشست‌های آن پایان یافت.")),
    "unlock": (support.unlock, _l("مسدودی حساب برداشته شد.")),
    "force-password-change": (support.force_password_change,
                              _l("کاربر در ورود بعدی باید گذرواژه تازه انتخاب کند.")),
    "sign-out": (support.sign_out_everywhere, _l("همه نشست‌های کاربر پایان یافت.")),
}


@bp.get("/users")
@admin_required
def users():
    """Find an account by national/FIDA code or mobile (exact match only)."""
    form = SearchForm(request.args)
    found = None
    if request.args.get("q") is not None and form.validate():
        try:
            found = support.search(form.q.data, actor_id=current_admin().id,
                                   ip=request.remote_addr)
        except DomainError as e:
            form_error(form, e)
        else:
            if len(found) == 1:
                return redirect(url_for("admin.user_detail", user_id=found[0].id))
    return render_template("admin/users.html", form=form, found=found)


@bp.get("/users/<int:user_id>")
@admin_required
def user_detail(user_id):
    try:
        info = support.overview(user_id, actor_id=current_admin().id, ip=request.remote_addr)
    except DomainError:
        return render_template("admin/not_found.html"), 404
    return render_template("admin/user_detail.html", info=info, form=ActionForm(),
                           is_self=info.user.id == current_admin().id)


@bp.post("/users/<int:user_id>/<any(lock, unlock, 'force-password-change', 'sign-out'):action>")
@admin_required
def user_action(user_id, action):
    service, done = ACTIONS[action]
    try:
        service(user_id, actor_id=current_admin().id, ip=request.remote_addr)
    except DomainError as e:
        if e.code == "user_not_found":
            return render_template("admin/not_found.html"), 404
        flash(error_text(e), "danger")
    else:
        flash(str(done), "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))
