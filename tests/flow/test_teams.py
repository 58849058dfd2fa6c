"""Team resolution (S9): exact, case-insensitive, partial, misspelled, ambiguous and unknown names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.backend.port import Team
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorCore, load_tenant
from bot.flow.teams import filter_teams, match_team

TEAMS = SimulatorCore(load_tenant(DEMO_TENANT_FILE)).profile("ava.lead@example.com").teams
NAMES = [t.name for t in TEAMS]


def names(teams: tuple[Team, ...] | list[Team]) -> list[str]:
    return [t.name for t in teams]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Billing", "Billing"),
        ("billing", "Billing"),
        ("BILLING", "Billing"),
        ("  billing  ", "Billing"),
        ("Billing Escalations", "Billing Escalations"),
        ("sales emea", "Sales EMEA"),
        ("emea", "Sales EMEA"),
        ("t-vip", "VIP Accounts"),  # the team id itself
    ],
)
def test_exact_case_insensitive_and_unique_partial(query: str, expected: str) -> None:
    match = match_team(query, TEAMS)
    assert match.team is not None
    assert match.team.name == expected
    assert match.candidates == ()


@pytest.mark.parametrize(
    ("query", "expected"),
    [("biling", "Billing"), ("custmer care", "Customer Care"), ("retension", "Retention")],
)
def test_misspelled_name_is_understood(query: str, expected: str) -> None:
    match = match_team(query, TEAMS)
    assert match.team is not None and match.team.name == expected


def test_partial_name_shared_by_two_teams_asks_which() -> None:
    match = match_team("bill", TEAMS)
    assert match.team is None
    assert sorted(names(match.candidates)) == ["Billing", "Billing Escalations"]


def test_ambiguous_name_offers_the_three_sales_teams() -> None:
    match = match_team("sales", TEAMS)
    assert match.team is None
    assert sorted(names(match.candidates)) == ["Sales APAC", "Sales Americas", "Sales EMEA"]


@pytest.mark.parametrize("query", ["xyz", "qqqqqq", "12345"])
def test_unknown_name_matches_nothing(query: str) -> None:
    match = match_team(query, TEAMS)
    assert match.team is None
    assert match.candidates == ()


@pytest.mark.parametrize("query", ["", "   ", "\t"])
def test_empty_query_matches_nothing(query: str) -> None:
    assert match_team(query, TEAMS) == match_team("", ())
    assert match_team(query, TEAMS).team is None


def test_empty_team_list() -> None:
    match = match_team("Billing", [])
    assert match.team is None
    assert match.candidates == ()


def test_filter_narrows_by_every_word() -> None:
    assert names(filter_teams("sales", TEAMS)) == ["Sales EMEA", "Sales APAC", "Sales Americas"]
    assert names(filter_teams("sales am", TEAMS)) == ["Sales Americas"]
    assert names(filter_teams("", TEAMS)) == NAMES
    assert filter_teams("nothing like it", TEAMS) == []


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_match_team_never_raises_and_answers_from_the_list(query: str) -> None:
    match = match_team(query, TEAMS)
    assert match.team is None or match.team in TEAMS
    assert all(t in TEAMS for t in match.candidates)
    assert not (match.team is not None and match.candidates)
    assert len(match.candidates) <= 10


@settings(max_examples=100)
@given(st.sampled_from(NAMES))
def test_every_exact_name_resolves_to_itself(name: str) -> None:
    for query in (name, name.lower(), name.upper()):
        match = match_team(query, TEAMS)
        assert match.team is not None and match.team.name == name


@settings(max_examples=100)
@given(st.text(max_size=20), st.lists(st.text(min_size=1, max_size=15), max_size=6, unique=True))
def test_match_team_never_raises_on_any_team_list(query: str, team_names: list[str]) -> None:
    teams = [Team(f"t{i}", n) for i, n in enumerate(team_names)]
    match = match_team(query, teams)
    assert match.team is None or match.team in teams
    assert all(t in teams for t in match.candidates)
    filter_teams(query, teams)
