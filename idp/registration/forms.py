"""Flask-WTF forms of the registration wizard: shape and normalisation, Persian messages.

Rules that need the database, the registry or time live in ``services``. Labels, choices
and validator messages are lazy, so they follow the language of the request that renders
them (English comes from ``translations/en/LC_MESSAGES/registration.po``).
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError

from ..accounts.forms import CaptchaFields
from ..errors import DomainError
from ..forms import PASSWORD_MAX, SHORT_MAX, Form
from ..i18n import localized_digits
from ..identity import jalali
from ..identity.national_id import parse_id_code
from ..messages import MESSAGES, message
from ..text import is_valid_email, normalize_digits, normalize_email, normalize_mobile
from ..text import normalize_name as _normalize_name

ID_TYPES = [SelectChoice("national", _l("اشخاص حقیقی (کد ملی)")),
            SelectChoice("fida", _l("اتباع خارجی (کد فیدا)"))]
GENDERS = [SelectChoice("male", _l("مرد")), SelectChoice("female", _l("زن"))]
_NAME_SYMBOLS = set(" \u200c-'.")
_CERTIFICATE = {"national": re.compile(r"[0-9]{1,10}", re.ASCII),
                "fida": re.compile(r"[A-Za-z0-9]{1,20}", re.ASCII)}


def _lazy_message(code: str):
    """The message of ``code``, translated when shown (forms are built at import)."""
    return _l(MESSAGES[code])


def _required():
    return InputRequired(message=_lazy_message("required"))


class StartForm(Form):
    id_type = RadioField(_l("نوع کاربر"), choices=ID_TYPES, validators=[_required()])
    next = HiddenField()


class CodeAndMobileForm(CaptchaFields, Form):
    """Step 1: national/FIDA code and mobile; ``id_type`` decides which code is valid."""

    id_code = StringField(_l("کد ملی"), filters=[normalize_digits],
                          validators=[Length(max=SHORT_MAX), _required()])
    mobile = StringField(_l("شماره همراه"), validators=[Length(max=SHORT_MAX), _required()])

    def __init__(self, id_type: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.id_type = id_type
        if id_type == "fida":
            self.id_code.label.text = _("کد فیدا (کد فراگیر اتباع خارجی)")

    def validate_id_code(self, field):
        try:
            field.data = parse_id_code(field.data, self.id_type)
        except DomainError as e:
            raise ValidationError(message(e.code)) from None

    def validate_mobile(self, field):
        canonical = normalize_mobile(field.data)
        if canonical is None:
            raise ValidationError(message("mobile_invalid"))
        field.data = canonical


class CodeForm(Form):
    """Step 1, second half: the 6-digit SMS code (Persian digits accepted)."""

    code = StringField(_l("کد تأیید پیامک‌شده"), filters=[normalize_digits],
                       validators=[Length(max=SHORT_MAX), _required()])

    def validate_code(self, field):
        if not re.fullmatch(r"[0-9]{6}", field.data or "", re.ASCII):
            raise ValidationError(message("otp_format"))


def _name(form, field):
    if not field.data:
        return
    if any(ch.isdigit() for ch in field.data) or not any(ch.isalpha() for ch in field.data) \
            or any(not ch.isalpha() and ch not in _NAME_SYMBOLS for ch in field.data):
        raise ValidationError(message("registration_name_invalid"))


def _name_field(label) -> StringField:
    return StringField(label, filters=[_normalize_name], validators=[
        _required(), Length(max=100, message=_lazy_message("registration_name_too_long")), _name])


def year_choices(today_year: int) -> list[SelectChoice]:
    """Jalali years from this one back to 1290 (Persian digits on Persian pages)."""
    return [SelectChoice("", _("سال"))] + [SelectChoice(str(y), localized_digits(y))
                                           for y in range(today_year, jalali.MIN_YEAR - 1, -1)]


def month_choices() -> list[SelectChoice]:
    """The twelve Jalali months, numbered, in the page's language."""
    return [SelectChoice("", _("ماه"))] + [
        SelectChoice(str(i), f"{localized_digits(i)} - {_(name)}")
        for i, name in enumerate(jalali.MONTH_NAMES, start=1)]


def day_choices() -> list[SelectChoice]:
    return [SelectChoice("", _("روز"))] + [SelectChoice(str(d), localized_digits(d))
                                           for d in range(1, 32)]


class PersonForm(Form):
    """Step 2: the birth-certificate data, birth date as Jalali year/month/day selects."""

    first_name = _name_field(_l("نام"))
    last_name = _name_field(_l("نام خانوادگی"))
    father_name = _name_field(_l("نام پدر"))
    certificate_number = StringField(_l("شماره شناسنامه"), filters=[normalize_digits],
                                     validators=[_required()])
    # Browsers send the ASCII option values; coerce also folds digits typed by hand.
    birth_year = SelectField(_l("سال"), choices=[], coerce=normalize_digits,
                             validators=[_required()])
    birth_month = SelectField(_l("ماه"), choices=[], coerce=normalize_digits,
                              validators=[_required()])
    birth_day = SelectField(_l("روز"), choices=[], coerce=normalize_digits,
                            validators=[_required()])
    gender = RadioField(_l("جنسیت"), choices=GENDERS, validators=[_required()])

    def __init__(self, id_type: str, today, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.id_type = id_type
        self.today = today
        self.birth_year.choices = year_choices(jalali.parts(today)[0])
        self.birth_month.choices = month_choices()
        self.birth_day.choices = day_choices()
        self.birth_date = None
        if id_type == "fida":
            self.certificate_number.label.text = _("شماره مدرک هویتی (گذرنامه یا کارت اقامت)")

    def validate_certificate_number(self, field):
        if not _CERTIFICATE[self.id_type].fullmatch(field.data or ""):
            raise ValidationError(message(f"registration_certificate_invalid_{self.id_type}"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok:
            try:
                self.birth_date = jalali.to_gregorian(
                    self.birth_year.data, self.birth_month.data, self.birth_day.data,
                    today=self.today)
            except DomainError as e:
                self.birth_day.errors = [*self.birth_day.errors, message(e.code)]
                return False
        return ok

    def person(self) -> dict:
        """The normalised values for ``services.check_person``."""
        return {"first_name": self.first_name.data, "last_name": self.last_name.data,
                "father_name": self.father_name.data,
                "certificate_number": self.certificate_number.data,
                "birth_date": self.birth_date, "gender": self.gender.data}


class EmailForm(Form):
    """Step 3: email, stored as given with a lower-cased domain."""

    email = StringField(_l("ایمیل"), filters=[normalize_email], validators=[
        _required(), Length(max=254, message=_lazy_message("email_invalid"))])

    def validate_email(self, field):
        if not is_valid_email(field.data or ""):
            raise ValidationError(message("email_invalid"))


class PasswordForm(Form):
    """Step 4: password and its repetition; the rules are checked by the service."""

    new_password = PasswordField(_l("گذرواژه"), validators=[
        _required(), Length(max=PASSWORD_MAX, message=_lazy_message("password_too_long"))])
    confirm = PasswordField(_l("تکرار گذرواژه"), validators=[
        _required(), EqualTo("new_password", message=_lazy_message("password_mismatch"))])


class ConfirmForm(Form):
    """Step 5: nothing to type; the button confirms (CSRF-protected)."""

