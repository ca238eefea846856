"""Flask-WTF forms of the sign-in, recovery and account pages.

Forms check shape and normalise input (Persian/Arabic digits → ASCII); rules that need
the database live in the services (``signin``, ``profile``). Every message comes from
``idp.messages``; labels and validator messages are lazy, so they follow the language of
the request that renders them.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import (
    AnyOf,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from ..forms import PASSWORD_MAX, SHORT_MAX, Form
from ..identity.national_id import is_valid_fida_code, is_valid_national_code
from ..messages import MESSAGES, message
from ..text import is_valid_email, normalize_digits, normalize_email, normalize_mobile


def normalize_id_code(value: str | None) -> str | None:
    """Return a well-formed national (10) or FIDA (12) code from raw input, else ``None``."""
    code = normalize_digits(value)
    if is_valid_national_code(code) or is_valid_fida_code(code):
        return code
    return None


def safe_next(value: str | None) -> str | None:
    """Return ``value`` when it is a same-site relative path, else ``None``.

    Only ``/path?query`` is accepted: no scheme, no host, no ``//`` or ``/\\`` prefix
    (browsers treat both as another host) and no control characters.
    """
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    if any(ord(c) < 32 or c in "\\\x7f" for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def _lazy_message(code: str):
    """The message of ``code``, translated when shown (forms are built at import)."""
    return _l(MESSAGES[code])


def _required():
    return InputRequired(message=_lazy_message("required"))


def _id_code(form, field) -> None:
    if normalize_id_code(field.data) is None:
        raise ValidationError(message("id_code_invalid"))


ID_CODE_LABEL = _l("کد ملی / کد فیدا")


class IdCodeField(StringField):
    """A national or FIDA code typed with any digits; ``data`` is ASCII."""

    def __init__(self, label=ID_CODE_LABEL, **kwargs):
        kwargs.setdefault("filters", []).append(normalize_digits)
        kwargs.setdefault("validators", []).extend([Length(max=SHORT_MAX), _required(),
                                                    _id_code])
        super().__init__(label, **kwargs)


def _new_password_fields():
    password = PasswordField(_l("گذرواژه جدید"), validators=[
        _required(), Length(max=PASSWORD_MAX, message=_lazy_message("password_too_long"))])
    confirm = PasswordField(_l("تکرار گذرواژه جدید"), validators=[
        _required(), EqualTo("new_password", message=_lazy_message("password_mismatch"))])
    return password, confirm


class CaptchaFields:
    """The CAPTCHA's fields, for a form that may ask for one (``_macros/captcha.html``);
    whether it must is decided by :func:`idp.security.captcha.require`."""

    captcha_id = HiddenField(validators=[Optional(), Length(max=32)])
    captcha_answer = StringField(_l("رقم‌های تصویر امنیتی"), filters=[normalize_digits],
                                 validators=[Optional(), Length(max=16)])


class LoginForm(CaptchaFields, Form):
    id_code = IdCodeField()
    password = PasswordField(_l("گذرواژه"), validators=[_required()])


class NewPasswordForm(Form):
    """New password and its repetition (expired password, recovery step 3)."""

    new_password, confirm = _new_password_fields()


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("گذرواژه فعلی"), validators=[_required()])
    new_password, confirm = _new_password_fields()


class ActionForm(Form):
    """An empty form for a button (sign out, resend a code): only its CSRF token matters."""


class EndSessionForm(Form):
    sid = HiddenField(validators=[_required()])


def _email(form, field) -> None:
    if field.data and not is_valid_email(field.data):
        raise ValidationError(message("email_invalid"))


def _mobile(form, field) -> None:
    if normalize_mobile(field.data) is None:
        raise ValidationError(message("mobile_invalid"))


def _six_digits(form, field) -> None:
    if not re.fullmatch(r"[0-9]{6}", field.data or "", re.ASCII):
        raise ValidationError(message("otp_format"))


class EmailForm(Form):
    email = StringField(_l("پست الکترونیک"), filters=[normalize_email], validators=[_email])


class MobileChangeForm(Form):
    mobile = StringField(_l("شماره همراه جدید"), filters=[lambda v: normalize_mobile(v) or v],
                         validators=[Length(max=SHORT_MAX), _required(), _mobile])
    password = PasswordField(_l("گذرواژه فعلی"), validators=[_required()])


class CodeForm(Form):
    code = StringField(_l("کد احراز هویت"), filters=[normalize_digits],
                       validators=[Length(max=SHORT_MAX), _required(), _six_digits])


class SecondFactorForm(Form):
    """A 6-digit TOTP code or a one-time recovery code (``abcde-fghjk``)."""

    code = StringField(_l("کد تأیید"), validators=[_required(), Length(max=20)],
                       filters=[lambda v: normalize_digits(v.strip()) if isinstance(v, str) else v])


class ConsentForm(Form):
    client_id = HiddenField(validators=[_required()])


class RecoveryStartForm(CaptchaFields, Form):
    id_code = IdCodeField()
    # One method today (SMS), shown as a radio button; more may follow.
    method = StringField(_l("روش بازیابی"), default="sms", validators=[
        AnyOf(["sms"], message=_lazy_message("recovery_method_invalid"))])


class RemoveSecondFactorForm(Form):
    """Removing the authenticator app: the current password, counted like a sign-in."""

    password = PasswordField(_l("گذرواژه فعلی"), validators=[_required()])


class SecondFactorPreferenceForm(Form):
    """"Always ask for my second factor": ``1`` on, ``0`` off."""

    always = HiddenField(validators=[AnyOf(("0", "1"))])
