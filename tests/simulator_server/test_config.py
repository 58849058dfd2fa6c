"""Configuration reads: the real envelopes and field names, checked against Cisco's schemas."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.backend.simulator.server import SimulatorServer
from tests.simulator_server.support import (
    AVA,
    ORG,
    bearer,
    tokens_for,
    validate_response,
    validate_schema,
)

USER = "GET /organization/{orgid}/v2/user/by-ci-user-id/{id}"
PROFILE = "GET /organization/{orgid}/agent-profile/{id}"
TEAMS = "GET /organization/{orgid}/v2/team"
DIAL_PLANS = "GET /organization/{orgid}/v2/dial-plan"
AUX_CODES = "GET /organization/{orgid}/v2/auxiliary-code"


@pytest.fixture
def token(server: SimulatorServer) -> str:
    return str(tokens_for(server.base_url, AVA)["access_token"])


def get(server: SimulatorServer, token: str, path: str, **params: Any) -> httpx.Response:
    return httpx.get(
        f"{server.base_url}/organization/{ORG}{path}", params=params, headers=bearer(token, "TEST-config")
    )


def test_user_by_ci_user_id(server: SimulatorServer, token: str) -> None:
    answer = get(server, token, "/v2/user/by-ci-user-id/ci-ava-lead")
    assert answer.status_code == 200 and answer.headers["TrackingID"] == "TEST-config"
    user = answer.json()
    validate_response(f"{USER} 200", user)
    assert user["ciUserId"] == "ci-ava-lead" and user["email"] == AVA
    assert user["agentProfileId"] == "ap-all-options" and user["siteId"] == "site-sf"
    assert user["deafultDialledNumber"] == "+14155550101"  # the real, misspelled field
    assert "t-vip" in user["teamIds"] and len(user["teamIds"]) == 12
    extension = user["loginbotSimulator"]
    assert extension["allowedRoles"] == "both" and extension["extensions"] == ["1001", "1002"]
    assert extension["dialNumbers"] == ["+14155550101", "+12125550102"]
    assert extension["language"] == "en" and extension["displayName"] == "Ava Lead"
    assert extension["admin"] is False and extension["defaultRegion"] == "US"


def test_agent_profile(server: SimulatorServer, token: str) -> None:
    profile = get(server, token, "/agent-profile/ap-specific").json()
    validate_response(f"{PROFILE} 200", profile)
    assert profile["loginVoiceOptions"] == ["AGENT_DN"]
    assert profile["agentDNValidation"] == "SPECIFIC"
    assert profile["agentDNValidationCriterions"] == [r"\+1312555\d{4}"]
    assert profile["dialPlanEnabled"] is True and profile["dialPlans"] == ["dp-us"]
    assert profile["accessIdleCode"] == "SPECIFIC" and profile["idleCodes"] == ["aux-break", "aux-lunch"]
    digital = get(server, token, "/agent-profile/ap-digital").json()
    validate_response(f"{PROFILE} 200", digital)
    assert digital["loginVoiceOptions"] == []


def test_team_listing_pages_and_filters(server: SimulatorServer, token: str) -> None:
    everything = get(server, token, "/v2/team").json()
    validate_response(f"{TEAMS} 200", everything)
    validate_schema("MetaDataWithPagingInfo", everything["meta"])
    assert everything["meta"]["totalRecords"] == 15 and len(everything["data"]) == 15
    care = next(team for team in everything["data"] if team["id"] == "t-customer-care")
    assert {"ci-alex-agent", "ci-busy-agent"} <= set(care["userIds"])
    assert care["teamType"] == "AGENT" and care["teamStatus"] == "IN_SERVICE"

    pages = [get(server, token, "/v2/team", page=n, pageSize=6).json() for n in range(3)]
    assert [len(p["data"]) for p in pages] == [6, 6, 3]
    assert pages[0]["meta"]["totalPages"] == 3 and "next" in pages[0]["meta"]["links"]
    assert "next" not in pages[2]["meta"]["links"]
    assert len({team["id"] for p in pages for team in p["data"]}) == 15

    chosen = get(server, token, "/v2/team", filter='id=in=("t-billing","t-vip")').json()
    assert sorted(team["id"] for team in chosen["data"]) == ["t-billing", "t-vip"]
    mine = get(server, token, "/v2/team", filter='userId=="ci-alex-agent"').json()
    assert sorted(team["id"] for team in mine["data"]) == ["t-customer-care", "t-tech-support"]
    named = get(server, token, "/v2/team", search="billing", attributes="name").json()
    assert sorted(team["name"] for team in named["data"]) == ["Billing", "Billing Escalations"]
    assert set(named["data"][0]) == {"id", "name"}
    bad = get(server, token, "/v2/team", filter="id~~x")
    assert bad.status_code == 400
    validate_schema("ApiErrorResponse", bad.json())


def test_dial_plans(server: SimulatorServer, token: str) -> None:
    plans = get(server, token, "/v2/dial-plan").json()
    # Cisco's ResponseEnvelopeDialPlanDTO types every `meta` value as an object (a generator artifact
    # of a Map<String, Object>); the simulator's meta is the paging meta of the other listings.
    validate_response(f"{DIAL_PLANS} 200", {"data": plans["data"]})
    validate_schema("MetaDataWithPagingInfo", plans["meta"])
    us = next(plan for plan in plans["data"] if plan["id"] == "dp-us")
    assert us["regularExpression"] == r"\+1[2-9]\d{2}[2-9]\d{6}"
    assert us["strippedChars"] == " ()-." and us["active"] is True and us["name"] == "US"


def test_auxiliary_codes(server: SimulatorServer, token: str) -> None:
    codes = get(server, token, "/v2/auxiliary-code").json()
    validate_response(f"{AUX_CODES} 200", codes)
    kinds = {code["id"]: code["workTypeCode"] for code in codes["data"]}
    assert kinds["aux-break"] == "IDLE_CODE" and kinds["wrap-resolved"] == "WRAP_UP_CODE"
    assert next(c for c in codes["data"] if c["id"] == "aux-break")["defaultCode"] is True
    filtered = get(
        server, token, "/v2/auxiliary-code", desktopProfileFilter="true", supervisedUserId="ci-sid-specific"
    )
    idle = sorted(c["id"] for c in filtered.json()["data"] if c["workTypeCode"] == "IDLE_CODE")
    assert idle == ["aux-break", "aux-lunch"]


def test_wrong_org_unknown_ids_and_auth(server: SimulatorServer, token: str) -> None:
    other_org = httpx.get(f"{server.base_url}/organization/another-org/v2/team", headers=bearer(token))
    assert other_org.status_code == 403
    validate_response(f"{TEAMS} 403", other_org.json())
    missing_user = get(server, token, "/v2/user/by-ci-user-id/ci-nobody")
    assert missing_user.status_code == 404
    validate_response(f"{USER} 404", missing_user.json())
    assert missing_user.json()["trackingId"] == "TEST-config"
    assert get(server, token, "/agent-profile/ap-nothing").status_code == 404
    no_token = httpx.get(f"{server.base_url}/organization/{ORG}/v2/team")
    assert no_token.status_code == 401
    validate_response(f"{TEAMS} 401", no_token.json())
    runtime_only = tokens_for(server.base_url, AVA, scope="cjp:user")["access_token"]
    forbidden = get(server, runtime_only, "/v2/dial-plan")
    assert forbidden.status_code == 403
    validate_response(f"{DIAL_PLANS} 403", forbidden.json())
