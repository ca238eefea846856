"""Flask-WTF forms of the provider's own pages (consent, logout confirmation)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField


class ConsentForm(FlaskForm):
    key = HiddenField()
    approve = SubmitField("اجازه می‌دهم")
    deny = SubmitField("اجازه نمی‌دهم")


class LogoutForm(FlaskForm):
    id_token_hint = HiddenField()
    client_id = HiddenField()
    post_logout_redirect_uri = HiddenField()
    state = HiddenField()
    ui_locales = HiddenField()
    confirm = SubmitField("خروج از سامانه")
