"""Dial-number parsing and validation (S5): every accepted form, every rejection reason."""

from __future__ import annotations

import dataclasses

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.backend.port import UserProfile
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorCore, load_tenant
from bot.flow.catalog import Catalog
from bot.flow.numbers import (
    MAX_NUMBER_LENGTH,
    check_dial_number,
    mask,
    normalize_country_code,
    parse_number,
)

CORE = SimulatorCore(load_tenant(DEMO_TENANT_FILE))


def profile(name: str) -> UserProfile:
    return CORE.profile(f"{name}@example.com")


# --- accepted forms ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("+14155550101", "+14155550101"),
        ("+1 415 555 0101", "+14155550101"),
        ("+1-415-555-0101", "+14155550101"),
        ("+1 (415) 555-0101", "+14155550101"),
        ("+1.415.555.0101", "+14155550101"),
        ("  +1 415 555 0101  ", "+14155550101"),
        ("+1\u00a0415\u00a0555\u00a00101", "+14155550101"),
        ("+33 1 99 00 12 34", "+33199001234"),
        ("+44 20 7946 0958", "+442079460958"),
        # IDD: 011 from North America, 00 from most of the world
        ("011 61 2 9374 4000", "+61293744000"),
        ("01161293744000", "+61293744000"),
        ("0033 1 99 00 12 34", "+33199001234"),
        ("00 44 20 7946 0958", "+442079460958"),
    ],
)
def test_international_forms_are_accepted_as_e164(typed: str, e164: str) -> None:
    check = parse_number(typed)
    assert check.ok, check
    assert check.e164 == e164
    assert check.reason is None


@pytest.mark.parametrize(
    ("typed", "code", "e164"),
    [
        ("415 555 0101", "1", "+14155550101"),
        ("(415) 555-0101", "1", "+14155550101"),
        ("01 99 00 12 34", "33", "+33199001234"),  # the French trunk 0 is dropped
        ("1 99 00 12 34", "33", "+33199001234"),
        ("06 12 34 56 78", "33", "+33612345678"),
    ],
)
def test_national_number_with_a_country_code(typed: str, code: str, e164: str) -> None:
    check = parse_number(typed, country_code=code)
    assert check.ok, check
    assert check.e164 == e164


def test_national_number_without_a_country_code_asks_for_one() -> None:
    check = parse_number("415 555 0101")
    assert not check.ok
    assert check.needs_country_code
    assert check.reason is None


def test_international_number_ignores_the_country_code_given() -> None:
    assert parse_number("+14155550101", country_code="33").e164 == "+14155550101"


# --- rejections --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code", "reason"),
    [
        ("", None, "number.empty"),
        ("   ", None, "number.empty"),
        ("-- ()", None, "number.empty"),
        ("abc", None, "number.not_digits"),
        ("+1 415 CALL NOW", None, "number.not_digits"),
        ("++14155550101", None, "number.not_digits"),
        ("+1 41", None, "number.too_short"),
        ("+1234567890123456789012", None, "number.too_long"),
        ("4" * (MAX_NUMBER_LENGTH + 1), None, "number.too_long"),
        ("+999 123456", None, "number.bad_country_code"),
        ("0199001234", "999", "number.bad_country_code"),
        ("+1 555 555 0100", None, "number.not_valid_for_country"),
    ],
)
def test_rejection_reasons(typed: str, code: str | None, reason: str) -> None:
    check = parse_number(typed, country_code=code)
    assert not check.ok
    assert check.e164 is None
    assert check.reason == reason


def test_not_valid_for_country_names_the_number_and_country() -> None:
    params = dict(parse_number("+1 555 555 0100").params)
    assert params == {"number": "+15555550100", "country": "US"}


def test_every_rejection_reason_has_a_message_in_both_languages() -> None:
    catalog = Catalog.default()
    reasons = {
        "number.empty",
        "number.not_digits",
        "number.too_short",
        "number.too_long",
        "number.bad_country_code",
        "number.bad_length",
        "number.invalid",
        "number.not_valid_for_country",
        "number.provisioned_only",
        "number.not_allowed",
        "number.dial_plan",
    }
    for reason in reasons:
        for language in ("en", "fr"):
            assert catalog.has(f"invalid.{reason}", language), (reason, language)


# --- the profile and the dial plan (check_dial_number) ------------------------------------------------


def test_provisioned_profile_accepts_only_its_default_dn() -> None:
    pat = profile("pat.provisioned")
    assert check_dial_number("+1 312 555 0140", pat).e164 == "+13125550140"
    refused = check_dial_number("+1 415 555 0199", pat)
    assert refused.reason == "number.provisioned_only"
    assert dict(refused.params) == {"number": "+13125550140"}


def test_provisioned_profile_refuses_garbage_with_the_provisioned_reason() -> None:
    assert check_dial_number("hello", profile("pat.provisioned")).reason == "number.provisioned_only"


def test_specific_profile_refuses_a_number_outside_its_criteria() -> None:
    sid = profile("sid.specific")
    assert check_dial_number("+1 312 555 0100", sid).e164 == "+13125550100"
    refused = check_dial_number("+1 212 555 0199", sid)
    assert refused.reason == "number.not_allowed"
    assert dict(refused.params) == {"number": "+12125550199"}


def test_dial_plan_refuses_a_valid_number_it_does_not_cover() -> None:
    # Ines's profile without its US plan: the France and international plans leave +1 to the US one.
    ines = profile("ines.martin")
    without_us = dataclasses.replace(ines, dial_plans=tuple(p for p in ines.dial_plans if p.name != "US"))
    assert len(without_us.dial_plans) == len(ines.dial_plans) - 1
    refused = check_dial_number("+1 212 555 0199", without_us)
    assert refused.reason == "number.dial_plan"
    assert dict(refused.params) == {"number": "+12125550199"}


def test_known_numbers_pass_whatever_the_format() -> None:
    ava = profile("ava.lead")
    assert check_dial_number("+1 (212) 555-0102", ava).e164 == "+12125550102"
    assert check_dial_number("011 1 415 555 0101", ava).e164 == "+14155550101"


def test_check_dial_number_passes_parse_errors_through() -> None:
    ava = profile("ava.lead")
    assert check_dial_number("abc", ava).reason == "number.not_digits"
    assert check_dial_number("415 555 0101", ava).needs_country_code
    assert check_dial_number("01 99 00 12 34", profile("ines.martin"), country_code="33").e164 == (
        "+33199001234"
    )


# --- country codes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("+33", "33"),
        ("33", "33"),
        ("0033", "33"),
        (" +1 ", "1"),
        ("FR", "33"),
        ("fr", "33"),
        ("GB", "44"),
        ("+44", "44"),
    ],
)
def test_normalize_country_code(typed: str, code: str) -> None:
    assert normalize_country_code(typed) == code


@pytest.mark.parametrize("typed", ["", "999", "+999", "XX", "hello", "+", "0"])
def test_normalize_country_code_refuses_what_is_no_country_code(typed: str) -> None:
    assert normalize_country_code(typed) is None


# --- masking ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+14155550101", "+*********01"),
        ("+1 415 555 0101", "+*********01"),
        ("2001", "**01"),
        ("12", "**"),
        ("", ""),
    ],
)
def test_mask_keeps_only_the_last_two_digits(number: str, masked: str) -> None:
    assert mask(number) == masked


@given(st.from_regex(r"\+[1-9]\d{6,14}", fullmatch=True))
def test_mask_never_shows_more_than_two_digits(number: str) -> None:
    masked = mask(number)
    assert sum(c.isdigit() for c in masked) == 2
    assert masked.endswith(number[-2:])


# --- properties ------------------------------------------------------------------------------------------

_NUMBERISH = st.text(alphabet="+0123456789 ()-./", max_size=30)


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=60), _NUMBERISH), st.one_of(st.none(), st.text(max_size=5), _NUMBERISH))
def test_parse_number_never_raises(raw: str, code: str | None) -> None:
    check = parse_number(raw, country_code=code)
    assert check.ok or check.reason is not None or check.needs_country_code


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=60), _NUMBERISH))
def test_check_dial_number_never_raises(raw: str) -> None:
    for name in ("ava.lead", "pat.provisioned", "sid.specific", "ines.martin"):
        check = check_dial_number(raw, profile(name))
        assert check.ok or check.reason is not None or check.needs_country_code


@settings(max_examples=300)
@given(st.one_of(_NUMBERISH, st.from_regex(r"(\+|00|011)[1-9][0-9 ]{6,16}", fullmatch=True)))
def test_accepted_numbers_are_e164_and_reparse_to_themselves(raw: str) -> None:
    check = parse_number(raw)
    if not check.ok:
        return
    assert check.e164 is not None
    parsed = phonenumbers.parse(check.e164, None)
    assert phonenumbers.is_valid_number(parsed)
    assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == check.e164
    assert parse_number(check.e164).e164 == check.e164


@settings(max_examples=200)
@given(st.text(max_size=12))
def test_normalize_country_code_never_raises_and_returns_digits(raw: str) -> None:
    code = normalize_country_code(raw)
    assert code is None or (code.isdigit() and phonenumbers.region_code_for_country_code(int(code)) != "ZZ")
