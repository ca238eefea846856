"""Flask-WTF forms of the passkey section of the account page and the passkey step."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from ..forms import Form
from ..messages import MESSAGES
from .passkeys import NAME_MAX


def _required():
    return InputRequired(message=_l(MESSAGES["required"]))


class PasskeyNameForm(Form):
    """A passkey's name, when adding or renaming one (checked again by the service)."""

    name = StringField(_l("نام کلید عبور"), validators=[
        _required(), Length(max=NAME_MAX, message=_l(MESSAGES["passkey_name_invalid"]))])


class PasskeyRemoveForm(Form):
    """Removing a passkey asks for the password again."""

    password = PasswordField(_l("گذرواژه فعلی"), validators=[_required()])


class PasskeyAssertionForm(Form):
    """The passkey step: the assertion the browser made, as JSON (filled by passkeys.js)."""

    credential = HiddenField(validators=[_required(), Length(max=8000)])
