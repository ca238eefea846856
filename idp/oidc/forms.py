"""Flask-WTF forms of the provider's own pages (consent, logout confirmation)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SubmitField

from ..forms import Form


class ConsentForm(Form):
    key = HiddenField()
    approve = SubmitField(_l("اجازه می‌دهم"))
    deny = SubmitField(_l("اجازه نمی‌دهم"))


class CancelForm(Form):
    """Giving up a step-up: the portal gets ``unmet_authentication_requirements``."""

    key = HiddenField()


class LogoutForm(Form):
    id_token_hint = HiddenField()
    client_id = HiddenField()
    post_logout_redirect_uri = HiddenField()
    state = HiddenField()
    ui_locales = HiddenField()
    confirm = SubmitField(_l("خروج از سامانه"))
