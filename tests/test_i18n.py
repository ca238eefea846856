"""Interface language: Persian by default, English on request, catalogs complete."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from idp.i18n import SOURCE_DIR


def test_persian_is_the_default(client):
    html = client.get("/no-such-page").get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in html and "صفحه پیدا نشد" in html
    assert "bootstrap.rtl.min.css" in html


def test_lang_parameter_switches_to_english_and_is_remembered(client):
    """?lang=en gives a left-to-right English page and a cookie; later pages stay English."""
    first = client.get("/no-such-page?lang=en")
    html = first.get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html and "Page not found" in html
    assert "bootstrap.min.css" in html and "bootstrap.rtl.min.css" not in html
    assert "idp_lang=en" in first.headers["Set-Cookie"]
    assert "Page not found" in client.get("/other-missing-page").get_data(as_text=True)
    back = client.get("/no-such-page?lang=fa").get_data(as_text=True)
    assert "صفحه پیدا نشد" in back


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/userinfo"), ("POST", "/oauth/token"), ("POST", "/oauth/introspect"),
    ("POST", "/oauth/revoke"), ("GET", "/healthz"), ("GET", "/static/css/idp.css")])
def test_protocol_endpoints_set_no_language_cookie(client, method, path):
    """Programs get no language cookie, whatever ?lang= or ui_locales they send."""
    response = client.open(f"{path}?lang=en&ui_locales=en", method=method)
    assert "Set-Cookie" not in response.headers
    response.close()
    assert "idp_lang=en" in client.get("/login?lang=en").headers["Set-Cookie"]


def test_ui_locales_picks_the_first_supported_language(client):
    html = client.get("/no-such-page?ui_locales=de-DE en-US fa").get_data(as_text=True)
    assert 'lang="en"' in html


def test_unsupported_language_falls_back_to_persian(client):
    html = client.get("/no-such-page?lang=de").get_data(as_text=True)
    assert 'lang="fa"' in html


def catalogs():
    return sorted(SOURCE_DIR.glob("*/LC_MESSAGES/*.po"))


@pytest.mark.parametrize("po", catalogs(), ids=lambda p: p.stem)
def test_catalog_entries_are_translated_and_keep_placeholders(po):
    """Every msgid has a translation with exactly the same {placeholders}."""
    with po.open("rb") as f:
        catalog = read_po(f)
    for entry in catalog:
        if not entry.id:
            continue
        assert entry.string, f"untranslated: {entry.id}"
        assert set(re.findall(r"{\w+}", entry.id)) == set(re.findall(r"{\w+}", entry.string)), \
            entry.id


def test_digits_follow_the_language(client):
    """Numbers are Persian digits on Persian pages and ASCII digits on English ones."""
    assert "۴۰۴" in client.get("/no-such-page").get_data(as_text=True)
    english = client.get("/no-such-page?lang=en").get_data(as_text=True)
    assert "404" in english and "۴۰۴" not in english


def test_catalogs_agree_on_shared_texts():
    """The catalogs are merged, so one Persian text (and context) has one English text."""
    seen: dict = {}
    clashes = []
    for po in catalogs():
        with po.open("rb") as f:
            for entry in read_po(f):
                if not entry.id:
                    continue
                key = (entry.context, entry.id)
                if key in seen and seen[key][1] != entry.string:
                    clashes.append((entry.id, seen[key], (po.stem, entry.string)))
                seen.setdefault(key, (po.stem, entry.string))
    assert clashes == []


def test_language_switch_keeps_the_way_back_to_the_portal(client):
    """Switching language on the sign-in page keeps ``next`` (the parked authorization)."""
    html = client.get("/login?next=/authorize/resume%3Fkey%3Dabc").get_data(as_text=True)
    assert 'href="/login?next=%2Fauthorize%2Fresume%3Fkey%3Dabc&amp;lang=en"' in html
