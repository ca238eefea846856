"""The registration wizard in English (?lang=en), Persian staying the default."""

from __future__ import annotations

import re
from html import unescape

from .test_registration import PASSWORD, Wizard, make_citizen

PERSIAN = re.compile(r"[\u0600-\u06FF]")


def _heading(html: str) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1).strip()


def _buttons(html: str) -> list[str]:
    return [b.strip() for b in re.findall(r"<button[^>]*>(.*?)</button>", html, re.S)]


def _english(client, record=None) -> Wizard:
    """A wizard whose browser chose English on the choice page."""
    client.get("/register?lang=en")
    return Wizard(client, record or make_citizen())


def test_choice_page_in_english(client):
    html = unescape(client.get("/register?lang=en").text)
    assert '<html lang="en" dir="ltr">' in html
    assert _heading(html) == "Registration"
    for words in ("User type", "Individuals (national code)", "Foreign nationals (FIDA code)",
                  "Important notes on registration", "registered in your own name",
                  "Keep your password to yourself", "Already have an account?", "Sign in"):
        assert words in html, words
    assert _buttons(html) == ["Start registration"]
    assert not PERSIAN.search(html.split("<main")[-1])


def test_every_step_in_english(client, app):
    wizard = _english(client)
    wizard.start()
    step1 = unescape(client.get("/register/step/1").text)
    assert _heading(step1) == "Registration for individuals"
    assert "National code and mobile number" in step1 and "Birth certificate details" in step1
    assert "Mobile number" in step1 and "10 digits" in step1
    assert 'data-counter-text="{count} of {total} digits"' in step1
    assert _buttons(step1)[:2] == ["Next step", "Previous step"]
    assert "Cancel and start again" in step1

    wizard.step1()
    code_page = unescape(client.get("/register/step/1").text)
    assert "A 6-digit verification code was sent by SMS to" in code_page
    assert '<bdi dir="ltr">' in code_page
    assert "Change mobile number" in code_page and "Send the code again" in code_page

    wizard.verify()
    step2 = unescape(client.get("/register/step/2").text)
    for words in ("First name", "Last name", "Father's name", "Birth certificate number",
                  "Date of birth (Solar Hijri calendar)", "1 - Farvardin", "12 - Esfand",
                  ">Male<", ">Female<", "exactly as on your birth certificate"):
        assert words in step2, words
    assert "۱۳" not in step2  # the year list has ASCII digits

    mismatch = unescape(wizard.step2(father_name="رضا").text)
    assert "The father's name does not match the civil registry record." in mismatch

    wizard.step2()
    step3 = unescape(client.get("/register/step/3").text)
    assert ">Email<" in step3
    assert "The email address is not valid" in wizard.step3(email="not-an-email").text

    wizard.step3()
    step4 = unescape(client.get("/register/step/4").text)
    assert "Password rules" in step4 and "Does not contain your national code" in step4
    assert "Repeat password" in step4
    assert "This field is required." in wizard.step4(confirm="").text

    wizard.step4()
    step5 = unescape(client.get("/register/step/5").text)
    assert "Check the details below" in step5 and "Full name" in step5
    assert "1369/01/01" in step5 and ">Male<" in step5
    assert _buttons(step5)[:2] == ["Confirm and register", "Previous step"]
    assert not PERSIAN.search(_heading(step5) + "".join(_buttons(step5)))

    done = wizard.confirm()
    page = unescape(client.get(done.headers["Location"]).text)
    assert "Your registration is complete." in page
    assert _heading(page) == "System message" and "Sign in" in page
    assert PASSWORD not in page


def test_foreign_national_steps_in_english(client):
    wizard = _english(client)
    wizard.start("fida")
    page = unescape(client.get("/register/step/1").text)
    assert _heading(page) == "Registration for foreign nationals"
    assert "FIDA code (foreign nationals' universal code)" in page and "12 digits" in page
    invalid = unescape(wizard.step1(id_code="123").text)
    assert "The FIDA code (foreign nationals' universal code) you entered is not valid" \
        in invalid


def test_wizard_stays_persian_by_default(client):
    html = unescape(client.get("/register").text)
    assert _heading(html) == "ثبت نام" and _buttons(html) == ["شروع ثبت نام"]
    wizard = Wizard(client, make_citizen())
    wizard.start()
    step1 = unescape(client.get("/register/step/1").text)
    assert _heading(step1) == "ثبت نام اشخاص حقیقی" and "۱۰ رقم" in step1
    assert _buttons(step1)[:2] == ["مرحله بعد", "مرحله قبل"]
