"""Every public page renders as a Persian right-to-left page without template slips."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/login", "/recover", "/register"])
def test_public_page_renders(client, path):
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="fa" dir="rtl">' in html
    assert '="None"' not in html and ">None<" not in html
    assert "<script>" not in html and "style=" not in html  # the CSP forbids inline code


def test_code_fields_accept_pasted_spacing(app, client):
    """A code pasted with spaces ("001 234 5679", "123 456") fits the fields and signs in."""
    from tests.factories import DEFAULT_PASSWORD, make_user

    page = client.get("/login").get_data(as_text=True)
    assert 'maxlength="24"' in page
    user = make_user()
    spaced = f"{user.id_code[:3]} {user.id_code[3:9]} {user.id_code[9]}"
    response = client.post("/login", data={"id_code": spaced, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
