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
