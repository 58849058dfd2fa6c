"""Webex's directory search, `GET /v1/people`: what the real-API adapter looks names up with."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.backend.simulator.server import SimulatorServer
from tests.simulator_server.support import AVA, bearer, tokens_for


@pytest.fixture
def token(server: SimulatorServer) -> str:
    return str(tokens_for(server.base_url, AVA)["access_token"])


def people(server: SimulatorServer, token: str | None, **params: Any) -> httpx.Response:
    headers = bearer(token, "TEST-people") if token else {}
    return httpx.get(f"{server.base_url}/v1/people", params=params, headers=headers)


def emails(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["emails"][0] for item in answer.json()["items"]]


def test_a_display_name_matches_the_start_of_a_display_first_or_last_name(
    server: SimulatorServer, token: str
) -> None:
    assert emails(people(server, token, displayName="ava")) == [AVA]
    assert emails(people(server, token, displayName="Ava Le")) == [AVA]  # the display name's start
    assert emails(people(server, token, displayName="lead")) == [AVA]  # a last name's
    assert sorted(emails(people(server, token, displayName="AGENT"))) == [
        "alex.agent@example.com",
        "busy.agent@example.com",
    ]
    assert emails(people(server, token, displayName="Inès")) == ["ines.martin@example.com"]
    assert emails(people(server, token, displayName="ead")) == []  # not inside a name
    assert emails(people(server, token, displayName="Zork")) == []


def test_people_are_described_as_webex_describes_them(server: SimulatorServer, token: str) -> None:
    answer = people(server, token, email="Ava.Lead@Example.com")
    assert answer.headers["TrackingID"] == "TEST-people"
    [ava] = answer.json()["items"]
    assert ava["emails"] == [AVA] and ava["displayName"] == "Ava Lead"
    assert (ava["firstName"], ava["lastName"], ava["type"]) == ("Ava", "Lead", "person")
    assert ava["id"] == "ci-ava-lead" and ava["orgId"]


def test_max_bounds_the_answer(server: SimulatorServer, token: str) -> None:
    assert len(emails(people(server, token, displayName="a", max=1))) == 1
    for wrong in ("0", "1001", "many"):
        assert people(server, token, displayName="a", max=wrong).status_code == 400


def test_a_search_needs_a_name_or_an_email_and_a_valid_token(server: SimulatorServer, token: str) -> None:
    refused = people(server, token)
    assert refused.status_code == 400 and refused.json()["trackingId"] == "TEST-people"
    assert people(server, None, displayName="ava").status_code == 401
    assert people(server, "forged", displayName="ava").status_code == 401
    no_scope = str(tokens_for(server.base_url, AVA, scope="cjp:user")["access_token"])
    assert people(server, no_scope, displayName="ava").status_code == 403
