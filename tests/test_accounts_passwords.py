"""The password rules module shared by registration, recovery and password change."""

from __future__ import annotations

import pytest

from idp.accounts import passwords
from idp.accounts.passwords import check_password_rules
from idp.messages import MESSAGES

CODE = "0012345679"


def test_good_password_passes():
    """Latin letters of both cases and a digit, 8–64 long, not common: no error."""
    assert check_password_rules("Tehran1403x", CODE) == []
    assert check_password_rules("Aa1" + "b" * 61, CODE) == []  # exactly 64


@pytest.mark.parametrize(("password", "code"), [
    ("Tehran14۰3", "password_charset"),  # Persian digit: refused, never folded
    ("Tehran 1403", "password_charset"),
    ("Tehran@1403", "password_charset"),
    ("تهرانAb12", "password_charset"),
    ("Ab1cdef", "password_too_short"),
    ("Aa1" + "b" * 62, "password_too_long"),
    ("tehran1403", "password_no_upper"),
    ("TEHRAN1403", "password_no_lower"),
    ("TehranShiraz", "password_no_digit"),
    (f"Ab{CODE}", "password_contains_id_code"),
    ("Password1", "password_too_common"),
    ("Qwerty123", "password_too_common"),
])
def test_each_rule_has_its_code(password, code):
    """Every broken rule is reported with its own code."""
    assert code in check_password_rules(password, CODE)


def test_all_broken_rules_are_listed():
    """A password breaking several rules gets every code, in a stable order."""
    assert check_password_rules("abc", CODE) == [
        "password_too_short", "password_no_upper", "password_no_digit"]


def test_every_code_has_a_persian_message():
    """Each rule code has one Persian message."""
    codes = ["password_charset", "password_too_short", "password_too_long",
             "password_no_upper", "password_no_lower", "password_no_digit",
             "password_contains_id_code", "password_too_common", "password_same_as_current"]
    for code in codes:
        assert code in MESSAGES and MESSAGES[code] != code


def test_fida_code_inside_is_refused():
    """A 12-digit FIDA code inside the password is refused too."""
    fida = "123456789012"
    assert "password_contains_id_code" in check_password_rules(f"Xy{fida}", fida)


def test_same_as_current_password(app):
    """With the current hash given, re-using the current password is refused."""
    current = passwords.hash_password("Tehran1403x")
    assert check_password_rules("Tehran1403x", CODE, current) == ["password_same_as_current"]
    assert check_password_rules("Shiraz1404y", CODE, current) == []


def test_common_list_is_shipped_and_usable():
    """The list ships with the package: thousands of entries, all possible passwords."""
    common = passwords.common_passwords()
    assert len(common) > 3000
    assert "password1" in common
    assert all(entry.isascii() and entry.isalnum() and 8 <= len(entry) <= 64
               for entry in common)
