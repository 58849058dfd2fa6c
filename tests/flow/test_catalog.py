"""Message catalogs (S15): English and French say the same things with the same placeholders."""

from __future__ import annotations

import string

import pytest

from bot.backend.port import FailureReason
from bot.flow.catalog import LANGUAGES, Catalog
from bot.flow.state import Step

CATALOG = Catalog.default()
EN = CATALOG.keys("en")
FR = CATALOG.keys("fr")
TEXT_KEYS = sorted(k for k in EN if CATALOG.has(k, "en"))


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def raw(language: str, key: str) -> str:
    node: object = CATALOG._messages[language]
    for part in key.split("."):
        assert isinstance(node, dict), key
        node = node[part]
    assert isinstance(node, str), key
    return node


def test_both_languages_are_loaded() -> None:
    assert set(LANGUAGES) == {"en", "fr"}
    assert len(EN) > 100


def test_english_and_french_have_exactly_the_same_keys() -> None:
    assert sorted(EN - FR) == [], "missing in French"
    assert sorted(FR - EN) == [], "missing in English"


@pytest.mark.parametrize("key", TEXT_KEYS)
def test_placeholders_match_between_languages(key: str) -> None:
    assert placeholders(raw("en", key)) == placeholders(raw("fr", key)), key


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_message_is_empty(language: str) -> None:
    empty = [k for k in CATALOG.keys(language) if CATALOG.has(k, language) and not raw(language, k).strip()]
    assert empty == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_words_lists_are_not_empty(language: str) -> None:
    node = CATALOG._messages[language]["words"]
    assert isinstance(node, dict)
    for name, words in node.items():
        assert isinstance(words, list) and words, name
        assert all(str(w).strip() for w in words), name


@pytest.mark.parametrize("reason", list(FailureReason))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_failure_reason_is_explained(reason: FailureReason, language: str) -> None:
    assert CATALOG.has(f"failure.{reason.value}", language)


@pytest.mark.parametrize("step", list(Step))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_step_has_a_prompt_and_help(step: Step, language: str) -> None:
    assert CATALOG.has(f"help.step.{step.value}", language)
    # the prompt of every step (the engine's prompt_<step> picks ask.<step> or a variant)
    assert CATALOG.has(f"ask.{step.value}", language)


@pytest.mark.parametrize(
    "key",
    [
        "ask.country_code_for",
        "ask.dial_number_with_default",
        "ask.dial_number_pick",
        "ask.dial_number_type",
        "ask.team_which",
        "ask.confirm_preferences",
        "failure.tracking_id",
        "outcome.login_success",
        "outcome.login_success_auto",
        "outcome.state_available",
        "outcome.state_idle",
        "error.storage",
        "error.internal",
        "error.conflict",
        "invalid.step.not_understood",
        "label.role.supervisor",
        "label.role.supervisor_agent",
        "label.role.agent",
        "label.call.desktop",
        "label.call.extension",
        "label.call.dial_number",
        "label.call.digital",
        "field.role",
        "field.call_preference",
        "field.extension",
        "field.dial_number",
        "field.team",
        "field.auto_login",
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_keys_the_engine_builds_exist(key: str, language: str) -> None:
    assert CATALOG.has(key, language)


def test_a_missing_placeholder_is_left_visible_not_a_crash() -> None:
    text = CATALOG.text("en", "outcome.login_success")
    assert "{tracking_id}" in text
    assert "{number}" in CATALOG.text("fr", "failure.DUPLICATE_LOCATION")


def test_extra_parameters_are_ignored() -> None:
    assert CATALOG.text("en", "goodbye", unused="x") == raw("en", "goodbye").strip()


def test_unknown_key_returns_the_key() -> None:
    assert CATALOG.text("en", "no.such.key") == "no.such.key"
    assert not CATALOG.has("no.such.key")


def test_unknown_language_falls_back_to_english() -> None:
    assert CATALOG.text("de", "goodbye") == CATALOG.text("en", "goodbye")
    assert CATALOG.text(None, "goodbye") == CATALOG.text("en", "goodbye")


def test_french_is_really_french() -> None:
    assert CATALOG.text("fr", "goodbye") != CATALOG.text("en", "goodbye")
    assert CATALOG.text("fr", "outcome.login_success", tracking_id="T-1").count("T-1") == 1
