"""One set of form macros (templates/_macros/forms.html) and one way to put a
DomainError on a form (idp.forms), with the markup each page family had before."""

from __future__ import annotations

import re

from idp.messages import message

from .factories import DEFAULT_PASSWORD, make_user
from .test_registration import Wizard, make_citizen

ERROR = '<div class="field-error" role="alert">{}</div>'


def squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html)


def test_account_pages_show_plain_fields(client):
    """Account pages: label, input and its errors, no wrapper and no Bootstrap classes."""
    html = squeeze(client.post("/login", data={"id_code": "", "password": ""}).text)
    required = ERROR.format(message("required"))
    assert re.search(r'<label for="password">[^<]+</label><input autocomplete="current-password" '
                     r'dir="ltr" id="password" name="password" required type="password" value="">'
                     + re.escape(required), html)
    assert "form-control" not in html


def test_wizard_fields_link_their_hint_and_errors(client):
    """Registration: Bootstrap classes, and aria-describedby points at the errors or hint."""
    wizard = Wizard(client, make_citizen())
    wizard.start()
    html = squeeze(client.get("/register/step/1").text)
    assert re.search(r'<input aria-describedby="mobile-hint" [^>]*class="form-control" ', html)
    assert '<div class="form-text" id="mobile-hint">' in html
    html = squeeze(wizard.step1(mobile="12").text)
    assert re.search(r'<div class="mb-3"><label class="form-label" for="mobile">[^<]+</label>'
                     r'<input aria-describedby="mobile-errors" aria-invalid="true" [^>]*'
                     r'class="form-control is-invalid"', html)
    assert re.search(r'<div id="mobile-errors"><div class="field-error" role="alert">', html)


def test_admin_fields_sit_in_their_box(client, clock, auth):
    """Admin pages: each field with its errors in an admin-field box."""
    auth.admin_session()
    html = squeeze(client.post("/admin/clients/new", data={"name_fa": ""}).text)
    assert re.search(r'<div class="admin-field"><label for="name_fa">[^<]+</label>'
                     r'<input id="name_fa" [^>]*>' + re.escape(ERROR.format(message("required")))
                     + "</div>", html)


def test_every_broken_password_rule_is_listed_under_the_field(client):
    """A password_rules error shows one message per broken rule, next to the field."""
    user = make_user()
    client.post("/login", data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
    html = squeeze(client.post("/account/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": "abcdefgh",
        "confirm": "abcdefgh"}).text)
    after_field = html.split('id="new_password"', 1)[1].split("<ul", 1)[0]
    assert after_field.count('class="field-error"') >= 2
    assert message("password_no_upper") in after_field
    assert message("password_no_digit") in after_field
