"""Checks of the page chrome that the scenarios set aside."""

from __future__ import annotations

from .conftest import CHROMIUM, CHROMIUM_ARGS, Person


def test_first_page_has_no_console_error(browser, servers):
    """A browser's first IdP page asks for /favicon.ico: it must not be a console error.

    A browser of its own: Chromium remembers a missing favicon across contexts."""
    fresh = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    someone = Person(fresh, servers, "favicon")
    try:
        someone.goto("idp", "/login")
        someone.page.wait_for_load_state("networkidle")
        someone.assert_clean("sign-in page")
    finally:
        someone.close()
        fresh.close()
