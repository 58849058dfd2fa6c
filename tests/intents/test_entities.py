"""Rule-based entities: canonical values and offsets into the original text."""

from __future__ import annotations

import pytest

from intents.entities import Entity, extract, extract_teams

from .conftest import TEAMS


def found(text: str, *, region: str = "US", teams: tuple[str, ...] = TEAMS) -> list[tuple[str, str, str]]:
    entities = extract(text, teams=teams, region=region)
    for e in entities:
        assert 0 <= e.start < e.end <= len(text)
    return [(e.entity, e.value, text[e.start : e.end]) for e in entities]


@pytest.mark.parametrize(
    ("text", "region", "value", "surface"),
    [
        ("call me on +1 415 555 0134", "US", "+14155550134", "+1 415 555 0134"),
        ("my number is (415) 555-0101", "US", "+14155550101", "(415) 555-0101"),
        ("use 415.555.0199 please", "US", "+14155550199", "415.555.0199"),
        ("IDD: 011 61 123456789", "US", "+61123456789", "011 61 123456789"),
        ("01161123456789", "US", "+61123456789", "01161123456789"),
        ("appelle le 00 33 1 44 55 66 77", "US", "+33144556677", "00 33 1 44 55 66 77"),
        ("mon portable 06 12 34 56 78", "FR", "+33612345678", "06 12 34 56 78"),
        ("+11234567890", "US", "+11234567890", "+11234567890"),
        ("+44 20 7946 0958 is my desk", "US", "+442079460958", "+44 20 7946 0958"),
        # a national number invalid in the caller's region is read where it is valid
        ("my French number 06 12 34 56 78", "US", "+33612345678", "06 12 34 56 78"),
        ("my desk in London is 020 7946 0958", "US", "+442079460958", "020 7946 0958"),
        ("appelle-moi au 415 555 0134", "FR", "+14155550134", "415 555 0134"),
    ],
)
def test_phone_numbers_are_e164(text: str, region: str, value: str, surface: str) -> None:
    assert ("phone_number", value, surface) in found(text, region=region)


@pytest.mark.parametrize(
    "text",
    [
        "tracking id LOGINBOT-20240611-0042",
        "06 12 34",
        "version 1.2.3456789",
        "call 2001",
        "no digits here",
    ],
)
def test_no_phone_number_where_there_is_none(text: str) -> None:
    assert not [e for e in found(text) if e[0] == "phone_number"]


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("extension 2001", ["2001"]),
        ("ext. 4410", ["4410"]),
        ("x2004", ["2004"]),
        ("poste 3105", ["3105"]),
        ("numéro de poste 4410", ["4410"]),
        ("2001", ["2001"]),
        ("use 2002 please", ["2002"]),
        ("call +1 415 555 0134", []),
        ("LOGINBOT-1234", []),
        ("12 or 1234567", []),
        ("ava.lead123@example.com", []),
    ],
)
def test_extensions(text: str, digits: list[str]) -> None:
    assert [v for name, v, _ in found(text) if name == "extension"] == digits


def test_emails_are_lowercased() -> None:
    assert found("why can't Ava.Lead@Example.com sign in?") == [
        ("email", "ava.lead@example.com", "Ava.Lead@Example.com")
    ]


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("supervisor and agent", "role", "supervisor_agent"),
        ("both", "role", "supervisor_agent"),
        ("superviseur et agent", "role", "supervisor_agent"),
        ("les deux", "role", "supervisor_agent"),
        ("supervisor only", "role", "supervisor"),
        ("superviseur", "role", "supervisor"),
        ("agent", "role", "agent"),
        ("desktop", "call_preference", "desktop"),
        ("the browser", "call_preference", "desktop"),
        ("webrtc", "call_preference", "desktop"),
        ("bureau", "call_preference", "desktop"),
        ("navigateur", "call_preference", "desktop"),
        ("dial number", "call_preference", "dial_number"),
        ("phone number", "call_preference", "dial_number"),
        ("my phone", "call_preference", "dial_number"),
        ("numéro d'appel", "call_preference", "dial_number"),
        ("numero d’appel", "call_preference", "dial_number"),
        ("composer un numéro", "call_preference", "dial_number"),
        ("extension", "call_preference", "extension"),
        ("poste", "call_preference", "extension"),
        ("idle", "availability", "idle"),
        ("inactif", "availability", "idle"),
        ("pause", "availability", "idle"),
        ("on a break", "availability", "idle"),
        ("not ready", "availability", "idle"),
        ("available", "availability", "available"),
        ("ready", "availability", "available"),
        ("disponible", "availability", "available"),
        ("pas disponible", "availability", "idle"),
        ("french", "language", "fr"),
        ("Français", "language", "fr"),
        ("francais", "language", "fr"),
        ("english", "language", "en"),
        ("passe-moi en anglais", "language", "en"),
    ],
)
def test_keyword_entities(text: str, entity: str, value: str) -> None:
    assert (entity, value) in [(n, v) for n, v, _ in found(text)]


def test_product_names_are_not_choices() -> None:
    assert found("sign me in to supervisor desktop") == []
    assert found("je veux me connecter au bureau du superviseur") == []


def test_sentence_from_the_brief() -> None:
    assert found("log me in as supervisor and agent on extension 2001, team Billing") == [
        ("role", "supervisor_agent", "supervisor and agent"),
        ("call_preference", "extension", "extension"),
        ("extension", "2001", "2001"),
        ("team", "Billing", "Billing"),
    ]


@pytest.mark.parametrize(
    ("text", "teams"),
    [
        ("team Billing", ["Billing"]),
        ("biling", ["Billing"]),
        ("bill", ["Billing"]),
        ("Billing Escalations", ["Billing Escalations"]),
        ("escalations", ["Billing Escalations"]),
        ("escalatons please", ["Billing Escalations"]),
        ("sales", ["Sales EMEA", "Sales North America"]),
        ("sales emea", ["Sales EMEA"]),
        ("sales north", ["Sales North America"]),
        ("retension", ["Retention"]),
        ("service client france", ["Service Client France"]),
        ("équipe recouvremen", ["Recouvrement"]),
        ("log me in to the team please", []),
        ("I need support", []),
        ("I want to sign in as agent", []),
        ("the night was long", []),
    ],
)
def test_teams_fuzzy(text: str, teams: list[str]) -> None:
    assert [v for name, v, _ in found(text) if name == "team"] == teams


def test_team_value_is_the_name_as_given_and_offsets_are_the_users_words() -> None:
    text = "put me in VIP  care"
    assert extract_teams(text, ["VIP Care"]) == [Entity("team", "VIP Care", 10, 19)]


def test_no_teams_no_team_entities() -> None:
    assert [e for e in extract("Billing", teams=()) if e.entity == "team"] == []
