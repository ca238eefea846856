"""What every form page shares: the base form that caps input, the text of a
:class:`DomainError` and its place on a form.

The account, admin and registration views turn a service's error into a message next
to the field it names, or above the form when the form has no such field.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Field, PasswordField, TextAreaField
from wtforms.validators import Length

from .errors import DomainError
from .i18n import localized_digits
from .messages import message


def error_text(error: DomainError) -> str:
    """Return the message of ``error`` in the page's language, numbers in its digits.

    Only scalar parameters fill the message; lists (the broken ``codes`` of
    ``password_rules``, the ``fields`` of a registry mismatch) are for the caller.
    """
    params = {k: localized_digits(v) for k, v in error.params.items()
              if isinstance(v, int | str)}
    return message(error.code, **params)


def form_error(form, error: DomainError, field: str | None = None) -> None:
    """Show ``error`` next to ``field`` (default: the error's own) when the form has it,
    else above the form. ``password_rules`` shows one message per broken rule.
    """
    texts = ([message(code) for code in error.params["codes"]] if "codes" in error.params
             else [error_text(error)])
    add_error(form, field or error.field, *texts)


def add_error(form, field: str | None, *texts: str) -> None:
    """Append ``texts`` to the errors of ``form.<field>``, or to the form's own errors."""
    target = getattr(form, field, None) if field else None
    if target is None:
        form.form_errors.extend(texts)
    else:
        target.errors = [*target.errors, *texts]


#: Caps on a submitted value, in characters, for fields without their own ``Length(max=)``.
#: Passwords: the rules allow 8 to 64 (``accounts.passwords``); twice that is surely wrong.
PASSWORD_MAX = 128
TEXTAREA_MAX = 8000  # lists of redirect URIs, a JWK Set
TEXT_MAX = 4096  # other text: hidden fields (an id_token_hint), choices
SHORT_MAX = 20  # national/FIDA codes, mobile numbers, one-time codes


def field_cap(field: Field) -> int:
    """The longest value ``field`` accepts: its ``Length(max=)``, else the cap of its kind."""
    for validator in field.validators:
        if isinstance(validator, Length) and validator.max >= 0:
            return validator.max
    if isinstance(field, PasswordField):
        return PASSWORD_MAX
    return TEXTAREA_MAX if isinstance(field, TextAreaField) else TEXT_MAX


class Form(FlaskForm):
    """The base of every form: a value longer than its field's :func:`field_cap` is
    dropped before the form does any work.

    Such a field is processed as empty, so its filters never see the long value and the
    page never echoes it; validation fails with ``too_long`` on that field, so no view
    goes on to hash a 20 MB password or look up a 1 MB code. The request body itself is
    bounded by ``MAX_CONTENT_LENGTH``.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            formdata = super().wrap_formdata(form, formdata)
            form._too_long = {}
            if formdata is None:
                return None
            caps = {field.name: field_cap(field) for field in form}
            kept = MultiDict()
            for name, value in formdata.items(multi=True):
                cap = caps.get(name, TEXT_MAX)
                if isinstance(value, str) and len(value) > cap:
                    if name in caps:  # a parameter the form does not read is just dropped
                        form._too_long[name] = cap
                    value = ""
                kept.add(name, value)
            return kept

    def validate(self, extra_validators=None) -> bool:
        too_long = getattr(self, "_too_long", {})
        if too_long:
            for field in self:
                field.errors = ([message("too_long", max=localized_digits(too_long[field.name]))]
                                if field.name in too_long else [])
            return False
        return super().validate(extra_validators)
