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


def _h1_tags(html: str) -> list[str]:
    return re.findall(r"<h1\b[^>]*>", html)


def test_one_heading_scale(app, auth):
    """Registration, sign-in, account, password and recovery pages use one heading
    scale: a bare <h1> sized by one rule of idp.css (no per-page size classes)."""
    browser = app.test_client()
    pages = {path: browser.get(path).text for path in ("/login", "/register", "/recover")}
    browser.post("/register", data={"id_type": "national"})
    pages["/register/step/1"] = browser.get("/register/step/1").text
    auth.sign_in(make_user(), browser=browser)
    for path in ("/account", "/account/password"):
        pages[path] = browser.get(path).text
    assert {path: _h1_tags(html) for path, html in pages.items()} == {
        path: ["<h1>"] for path in pages}
    sheets = {name: (ROOT / "static" / "css" / name).read_text()
              for name in ("idp.css", "registration.css")}
    rules = re.findall(r"([^{}]*\bh1\b[^{}]*)\{([^}]*)\}", sheets["idp.css"])
    assert [sizes for _, body in rules if (sizes := re.findall(r"font-size:\s*([^;]+)", body))] \
        == [["1.5rem"]]
    assert not re.search(r"\bh1\b", sheets["registration.css"])


def test_one_stepper_for_registration_and_recovery(app):
    """Registration and recovery draw their steps with the same component."""
    browser = app.test_client()
    browser.post("/register", data={"id_type": "national"})
    pages = [browser.get("/register/step/1").text, browser.get("/recover").text]
    for page in pages:
        stepper = re.search(r'<ol class="stepper"[^>]*>(.*?)</ol>', page, re.S)
        assert stepper, page
        items = re.findall(r"<li\b.*?</li>", stepper[1], re.S)
        assert items and all('<span class="step-number">' in i and '<span class="step-label">'
                             in i for i in items)
        assert sum('aria-current="step"' in i for i in items) == 1
    for name in ("registration/_macros.html", "accounts/_macros.html"):
        assert 'from "_macros/stepper.html" import stepper' in \
            (ROOT / "templates" / name).read_text()


def test_invalid_selects_keep_room_for_their_value():
    """At 390 px the «روز» select is about 80 px wide: Bootstrap's invalid icon (and the
    padding made for it) must not be drawn on selects, or it hides the chosen day."""
    css = (ROOT / "static" / "css" / "registration.css").read_text()
    rule = re.search(r"\.form-select\.is-invalid:not\(\[multiple\]\):not\(\[size\]\)\s*\{([^}]*)\}",
                     css)
    assert rule, "no rule for invalid selects"
    assert re.search(r"--bs-form-select-bg-icon:\s*none", rule[1])
    assert re.search(r"padding-inline-end:\s*2\.25rem", rule[1])
