"""Dial-number validation (S5): E.164, IDD and national numbers with a chosen country code, checked
with phonenumbers and then against the tenant's dial plan, before anything reaches the backend."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, ValidationResult

from bot.backend.dialplan import matches_criteria, matches_dial_plan
from bot.backend.port import DNValidation, UserProfile

# Punctuation people paste along with numbers; '+' is the only special character kept (desktop help).
_SEPARATORS = re.compile(r"[\s().\-/\u00a0\u2010-\u2015]")
# International direct dialling prefixes: 011 from North America, 00 from most of the world.
_IDD_PREFIXES = ("011", "00")
ASCII_DIGITS = frozenset("0123456789")  # not str.isdigit(): "²" and "①" are digits to Python, not to int()
MAX_NUMBER_LENGTH = 43  # the API's limit for dialNumber
MIN_NATIONAL_DIGITS = 4  # shorter than any national number: say so rather than ask for a country code


@dataclass(frozen=True)
class NumberCheck:
    """Either an accepted E.164 number, or a rejection reason (a catalog key) with its parameters."""

    e164: str | None = None
    reason: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    needs_country_code: bool = False  # a national number: ask which country code (S5)

    @property
    def ok(self) -> bool:
        return self.e164 is not None


def _reject(reason: str, **params: str) -> NumberCheck:
    return NumberCheck(reason=reason, params=tuple(params.items()))


def is_ascii_digits(text: str) -> bool:
    return bool(text) and all(ch in ASCII_DIGITS for ch in text)


def clean(raw: str) -> str:
    return _SEPARATORS.sub("", raw.strip())


def country_code_for_region(region: str) -> str:
    return str(phonenumbers.country_code_for_region(region.upper()) or "")


def region_for_country_code(code: str) -> str | None:
    if not is_ascii_digits(code):
        return None
    region = phonenumbers.region_code_for_country_code(int(code))
    return None if region == "ZZ" else region


def normalize_country_code(raw: str) -> str | None:
    """'+33', '33', '0033', 'FR' or 'France'-like region codes -> '33'; None when it is no country code."""
    text = clean(raw).lstrip("+")
    if text.startswith("00"):
        text = text[2:]
    if is_ascii_digits(text):
        return text if region_for_country_code(text) else None
    if len(text) == 2 and text.isalpha():
        code = country_code_for_region(text)
        return code or None
    return None


_PARSE_ERRORS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "number.bad_country_code",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "number.too_short",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "number.too_short",
    phonenumbers.NumberParseException.TOO_LONG: "number.too_long",
}


def _possible_reason(result: int) -> str:
    return {
        ValidationResult.TOO_SHORT: "number.too_short",
        ValidationResult.TOO_LONG: "number.too_long",
        ValidationResult.INVALID_COUNTRY_CODE: "number.bad_country_code",
        ValidationResult.INVALID_LENGTH: "number.bad_length",
    }.get(result, "number.invalid")


def parse_number(raw: str, *, country_code: str | None = None) -> NumberCheck:
    """Parse one typed number into E.164, or say precisely why it is not one."""
    text = clean(raw)
    if not text:
        return _reject("number.empty")
    if len(text) > MAX_NUMBER_LENGTH:
        return _reject("number.too_long")
    body = text[1:] if text.startswith("+") else text
    if not is_ascii_digits(body):
        return _reject("number.not_digits")
    region: str | None = None
    if text.startswith("+"):
        international = text
    elif text.startswith(_IDD_PREFIXES):
        prefix = next(p for p in _IDD_PREFIXES if text.startswith(p))
        international = "+" + text[len(prefix) :]
    elif country_code:
        region = region_for_country_code(country_code)
        if region is None:
            return _reject("number.bad_country_code", number="+" + country_code)
        international = text  # national: phonenumbers drops the trunk prefix ("06..." in France)
    elif len(text) < MIN_NATIONAL_DIGITS:
        return _reject("number.too_short")
    else:
        return NumberCheck(needs_country_code=True)
    try:
        parsed = phonenumbers.parse(international, region)
    except phonenumbers.NumberParseException as error:
        return _reject(_PARSE_ERRORS.get(error.error_type, "number.invalid"))
    international = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    possible = phonenumbers.is_possible_number_with_reason(parsed)
    if possible not in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        return _reject(_possible_reason(possible), number=international)
    if not phonenumbers.is_valid_number(parsed):
        region = phonenumbers.region_code_for_country_code(parsed.country_code or 0)
        return _reject("number.not_valid_for_country", number=international, country=region)
    return NumberCheck(e164=phonenumbers.format_number(parsed, PhoneNumberFormat.E164))


def check_dial_number(raw: str, profile: UserProfile, *, country_code: str | None = None) -> NumberCheck:
    """A number the user typed, checked as the tenant would check it (S4, S5, S8)."""
    if profile.dn_validation is DNValidation.PROVISIONED_VALUE:
        allowed = profile.default_dn or ""
        parsed = parse_number(raw, country_code=country_code)
        if parsed.ok and parsed.e164 == allowed:
            return parsed
        return _reject("number.provisioned_only", number=allowed)
    result = parse_number(raw, country_code=country_code)
    if not result.ok or result.e164 is None:
        return result
    known = result.e164 in profile.dial_numbers or result.e164 == profile.default_dn
    if (
        not known
        and profile.dn_validation is DNValidation.SPECIFIC
        and not matches_criteria(result.e164, profile.dn_criteria)
    ):
        return _reject("number.not_allowed", number=result.e164)
    if not known and not matches_dial_plan(result.e164, profile.dial_plans):
        return _reject("number.dial_plan", number=result.e164)
    return result


def mask(number: str) -> str:
    """For logs (X4): keep the last two digits only."""
    digits = [c for c in number if c.isdecimal()]  # every script's digits are masked
    if len(digits) <= 2:
        return "*" * len(number)
    return ("+" if number.startswith("+") else "") + "*" * (len(digits) - 2) + "".join(digits[-2:])
