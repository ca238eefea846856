"""Site-wide assets and markup rules: the favicon, table headers, one heading scale and one
stepper (checked on the rendered HTML and the stylesheets)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[1]


def test_favicon_is_served(client):
    """Browsers ask for /favicon.ico on every first page; it is an icon, cacheable."""
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert response.data[:4] == b"\x00\x00\x01\x00"  # ICO header
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_pages_link_the_favicon(client):
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/login").text


def test_no_empty_table_header(client, auth):
    """Every column header has text (axe ``empty-table-header``); an action column's is
    visually hidden."""
    auth.sign_in(make_user())
    page = client.get("/account").text
    headers = re.findall(r"<th\b[^>]*>(.*?)</th>", page, re.S)
    assert len(headers) >= 4  # the sessions table
    assert [h for h in headers if not re.sub(r"<[^>]+>", "", h).strip()] == []
    assert '<span class="visually-hidden">' in page
