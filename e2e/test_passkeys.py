"""Passkeys in a real browser: Chromium's virtual authenticator (DevTools ``WebAuthn``
domain) stands in for the phone's screen lock.

WebAuthn needs a secure context and an rp id that is a domain: Chromium refuses
``127.0.0.1`` as an rp id, while ``http://localhost`` is a secure context. So this module
runs its own IdP with the issuer ``http://localhost:<port>`` (the shared ``servers`` use
``127.0.0.1``), seeded with the demo citizen.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from .conftest import OUTPUT, ROOT, Database, Person, _launcher, free_ports
from .steps import PASSWORD, register, sign_in


@pytest.fixture(scope="module")
def localhost_idp(tmp_path_factory):
    launcher = _launcher()
    (port,) = free_ports(1)
    instance = tmp_path_factory.mktemp("passkeys")
    issuer = f"http://localhost:{port}"
    env = {**os.environ, "FLASK_APP": "idp", "IDP_INSTANCE_PATH": str(instance),
           "IDP_ISSUER": issuer, "IDP_KEYS_DIR": str(instance / "keys"),
           "IDP_LOG_LEVEL": "WARNING"}

    def flask(*args):
        return subprocess.run([sys.executable, "-m", "flask", *args], env=env, cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout

    flask("db", "upgrade")
    seed = flask("demo", "seed")
    code, password = re.search(r"national code (\d+), password (\S+)", seed).groups()
    logs = OUTPUT / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "idp-passkeys.log", "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "flask", "run", "--host", "127.0.0.1",
                                    "--port", str(port)], env=env, cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        launcher.wait_for(issuer + "/healthz", [process])
        # Person allows requests to these three origins; here all are the IdP.
        yield {"idp": issuer, "eservices": issuer, "profile": issuer,
               "demo": {"id_code": code, "password": password},
               "db": Database(instance / "idp.sqlite3")}
    finally:
        launcher.stop([process])


@pytest.fixture
def citizen(browser, localhost_idp, request):
    someone = Person(browser, localhost_idp, request.node.name)
    yield someone
    someone.close()
    someone.assert_clean("after the test")


def virtual_authenticator(person: Person) -> tuple:
    """A platform authenticator that verifies the user (as a phone's screen lock does)."""
    cdp = person.context.new_cdp_session(person.page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    return cdp, added["authenticatorId"]


def test_register_add_a_passkey_then_sign_in_with_it_alone(citizen, localhost_idp):
    """A citizen registers (the wizard), adds a passkey on the account page (390 px),
    signs out, and signs in again with the passkey: no code, no password."""
    record = localhost_idp["db"].free_citizen("national")
    page = citizen.goto("idp", "/login")
    cdp, authenticator = virtual_authenticator(citizen)
    expect(page.get_by_role("button", name="ورود با کلید عبور")).to_be_visible()
    expect(page.locator("input[name=id_code]")).to_have_attribute(
        "autocomplete", "username webauthn")
    citizen.step("login-with-passkey-button", axe=True)
    page.goto(citizen.url("idp", "/register"))
    register(citizen, record, "passkey.citizen@example.ir")
    page.goto(citizen.url("idp", "/account"))  # a registration not from a portal: sign in
    sign_in(citizen, record["id_code"], PASSWORD, "sign-in-after-registration")
    expect(page.locator("h1")).to_have_text("حساب کاربری")

    section = page.locator("#passkeys")
    expect(section).to_contain_text("هنوز کلید عبوری ثبت نکرده‌اید.")
    section.get_by_role("button", name="افزودن کلید عبور").click()  # no name yet
    expect(page.get_by_text("برای کلید عبور نامی بنویسید؛ حداکثر ۶۴ نویسه.")).to_be_visible()
    section.get_by_label("نام کلید عبور").fill("گوشی آزمایشی")
    section.get_by_role("button", name="افزودن کلید عبور").click()
    expect(page.get_by_text("کلید عبور ثبت شد.")).to_be_visible()
    expect(section.locator("tbody")).to_contain_text("گوشی آزمایشی")
    citizen.step("account-with-a-passkey", axe=True)
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1
    assert credentials["credentials"][0]["isResidentCredential"] is True

    page.get_by_role("button", name="خروج از سامانه").click()
    if page.get_by_role("button", name="خروج از سامانه").count():  # the confirmation page
        page.get_by_role("button", name="خروج از سامانه").first.click()
    citizen.visited.clear()
    page.goto(citizen.url("idp", "/login"))
    # Chromium offers conditional mediation (autofill), and its virtual authenticator
    # answers such a request at once: the page may sign in before the button is pressed.
    button = page.get_by_role("button", name="ورود با کلید عبور")
    try:
        page.wait_for_url("**/account", timeout=3000)
    except PlaywrightTimeout:
        button.click()
    expect(page.locator("h1")).to_have_text("حساب کاربری")
    amr = localhost_idp["db"].rows(
        "SELECT amr FROM sso_sessions WHERE ended_at IS NULL ORDER BY id DESC")[0]["amr"]
    assert json.loads(amr) == ["hwk", "user"]  # a device-bound key, the user verified
    expect(page.locator("#passkeys tbody")).not_to_contain_text("هنوز استفاده نشده")
    citizen.step("signed-in-with-the-passkey")


def test_a_browser_without_passkeys_sees_the_fallback(browser, localhost_idp, request):
    """Without ``window.PublicKeyCredential`` the button stays hidden and the sentence
    about the password is shown."""
    someone = Person(browser, localhost_idp, request.node.name)
    try:
        someone.context.add_init_script("delete window.PublicKeyCredential;")
        page = someone.goto("idp", "/login")
        expect(page.get_by_text("این مرورگر از کلید عبور پشتیبانی نمی‌کند؛ با گذرواژه وارد شوید."))\
            .to_be_visible()
        expect(page.get_by_role("button", name="ورود با کلید عبور")).to_be_hidden()
        someone.step("login-without-passkeys", axe=True)
    finally:
        someone.close()
    someone.assert_clean("after the test")
