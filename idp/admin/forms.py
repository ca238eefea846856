"""Admin forms: shape and normalisation only; the rules live in the services."""

from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
    widgets,
)
from wtforms.fields.choices import SelectChoice as C
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from .. import settings
from ..clients.spec import GRANT_ORDER, SCOPE_ORDER, SPEC_FIELDS
from ..forms import Form
from ..messages import MESSAGES, message
from ..text import normalize_digits

REQUIRED = InputRequired(message=_l(MESSAGES["required"]))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _digits(value):
    return normalize_digits(value) if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


#: A number typed in an admin form has at most this many digits (no setting needs more).
NUMBER_MAX_DIGITS = 9


class NumberField(IntegerField):
    """An optional whole number typed with either digit set."""

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            try:
                if len(valuelist[0].strip()) > NUMBER_MAX_DIGITS:
                    raise ValueError  # bounded before int(): no huge or unstorable number
                self.data = int(normalize_digits(valuelist[0]))
            except ValueError:
                self.data = None
                raise ValueError(message("not_a_number")) from None
        else:
            self.data = None


class ActionForm(Form):
    """A button that changes state (disable, lock, sign out …): only the CSRF token."""


class ClientForm(Form):
    """Every metadata field an operator may set; ``changes()`` feeds the client services."""

    name_fa = StringField(_l("نام فارسی (به شهروند نشان داده می‌شود)"),
                          validators=[REQUIRED, Length(max=200)], filters=[_strip])
    name_en = StringField(_l("نام انگلیسی"), validators=[Length(max=200)], filters=[_strip])
    logo_uri = StringField(_l("نشانی نشان (لوگو)"), validators=[Length(max=500)], filters=[_strip])
    client_type = SelectField(_l("نوع برنامه"), choices=[
        C("confidential", _l("پورتال وب محرمانه (دارای سرور)")),
        C("public", _l("برنامه عمومی (SPA یا موبایل) با PKCE")),
        C("service", _l("سرویس ماشینی (client_credentials)")),
    ], default="confidential")
    redirect_uris = TextAreaField(_l("نشانی‌های بازگشت (هر سطر یکی)"))
    post_logout_redirect_uris = TextAreaField(_l("نشانی‌های بازگشت پس از خروج (هر سطر یکی)"))
    backchannel_logout_uri = StringField(_l("نشانی خروج پشت‌صحنه (back-channel)"),
                                         validators=[Length(max=500)], filters=[_strip])
    grant_types = MultiCheckboxField(_l("انواع مجوز (خالی: پیش‌فرض نوع برنامه)"),
                                     choices=[C(g) for g in GRANT_ORDER])
    scope = MultiCheckboxField(_l("دامنه‌های دسترسی"), choices=[C(s) for s in SCOPE_ORDER],
                               default=["openid", "profile"])
    token_endpoint_auth_method = SelectField(_l("روش احراز هویت برنامه"), choices=[
        C("", _l("پیش‌فرض نوع برنامه")), C("client_secret_basic", "client_secret_basic"),
        C("client_secret_post", "client_secret_post"), C("private_key_jwt", "private_key_jwt"),
        C("none", _l("none (عمومی)")),
    ], default="")
    jwks = TextAreaField(_l("کلیدهای عمومی (JWK Set به شکل JSON)"))
    jwks_uri = StringField(_l("نشانی کلیدهای عمومی (jwks_uri)"), validators=[Length(max=500)],
                           filters=[_strip])
    id_token_signed_response_alg = SelectField(_l("الگوریتم امضای توکن شناسه"),
                                               choices=[C("RS256", "RS256"), C("ES256", "ES256")])
    request_object_signing_alg = SelectField(
        _l("امضای الزامی شیء درخواست (request object)"), default="", choices=[
            C("", _l("الزامی نیست")), C("RS256", "RS256"), C("PS256", "PS256"),
            C("ES256", "ES256")])
    require_pushed_authorization_requests = BooleanField(
        _l("فقط درخواست ورود ارسال‌شده از پیش (PAR، RFC 9126)"))
    introspection_signed_response_alg = SelectField(
        _l("الگوریتم امضای پاسخ introspection"),
        choices=[C("", _l("امضا نشود (JSON)")), C("RS256", "RS256"), C("ES256", "ES256")],
        default="")
    authorization_signed_response_alg = SelectField(
        _l("الگوریتم امضای پاسخ مجوز (JARM)"),
        choices=[C("", _l("پیش‌فرض (RS256؛ ES256 برای FAPI 2.0)")), C("RS256", "RS256"),
                 C("ES256", "ES256")], default="")
    profile = SelectField(_l("نمایه امنیتی"), choices=[
        C("", _l("بدون نمایه")), C("fapi2", _l("FAPI 2.0 (PKCE، private_key_jwt، کد ۶۰ ثانیه‌ای)"))],
        default="")
    first_party = BooleanField(_l("برنامه خودی (بدون صفحه رضایت)"))
    subject_type = SelectField(_l("شناسه کاربر"), choices=[
        C("public", _l("یکسان برای همه برنامه‌ها (public)")),
        C("pairwise", _l("جدا برای هر برنامه (pairwise)"))])
    sector_identifier = StringField(_l("شناسه بخش (sector) برای pairwise"),
                                    validators=[Length(max=255)], filters=[_strip])
    is_resource_server = BooleanField(_l("سرور منابع (اجازه introspection همه توکن‌ها)"))
    resource_uri = StringField(_l("شناسه منبع (resource، RFC 8707)"),
                               validators=[Length(max=500)], filters=[_strip])
    access_token_ttl = NumberField(_l("عمر توکن دسترسی (ثانیه؛ خالی: پیش‌فرض)"),
                                   validators=[Optional()])
    refresh_token_ttl = NumberField(_l("عمر توکن نوسازی (ثانیه؛ خالی: پیش‌فرض)"),
                                    validators=[Optional()])
    dpop_bound_access_tokens = BooleanField(_l("فقط توکن‌های وابسته به کلید (DPoP)"))
    # Choices are the configured levels (ACR_LEVELS), set per form.
    default_acr_values = MultiCheckboxField(_l("سطح اطمینان پیش‌فرض (وقتی پورتال سطحی نخواهد)"),
                                            choices=[], validate_choice=False)
    minimum_acr = SelectField(_l("کمترین سطح اطمینان ورود"), choices=[], validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        levels = settings.current().acr_levels
        self.default_acr_values.choices = [C(level) for level in levels]
        self.minimum_acr.choices = [C("", _l("بدون کمینه")), *(C(level) for level in levels)]

    def validate_jwks(self, field):
        text = (field.data or "").strip()
        if not text:
            field.parsed = None
            return
        try:
            field.parsed = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            raise ValidationError(message("not_json")) from None

    def fill(self, summary: dict) -> None:
        """Show a stored client (``client_summary``) in the form."""
        for name in SPEC_FIELDS:
            value = summary.get(name)
            field = self[name]
            if name in {"redirect_uris", "post_logout_redirect_uris"}:
                field.data = "\n".join(value or [])
            elif name == "scope":
                field.data = (value or "").split()
            elif name == "request_object_signing_alg":
                field.data = value or ""
            elif name == "jwks":
                field.data = json.dumps(value, ensure_ascii=False, indent=2) if value else ""
            else:
                field.data = "" if value is None and isinstance(field, StringField) else value

    def changes(self) -> dict:
        """Return the form's values as ``ClientSpec`` fields (empty text → ``None``)."""
        data = {name: self[name].data for name in SPEC_FIELDS}
        for name in ("redirect_uris", "post_logout_redirect_uris"):
            data[name] = [line.strip() for line in (data[name] or "").splitlines()
                          if line.strip()]
        for name in ("logo_uri", "backchannel_logout_uri", "jwks_uri", "sector_identifier",
                     "token_endpoint_auth_method", "resource_uri", "request_object_signing_alg",
                     "introspection_signed_response_alg", "authorization_signed_response_alg",
                     "profile", "minimum_acr"):
            data[name] = data[name] or None
        data["default_acr_values"] = list(data["default_acr_values"] or [])
        data["scope"] = " ".join(data["scope"] or [])
        data["grant_types"] = list(data["grant_types"] or [])
        data["jwks"] = getattr(self.jwks, "parsed", None)
        return data


class RotateSecretForm(Form):
    grace_hours = NumberField(_l("مدت اعتبار رمز قبلی (ساعت؛ ۰: همین حالا باطل شود)"),
                              validators=[Optional(), NumberRange(min=0, max=24 * 90)])


class InitialTokenForm(Form):
    """An initial access token for dynamic client registration."""

    label = StringField(_l("عنوان (برای چه کسی یا چه کاری)"),
                        validators=[REQUIRED, Length(max=200)], filters=[_strip])
    ttl_hours = NumberField(_l("مدت اعتبار (ساعت)"),
                            validators=[REQUIRED, NumberRange(1, 24 * 365)])
    max_uses = NumberField(_l("تعداد دفعات استفاده"), default=1,
                           validators=[REQUIRED, NumberRange(1, 1000)])


class SearchForm(Form):
    """Find a citizen by national/FIDA code or mobile (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("کد ملی، کد فیدا یا شماره همراه"), validators=[REQUIRED, Length(max=20)],
                    filters=[_strip])


class AuditFilterForm(Form):
    """Filters of the audit log (a GET form: no CSRF). Dates are Jalali ``1403/09/05``."""

    class Meta:
        csrf = False

    event = SelectField(_l("نوع رویداد"), choices=[C("", _l("همه"))], default="")
    user_code = StringField(_l("کد ملی یا فیدای کاربر"), validators=[Length(max=12)],
                            filters=[_strip, _digits])
    client_id = StringField(_l("شناسه برنامه"), validators=[Length(max=64)], filters=[_strip])
    date_from = StringField(_l("از تاریخ"), validators=[Length(max=10)], filters=[_strip, _digits])
    date_to = StringField(_l("تا تاریخ"), validators=[Length(max=10)], filters=[_strip, _digits])
