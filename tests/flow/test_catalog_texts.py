"""Every catalog text, as the code fills it: no reply shows an unfilled placeholder ("{team}") or an
empty list ("Your extensions are: ."), in any catalog (the flow's, the checklist's, the identity
check's, Slack's and Rasa's), in English and French.

How the code fills a text is read from its syntax tree (`catalog_code.py`): the calls that name the
key and the keywords they pass. A text whose list can be empty has a variant for that case, the key
with `_empty` added (without the list), which the code picks when the list is empty; or it is only
ever said when the list has items (`NEVER_EMPTY`, with the reason).
"""

from __future__ import annotations

import re

import pytest

from bot.flow.catalog import LANGUAGES

from .catalog_code import Text, filled, list_placeholders, mentioned, sites_of, texts

EMPTY = "_empty"  # the key of a text's variant for an empty list: `<key>_empty`

NEVER_EMPTY = {
    "troubleshoot:account.roles": "said only when the profile has roles; else account.no_roles",
    "troubleshoot:account.options": "said only when the profile has call options; else account.digital_only",
    "troubleshoot:account.teams": "said only when the user has teams; else account.no_team(_needed)",
    "troubleshoot:account.skills": "said only when the user has skills; else account.no_skills",
    "troubleshoot:network.recent_errors": "said only when there were errors; else network.no_recent_errors",
    "channels.rasa:rasa.team_ambiguous": "said only when two or more of the user's teams match",
    "channels.rasa:rasa.troubleshoot_which": "said only when several users match",
}

# Variants the flow has yet to pick: the code site that must say the `_empty` key when the list is
# empty. Their tests fail strictly as expected until then; once wired, remove the entry.
WIRED_BY_THE_FLOW: dict[str, str] = {}

# What a list left empty looks like in a sentence, in both languages' typography.
_DEFECTS = {
    "nothing after a colon": re.compile(r":\s*(?:[.,;)]|$)"),
    "empty brackets or quotes": re.compile(r"\(\s*\)|''|\"\"|«\s*»"),
    "a space before a full stop or a comma": re.compile(r"\s[.,]"),
    "two spaces in a row": re.compile(r"\S {2,}\S"),
    "a dangling separator": re.compile(r"[,;]\s*[.,;]"),
}

ALL = texts()
WITH_PLACEHOLDERS = [t for t in ALL if t.placeholders()]
WITH_LISTS = [t for t in ALL if list_placeholders(t)]


def rendered(text: Text, language: str, *, empty: set[str]) -> str:
    """The text with `empty` placeholders as empty strings and the others filled with a word."""
    values = {name: "" if name in empty else "Billing" for name in text.placeholders()}
    return text.catalog.text(language, text.key, **values)


def defects(sentence: str) -> list[str]:
    return [what for what, pattern in _DEFECTS.items() if pattern.search(sentence)]


def variant(text: Text) -> Text | None:
    key = text.key + EMPTY
    return Text(text.package, key) if text.catalog.has(key, "en") else None


def _pending(text: Text) -> pytest.MarkDecorator | tuple[()]:
    where = WIRED_BY_THE_FLOW.get(str(text))
    if where is None:
        return ()
    return pytest.mark.xfail(strict=True, reason=f"not picked by the code yet: {where}")


def _params(found: list[Text]) -> list[object]:
    return [pytest.param(text, id=str(text), marks=_pending(text)) for text in found]


# --- the scan itself ---------------------------------------------------------------------------------


def test_the_scan_finds_how_the_code_fills_texts() -> None:
    extension = Text("bot.flow.messages", "invalid.extension.unknown")
    assert "bot/flow/steps.py:validate_extension" in {site.where for site in sites_of(extension)}
    assert list_placeholders(extension) == {"extensions"}  # `", ".join(profile.extensions)`
    assert filled(extension, "extension") and not filled(extension, "no_such_placeholder")
    # A key in a table row, filled by the engine's generic call: `say(spec.announce, role=...)`.
    assert filled(Text("bot.flow.messages", "auto.role"), "role")
    # A key chosen by a conditional, then passed: `key = "a" if ... else "b"; say(key, tracking_id=...)`.
    assert filled(Text("bot.flow.messages", "outcome.login_success_auto"), "tracking_id")
    assert len(WITH_PLACEHOLDERS) > 50 and WITH_LISTS


def test_the_defects_are_seen() -> None:
    assert "nothing after a colon" in defects("1234 isn't one of your extensions. Your extensions are: .")
    assert "nothing after a colon" in defects("Vos postes sont : .")
    assert "empty brackets or quotes" in defects("Teams (): Billing.")
    assert "two spaces in a row" in defects("Signed in as  on the desktop.")
    assert defects("Vos postes sont : 1001, 1002. « Billing » ? Oui !") == []


# --- no unfilled placeholder --------------------------------------------------------------------------


@pytest.mark.parametrize("text", _params(WITH_PLACEHOLDERS))
def test_every_placeholder_is_one_the_code_fills(text: Text) -> None:
    unfilled = sorted(name for name in text.placeholders() if not filled(text, name))
    assert unfilled == [], f"{text}: no code fills {unfilled}; sites: {[s.where for s in sites_of(text)]}"


# --- no empty list ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_text_shows_an_empty_list(language: str) -> None:
    """Each text whose list may be empty, rendered with the list empty: the ones that then read
    wrong must have an `_empty` variant (or never be said with an empty list)."""
    offending = {}
    for text in WITH_LISTS:
        broken = defects(rendered(text, language, empty=list_placeholders(text)))
        if broken and variant(text) is None and str(text) not in NEVER_EMPTY:
            offending[str(text)] = broken
    assert offending == {}


@pytest.mark.parametrize("text", [t for t in WITH_LISTS if variant(t) is not None], ids=str)
@pytest.mark.parametrize("language", LANGUAGES)
def test_an_empty_variant_reads_well_without_the_list(text: Text, language: str) -> None:
    empty = variant(text)
    assert empty is not None
    assert not empty.placeholders() & list_placeholders(text), f"{empty} still takes the list"
    assert empty.placeholders() <= text.placeholders()  # the code has them at hand where it picks
    sentence = rendered(empty, language, empty=set())
    assert defects(sentence) == [] and "{" not in sentence, sentence


@pytest.mark.parametrize("text", _params([v for t in WITH_LISTS if (v := variant(t)) is not None]))
def test_the_code_picks_each_empty_variant(text: Text) -> None:
    assert mentioned(text.key), f"no code says {text}"


def test_the_texts_said_only_with_items_are_still_lists() -> None:
    lists = {str(t) for t in WITH_LISTS}
    assert sorted(set(NEVER_EMPTY) - lists) == []


def test_the_pending_variants_exist() -> None:
    known = {str(t) for t in ALL}
    assert sorted(set(WIRED_BY_THE_FLOW) - known) == []
