"""Parsers of what people type: national/FIDA codes, mobiles, names, emails (DOMAIN.md §1–3, §6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idp.errors import DomainError
from idp.identity.national_id import (
    check_digit,
    is_valid_fida_code,
    is_valid_national_code,
    parse_id_code,
)
from idp.text import (
    is_valid_email,
    mobile_e164,
    name_key,
    normalize_digits,
    normalize_email,
    normalize_mobile,
    normalize_name,
)

PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
ARABIC = "٠١٢٣٤٥٦٧٨٩"
SEPARATORS = ["", " ", "  ", "\u200e", "\u200f", "\u200b", "\u200c", "\ufeff", "\u00a0", "\t",
              "\u2066", "\u202a"]


@st.composite
def national_codes(draw):
    body = draw(st.text("0123456789", min_size=9, max_size=9)
                .filter(lambda b: len(set(b)) > 1 and b[3:9] != "000000"))
    return body + str(check_digit(body))


@st.composite
def retyped(draw, code):
    """``code`` typed with any mix of digit sets and with separators between digits."""
    out = []
    for digit in code:
        alphabet = draw(st.sampled_from(["ascii", "persian", "arabic"]))
        d = int(digit)
        out.append({"ascii": digit, "persian": PERSIAN[d], "arabic": ARABIC[d]}[alphabet])
        out.append(draw(st.sampled_from(SEPARATORS)))
    return draw(st.sampled_from(SEPARATORS)) + "".join(out)


@given(st.data())
def test_valid_national_code_round_trips_through_any_digits_and_spacing(data):
    """Every valid national code parses back to itself however it is typed."""
    code = data.draw(national_codes())
    assert is_valid_national_code(code)
    assert parse_id_code(data.draw(retyped(code)), "national") == code


@given(st.data())
def test_fida_code_round_trips(data):
    """A 12-digit FIDA code survives Persian/Arabic digits and spaces."""
    code = data.draw(st.text("0123456789", min_size=12, max_size=12)
                     .filter(lambda c: len(set(c)) > 1))
    assert parse_id_code(data.draw(retyped(code)), "fida") == code


def _remainder(code: str) -> int:
    return sum(int(d) * (10 - i) for i, d in enumerate(code[:9])) % 11


@given(national_codes(), st.integers(0, 9), st.integers(1, 9))
def test_every_single_digit_change_is_refused(code, position, delta):
    """Changing any one digit of a valid national code makes it invalid.

    The one exception is built into the official checksum, not our code: remainders 1
    and 10 both give check digit 1, so with check digit 1 a change that moves the
    remainder from 1 to 10 (or back) yields another valid code (see the next test).
    """
    changed = code[:position] + str((int(code[position]) + delta) % 10) + code[position + 1:]
    if {_remainder(code), _remainder(changed)} == {1, 10} and position < 9:
        assert code[9] == "1" and is_valid_national_code(changed) == (len(set(changed)) > 1
                                                                     and changed[3:9] != "000000")
        return
    assert not is_valid_national_code(changed)
    with pytest.raises(DomainError) as e:
        parse_id_code(changed, "national")
    assert e.value.field == "id_code"
    assert e.value.code == ("national_code_check_digit" if len(set(changed)) > 1
                            and changed[3:9] != "000000" else "national_code_invalid")


def test_checksum_collision_of_remainders_1_and_10():
    """0655018001 (r = 1) and 2655018001 (r = 10) are both valid: the algorithm allows it."""
    assert _remainder("0655018001") == 1 and _remainder("2655018001") == 10
    assert is_valid_national_code("0655018001") and is_valid_national_code("2655018001")


@pytest.mark.parametrize("code", ["0012345679", "1234567891", "0087654326", "2720012343",
                                  "0456789121", "0499370899", "0076229645", "۰۰۱۲۳۴۵۶۷۹",
                                  "001-234567-9"])
def test_documented_valid_national_codes(code):
    """The checked examples of DOMAIN.md §1 are accepted."""
    assert parse_id_code(code, "national") == normalize_digits(code).replace("-", "")


@pytest.mark.parametrize(("code", "error"), [
    ("0012345678", "national_code_check_digit"), ("٠٠١٢٣٤٥٦٧٨", "national_code_check_digit"),
    ("1111111111", "national_code_invalid"), ("0000000000", "national_code_invalid"),
    ("0010000001", "national_code_invalid"), ("123456789", "national_code_length"),
    ("12345678901", "national_code_length"), ("001234567a", "national_code_length")])
def test_documented_invalid_national_codes(code, error):
    """Bad check digit, repeated digits, zero serial and wrong lengths are refused, each
    with its own reason."""
    with pytest.raises(DomainError) as e:
        parse_id_code(code, "national")
    assert e.value.code == error


@pytest.mark.parametrize("code", ["12345678901", "1234567890123", "111111111111", "12345678901x"])
def test_invalid_fida_codes(code):
    with pytest.raises(DomainError) as e:
        parse_id_code(code, "fida")
    assert e.value.code == "fida_code_invalid"
    assert not is_valid_fida_code(code)


def test_empty_code_is_required():
    """Nothing typed (or only spaces) is a "required" error, not a format error."""
    with pytest.raises(DomainError) as e:
        parse_id_code(" \u200e ", "national")
    assert (e.value.code, e.value.field) == ("required", "id_code")


def test_unknown_id_type_is_a_programming_error():
    with pytest.raises(ValueError):
        parse_id_code("0012345679", "passport")


@pytest.mark.parametrize("typed", [
    "09121234567", "۰۹۱۲۱۲۳۴۵۶۷", "٠٩١٢١٢٣٤٥٦٧", "+989121234567", "00989121234567",
    "989121234567", "9121234567", "0912 123 4567", "0912-123-4567", "(0912) 123 4567",
    "\u200e+98 912 123 4567\u200f", "+98 0912 123 4567", " 0912.123.4567 ",
])
def test_mobile_normalisation(typed):
    """Every common way of typing a mobile becomes the canonical 09XXXXXXXXX."""
    assert normalize_mobile(typed) == "09121234567"
    assert mobile_e164(typed) == "+989121234567"


@pytest.mark.parametrize("typed", ["", None, "0912123456", "091212345678", "08121234567",
                                   "+9891212345", "+1 912 123 4567", "0912abc4567", "98912123456"])
def test_bad_mobiles_are_refused(typed):
    assert normalize_mobile(typed) is None


def test_mobile_e164_refuses_non_mobiles():
    with pytest.raises(ValueError):
        mobile_e164("02188776655")


@given(st.text("0123456789", min_size=9, max_size=9), st.data())
def test_mobile_round_trips(rest, data):
    """Any canonical mobile, retyped in any digits and spacing, comes back unchanged."""
    mobile = "09" + rest
    prefix = data.draw(st.sampled_from(["", "+98", "0098", "+98 "]))
    typed = data.draw(retyped(mobile[1:] if prefix else mobile))
    assert normalize_mobile(prefix + typed) == mobile


@pytest.mark.parametrize(("typed", "expected"), [
    ("علي", "علی"),
    ("كاظم", "کاظم"),
    ("  زهرا   احمدی ", "زهرا احمدی"),
    ("محمد\u200c\u200cحسین", "محمد\u200cحسین"),
    ("\u200cمحمد\u200c", "محمد"),
    ("محمد \u200cحسین", "محمد حسین"),
    ("مـــریم", "مریم"),
    ("مُحَمَّد", "محمد"),
    ("ﻋﻠﻲ", "علی"),  # presentation forms (NFKC), then ي → ی
    ("\u200eسارا\u200f\u00a0رضایی", "سارا رضایی"),
    ("رضا\ufeff", "رضا"),
])
def test_name_normalisation(typed, expected):
    """Names get Persian letters, no diacritics/tatweel/invisibles and single spaces."""
    assert normalize_name(typed) == expected


def test_name_key_ignores_spaces_zwnj_letter_forms_and_case():
    """Registry comparison keys agree for the usual spelling variants."""
    keys = {name_key(v) for v in ["محمد حسین", "محمد\u200cحسین", "محمدحسين", " محمد  حسین "]}
    assert keys == {"محمدحسین"}
    assert name_key("John Smith") == name_key("JOHN SMITH")
    assert name_key("علی") != name_key("عالی")


def test_normalize_digits_drops_invisibles_and_spaces():
    assert normalize_digits("۱۳۷۰/۰۶/۳۱") == "1370/06/31"
    assert normalize_digits("\u2067۱۲ ۳\u2069") == "123"
    assert normalize_digits(None) == ""


@pytest.mark.parametrize(("typed", "expected"), [
    (" Ali.Rezaei@Example.IR ", "Ali.Rezaei@example.ir"),
    ("\u200eali@mail.com", "ali@mail.com"),
])
def test_email_normalisation(typed, expected):
    """Emails are trimmed and keep the local part's case; the domain is lower-cased."""
    assert normalize_email(typed) == expected


@pytest.mark.parametrize(("value", "ok"), [
    ("ali@example.ir", True), ("a.b+tag@sub.example.com", True), ("ali@example", False),
    ("ali@@example.ir", False), ("علی@example.ir", False), ("ali example@x.ir", False),
    ("@example.ir", False), ("ali@-x.ir", False), ("a" * 250 + "@x.ir", False),
])
def test_email_syntax(value, ok):
    assert is_valid_email(value) is ok
