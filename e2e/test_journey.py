"""Scenarios 1–5 of issue 11: one citizen's day across two portals, in one browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import Person
from .steps import PASSWORD, expect_portal_signed_in, register


@pytest.fixture(scope="module")
def citizen(browser, servers):
    someone = Person(browser, servers, "journey")
    yield someone
    someone.close()
    someone.assert_clean("after the journey")


@pytest.fixture(scope="module")
def record(servers, taken):
    return servers["db"].free_citizen("national", taken)


def full_name(record: dict) -> str:
    return f"{record['first_name']} {record['last_name']}"


def test_1_register_from_eservices(citizen, record):
    """«ثبت نام» at eservices: the whole wizard, the success message, back signed in."""
    page = citizen.goto("eservices")
    expect(page.locator("h1")).to_have_text("خدمات غیرحضوری")
    citizen.step("eservices-home")
    page.get_by_role("link", name="ثبت نام").click()
    register(citizen, record, "citizen.one@example.ir")
    page.get_by_role("link", name="ادامه").click()
    shown = expect_portal_signed_in(citizen, "eservices", full_name(record))
    code = record["id_code"]
    assert shown["masked-code"] == code[:3] + "*****" + code[-2:]
    assert shown["amr"] == "sms"
    citizen.step("eservices-signed-in")
