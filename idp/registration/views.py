"""The registration wizard's pages (``/register…``). Thin: parse → one service call → answer.

Every step page has "مرحله بعد" (``action=next``) and "مرحله قبل" (``action=back``);
going back keeps what was typed on the page being left (never a password).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from .. import settings
from ..accounts import session as sso
from ..accounts.forms import safe_next
from ..errors import DomainError
from ..extensions import now
from ..forms import add_error, error_text, form_error
from ..i18n import current_locale
from ..identity import jalali
from ..messages import message
from ..security import captcha
from ..text import mask_mobile
from . import services, wizard
from .forms import (
    CodeAndMobileForm,
    CodeForm,
    ConfirmForm,
    EmailForm,
    PasswordForm,
    PersonForm,
    StartForm,
)

bp = Blueprint("registration", __name__, url_prefix="/register")

# Form fields kept when the citizen goes back from a step (passwords never are).
TYPED_FIELDS = {
    1: ("id_code", "mobile"),
    2: ("first_name", "last_name", "father_name", "certificate_number", "birth_year",
        "birth_month", "birth_day", "gender"),
    3: ("email",),
    4: (),
}


def _raw_cookie() -> str | None:
    return request.cookies.get(wizard.COOKIE_NAME)


def _current_draft():
    draft = wizard.load(_raw_cookie())
    if draft is None and _raw_cookie():
        flash(message("registration_expired"), "info")
    elif draft is not None:
        g.registration_cookie = _raw_cookie()  # renewed below: the draft's life was extended
    return draft


@bp.after_request
def _renew_cookie(response):
    """Give the cookie the draft's new lifetime, unless this response replaces or ends it."""
    raw = g.pop("registration_cookie", None)
    if raw and wizard.COOKIE_NAME not in str(response.headers.getlist("Set-Cookie")):
        _set_cookie(response, raw)
    return response


def _set_cookie(response, raw: str):
    cfg = settings.current()
    response.set_cookie(wizard.COOKIE_NAME, raw, httponly=True, samesite="Lax",
                        secure=cfg.https, path=wizard.COOKIE_PATH,
                        max_age=cfg.registration_draft_ttl)
    return response


def _clear_cookie(response):
    response.delete_cookie(wizard.COOKIE_NAME, path=wizard.COOKIE_PATH, httponly=True,
                           samesite="Lax", secure=settings.current().https)
    return response


def _to_step(step: int):
    return redirect(url_for("registration.step", step=step) if step else
                    url_for("registration.start"))


def _render(template: str, draft, **context):
    return render_template(f"registration/{template}", draft=draft, step=draft.step,
                           **context)


def _going_back() -> bool:
    return request.method == "POST" and request.form.get("action") == "back"


@bp.route("", methods=["GET", "POST"])
def start():
    """Choose natural person (national code) or foreign national (FIDA code), then start."""
    draft = _current_draft()
    if request.method == "GET" and draft is not None and draft.step >= 1:
        return _to_step(draft.step)
    form = StartForm()
    if request.method == "GET":
        form.id_type.data = draft.id_type if draft is not None else None
        form.next.data = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        if draft is not None:
            services.choose_type(draft, form.id_type.data)
            return _to_step(1)
        draft, raw = wizard.create(form.id_type.data, safe_next(form.next.data))
        return _set_cookie(_to_step(1), raw)
    return render_template("registration/start.html", form=form, step=0, draft=draft)


@bp.post("/restart")
def restart():
    """Forget this browser's draft and show the first page again."""
    wizard.discard(_raw_cookie())
    return _clear_cookie(redirect(url_for("registration.start")))


@bp.route("/step/<int:step>", methods=["GET", "POST"])
def step(step: int):
    """Show or submit the step the draft is on; any other step redirects there."""
    draft = _current_draft()
    if draft is None:
        return _clear_cookie(redirect(url_for("registration.start")))
    if step != draft.step:
        return _to_step(draft.step)
    if _going_back() and step in TYPED_FIELDS:
        values = {name: request.form.get(name) for name in TYPED_FIELDS[step]}
        wizard.keep_typed(draft, step, values, move_to=step - 1)
        return _to_step(step - 1)
    return STEPS[step](draft)


def _step1(draft):
    if (draft.data or {}).get("code_sent"):
        return _step1_code(draft)
    form = CodeAndMobileForm(draft.id_type, data=wizard.typed(draft, 1) or {
        "id_code": draft.id_code, "mobile": draft.mobile})
    account_exists = False
    if form.validate_on_submit():
        try:
            captcha.require("registration", ip=request.remote_addr, target=form.mobile.data,
                            challenge_id=form.captcha_id.data, answer=form.captcha_answer.data)
        except DomainError as e:
            form_error(form, e)
            return _render("step1.html", draft, form=form, account_exists=False)
        captcha.count("registration", ip=request.remote_addr, target=form.mobile.data)
        wizard.keep_typed(draft, 1, {"id_code": form.id_code.data, "mobile": form.mobile.data})
        try:
            sent = services.submit_code_and_mobile(draft, form.id_code.data, form.mobile.data,
                                                   ip=request.remote_addr)
        except DomainError as e:
            if e.code.startswith("otp_") or e.code == "sms_unavailable":
                flash(error_text(e), "danger")  # ownership confirmed; the code page offers a resend
                return _to_step(1)
            account_exists = e.code == "registration_account_exists"
            form_error(form, e)
        else:
            return _to_step(1 if sent else 2)
    return _render("step1.html", draft, form=form, account_exists=account_exists)


def _step1_code(draft):
    form = CodeForm()
    action = request.form.get("action")
    if request.method == "POST" and action == "edit":
        services.edit_mobile(draft)
        return _to_step(1)
    if request.method == "POST" and action == "resend":
        try:
            services.resend_code(draft)
            flash(message("registration_code_resent"), "info")
        except DomainError as e:
            flash(error_text(e), "danger")
        return _to_step(1)
    # Only "مرحله بعد" of the code form submits it; a repeated post of the code-and-mobile
    # form (double click, reload) just shows this page again.
    if action == "verify" and form.validate_on_submit():
        try:
            services.verify_mobile_code(draft, form.code.data)
        except DomainError as e:
            form_error(form, e, field="code")
        else:
            return _to_step(2)
    return _render("step1_code.html", draft, form=form,
                   mobile=mask_mobile(draft.mobile or ""), sent=services.code_sent(draft),
                   resend_wait=services.seconds_until_resend(draft))


def _step2(draft):
    form = PersonForm(draft.id_type, jalali.tehran_today(now()), data=wizard.typed(draft, 2))
    if form.validate_on_submit():
        wizard.keep_typed(draft, 2, {k: request.form.get(k) for k in TYPED_FIELDS[2]})
        try:
            services.check_person(draft, form.person(), ip=request.remote_addr)
        except DomainError as e:
            if e.code == "registration_mismatch":
                form.form_errors.append(message("registration_mismatch"))
                for name in e.params["fields"]:
                    add_error(form, "birth_day" if name == "birth_date" else name,
                              message(f"registration_mismatch_{name}"))
            else:
                form_error(form, e, field="birth_day" if e.field == "birth_date" else None)
        else:
            return _to_step(3)
    return _render("step2.html", draft, form=form)


def _step3(draft):
    if (draft.data or {}).get("email_code_sent"):
        return _step3_code(draft)
    form = EmailForm(data=wizard.typed(draft, 3) or {"email": (draft.data or {}).get("email")})
    if form.validate_on_submit():
        wizard.keep_typed(draft, 3, {"email": form.email.data})
        try:
            code_page = services.set_email(draft, form.email.data)
        except DomainError as e:
            flash(error_text(e), "danger")  # address kept; the code page offers a resend
            code_page = True
        return _to_step(3 if code_page else 4)
    return _render("step3.html", draft, form=form)


def _step3_code(draft):
    """The code mailed to the address, or «بعداً» (verify later on the account page)."""
    form = CodeForm()
    action = request.form.get("action")
    if request.method == "POST" and action in ("edit", "later", "resend"):
        try:
            {"edit": services.edit_email, "later": services.skip_email_verification,
             "resend": services.send_email_code}[action](draft)
        except DomainError as e:
            flash(error_text(e), "danger")
        return _to_step(4 if action == "later" else 3)
    if action == "verify" and form.validate_on_submit():
        try:
            services.verify_email_code(draft, form.code.data)
        except DomainError as e:
            form_error(form, e, field="code")
        else:
            return _to_step(4)
    return _render("step3_code.html", draft, form=form, email=(draft.data or {}).get("email"),
                   resend_wait=services.email_resend_wait(draft))


def _step4(draft):
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password(draft, form.new_password.data)
        except DomainError as e:
            form_error(form, e, field="new_password")
        else:
            return _to_step(5)
    return _render("step4.html", draft, form=form)


def _step5(draft):
    form = ConfirmForm()
    if _going_back():
        services.back_to_password(draft)
        return _to_step(4)
    account_exists = False
    next_url = (draft.data or {}).get("next")
    if form.validate_on_submit():
        try:
            user = services.complete(draft, ip=request.remote_addr)
        except DomainError as e:
            account_exists = e.code == "registration_account_exists"
            form.form_errors.append(error_text(e))
        else:
            next_url = next_url if user is not None else None
            # From a portal: the system message first, then «ادامه» back to the portal.
            response = redirect(url_for("registration.done", next=next_url))
            if user is not None and next_url:
                sso.login_user(user, amr=["sms"])  # the citizen just proved the mobile
            sso.stash("registration_done", True)  # shown inside the «پیام سیستم» box
            return _clear_cookie(response)
    values = services.review(draft)
    return _render("step5.html", draft, form=form, values=values,
                   birth_date_text=jalali.format_date(values.get("birth_date"),
                                                      persian_digits=current_locale() == "fa"),
                   account_exists=account_exists)


STEPS = {1: _step1, 2: _step2, 3: _step3, 4: _step4, 5: _step5}


@bp.get("/done")
def done():
    """After registering: the system message and the way on: back to the portal that
    sent the citizen (``next``, already signed in), else to the sign-in page."""
    done_now = sso.unstash("registration_done", max_age=600, pop=True)
    return render_template("registration/done.html", step=6, draft=None,
                           next_url=safe_next(request.args.get("next")),
                           success=message("registration_done") if done_now else None)
