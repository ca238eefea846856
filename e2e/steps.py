"""What a citizen does on the IdP's pages, as small reusable steps."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import Person, fa

PASSWORD = "Shahr1404Nou"
STEP_LABELS = {1: "شماره همراه", 2: "اطلاعات شناسنامه", 3: "ایمیل", 4: "گذرواژه", 5: "تایید"}


def expect_step(person: Person, number: int) -> None:
    """The stepper shows step ``number`` as the current one."""
    current = person.page.locator("[aria-current=step]")
    expect(current).to_have_count(1)
    expect(current).to_contain_text(fa(number))
    expect(current).to_contain_text(STEP_LABELS[number])


def press(person: Person, name: str) -> None:
    person.page.get_by_role("button", name=name, exact=True).first.click()


def choose_user_type(person: Person, id_type: str = "national") -> None:
    page = person.page
    expect(page.locator("h1")).to_contain_text("ثبت نام")
    page.get_by_label("اتباع خارجی" if id_type == "fida" else "اشخاص حقیقی").check()
    person.step("wizard-user-type", axe=True)
    press(person, "شروع ثبت نام")
    expect_step(person, 1)


def prove_mobile(person: Person, record: dict) -> None:
    """Step 1: the code and the mobile typed with Persian digits, then the SMS code."""
    page, db = person.page, person.servers["db"]
    page.locator("input[name=id_code]").fill(fa(record["id_code"]))
    page.locator("input[name=mobile]").fill(fa(record["mobile"]))
    person.step("wizard-1-code-and-mobile", axe=True)
    before = db.last_sms_id()
    press(person, "مرحله بعد")
    expect(page.get_by_text("کد تأیید ۶ رقمی به شماره")).to_be_visible()
    masked = fa(record["mobile"][:4]) + "***" + fa(record["mobile"][-4:])
    expect(page.locator("main")).to_contain_text(masked)
    page.locator("input[name=code]").fill(fa(db.sms_code(record["mobile"], before)))
    person.step("wizard-1-sms-code", axe=True)
    press(person, "مرحله بعد")
    expect_step(person, 2)


def fill_identity(person: Person, record: dict, jalali=None, **overrides) -> None:
    page = person.page
    values = {"first_name": record["first_name"], "last_name": record["last_name"],
              "father_name": record["father_name"],
              "certificate_number": record["certificate_number"]}
    values.update(overrides)
    for name, value in values.items():
        page.locator(f"input[name={name}]").fill(value)
    year, month, day = jalali or record["jalali"]
    page.locator("select[name=birth_year]").select_option(str(year))
    page.locator("select[name=birth_month]").select_option(str(month))
    page.locator("select[name=birth_day]").select_option(str(day))
    page.get_by_label("زن" if record["gender"] == "female" else "مرد", exact=True).check()


def register(person: Person, record: dict, email: str) -> None:
    """Steps 1–5 from the user-type page to «تایید و ثبت نام»."""
    page = person.page
    choose_user_type(person, record["id_type"])
    prove_mobile(person, record)
    fill_identity(person, record)
    person.step("wizard-2-identity", axe=True)
    press(person, "مرحله بعد")
    expect_step(person, 3)
    page.locator("input[name=email]").fill(email)
    person.step("wizard-3-email", axe=True)
    press(person, "مرحله بعد")
    expect_step(person, 3)  # the code mailed to the address, or «بعداً»
    press(person, "بعداً")
    expect_step(person, 4)
    page.locator("input[name=new_password]").fill(PASSWORD)
    page.locator("input[name=confirm]").fill(PASSWORD)
    person.step("wizard-4-password", axe=True)
    press(person, "مرحله بعد")
    expect_step(person, 5)
    review = page.locator("dl.review, dl").first
    expect(review).to_contain_text(record["first_name"])
    expect(review).to_contain_text(fa(record["id_code"]))
    person.step("wizard-5-review", axe=True)
    press(person, "تایید و ثبت نام")
    expect(page.get_by_text("ثبت نام شما با موفقیت انجام شد.")).to_be_visible()
    person.step("wizard-done")


def sign_in(person: Person, id_code: str, password: str, label: str = "sign-in") -> None:
    page = person.page
    expect(page.locator("h1")).to_contain_text("ورود به سامانه")
    page.locator("input[name=id_code]").fill(fa(id_code))
    page.locator("input[name=password]").fill(password)
    person.step(label, axe=True)
    page.get_by_role("button", name="ورود", exact=True).click()


def expect_portal_signed_in(person: Person, portal: str, name: str) -> dict:
    """The portal's protected page shows the citizen; return what it shows."""
    page = person.page
    expect(page).to_have_url(re.compile(re.escape(person.url(portal, "/me"))))
    expect(page.locator("h1")).to_have_text(name)
    shown = {key: page.locator(f"[data-claim={key}]").inner_text()
             for key in ("masked-code", "acr", "amr", "sid")}
    shown["auth_time"] = int(page.locator("[data-claim=auth_time]").get_attribute("data-value"))
    return shown
