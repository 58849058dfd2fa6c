"""`bot.backend.wxcc.mapping`: the JSON <-> port tables, with payload shapes from Cisco's OpenAPI
document and API-FACTS.md (copied here; tests never read the shared reference folder)."""

from __future__ import annotations

import pytest

from bot.backend.port import Availability, CallPreference, DNValidation, FailureReason, Role
from bot.backend.wxcc import mapping


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, FailureReason.BAD_REQUEST),
        (401, FailureReason.UNAUTHORIZED),
        (403, FailureReason.FORBIDDEN),
        (404, FailureReason.USER_NOT_FOUND),
        (429, FailureReason.RATE_LIMITED),
        (500, FailureReason.SERVICE_ERROR),
        (503, FailureReason.SERVICE_ERROR),
        (418, FailureReason.UNKNOWN),
    ],
)
def test_statuses(status: int, reason: FailureReason) -> None:
    assert mapping.reason_for_status(status) is reason


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("DUPLICATE_LOCATION", FailureReason.DUPLICATE_LOCATION),
        ("INVALID_DIAL_NUMBER", FailureReason.INVALID_DIAL_NUMBER),
        ("AGENT_NOT_FOUND", FailureReason.AGENT_NOT_FOUND),
        ("TEAM_NOT_ASSIGNED", FailureReason.TEAM_NOT_ASSIGNED),
        ("ROLE_NOT_PERMITTED", FailureReason.ROLE_NOT_PERMITTED),
        ("NUMBER_NOT_PROVISIONED", FailureReason.NUMBER_NOT_PROVISIONED),
        ("session_already_active", FailureReason.SESSION_ALREADY_ACTIVE),
        ("AGENT_MULTI_LOGIN", FailureReason.SESSION_ALREADY_ACTIVE),
        ("SOMETHING_NEW", FailureReason.UNKNOWN),
        (None, FailureReason.UNKNOWN),
    ],
)
def test_reasons(name: object, reason: FailureReason) -> None:
    assert mapping.reason_for_name(name) is reason


LOGIN_SUCCESS = {  # API-FACTS.md, "Login success fields"
    "type": "AgentStationLoginSuccess",
    "agentId": "ci-ava",
    "trackingId": "LOGINBOT-1",
    "agentSessionId": "s-1",
    "teamId": "t-1",
    "auxCodeId": "aux-break",
    "status": "LoggedIn",
    "subStatus": "Idle",
    "siteId": "site-sf",
    "roles": ["supervisor", "agent"],
    "dialNumber": "+14155550101",
    "deviceType": "AGENT_DN",
    "deviceId": "+14155550101",
    "channelsMap": {},
    "lastStateChangeTimestamp": 1,
}


def test_a_dial_number_session() -> None:
    session = mapping.station_session(LOGIN_SUCCESS)
    assert (session.agent_id, session.session_id, session.tracking_id) == ("ci-ava", "s-1", "LOGINBOT-1")
    assert session.role is Role.SUPERVISOR_AGENT
    assert session.call_preference is CallPreference.DIAL_NUMBER
    assert (session.dial_number, session.team_id) == ("+14155550101", "t-1")
    assert (session.state, session.idle_code) == (Availability.IDLE, "aux-break")


def test_a_browser_session_has_no_number_and_available_has_no_idle_code() -> None:
    data = {
        **LOGIN_SUCCESS,
        "deviceType": "BROWSER",
        "deviceId": "webrtc-ci-ava",
        "dialNumber": "webrtc-ci-ava",
        "subStatus": "Available",
        "auxCodeId": "0",
        "roles": ["supervisor"],
        "teamId": "",
    }
    session = mapping.station_session(data)
    assert (session.call_preference, session.dial_number, session.team_id) == (
        CallPreference.DESKTOP,
        "",
        None,
    )
    assert (session.state, session.idle_code, session.role) == (Availability.AVAILABLE, None, Role.SUPERVISOR)


USER = {  # UserResponseDTO fields, plus the simulator's vendor block
    "ciUserId": "ci-ava",
    "email": "ava.lead@example.com",
    "firstName": "Ava",
    "lastName": "Lead",
    "teamIds": ["t-1", "t-2"],
    "agentProfileId": "ap-1",
    "siteId": "site-sf",
    "deafultDialledNumber": "+14155550101",
    "contactCenterEnabled": True,
    "loginbotSimulator": {
        "allowedRoles": "both",
        "extensions": ["1001"],
        "dialNumbers": ["+14155550101"],
        "language": "en",
        "defaultRegion": "US",
        "admin": False,
        "skills": ["sales"],
    },
}
PROFILE = {
    "id": "ap-1",
    "loginVoiceOptions": ["BROWSER", "EXTENSION", "AGENT_DN"],
    "agentDNValidation": "SPECIFIC",
    "agentDNValidationCriterions": [r"\+1415.*"],
    "dialPlanEnabled": True,
    "dialPlans": ["dp-us"],
    "accessIdleCode": "SPECIFIC",
    "idleCodes": ["aux-lunch", "aux-break"],
}
TEAMS = [{"id": "t-1", "name": "Billing"}, {"id": "t-2", "name": "Sales"}, {"id": "t-9", "name": "Not hers"}]
PLANS = [
    {"id": "dp-us", "name": "US", "regularExpression": r"\+1\d{10}", "strippedChars": " ()-", "active": True}
]
CODES = [
    {"id": "aux-break", "name": "Break", "workTypeCode": "IDLE_CODE", "defaultCode": True, "active": True},
    {"id": "aux-lunch", "name": "Lunch", "workTypeCode": "IDLE_CODE", "defaultCode": False, "active": True},
    {
        "id": "aux-meeting",
        "name": "Meeting",
        "workTypeCode": "IDLE_CODE",
        "defaultCode": False,
        "active": True,
    },
    {"id": "wrap", "name": "Resolved", "workTypeCode": "WRAP_UP_CODE", "defaultCode": True, "active": True},
]


def test_a_profile_from_the_configuration_reads() -> None:
    me = {"id": "ci-ava", "emails": ["ava.lead@example.com"], "displayName": "Ava Lead", "orgId": "org"}
    profile = mapping.user_profile(
        me=me, user=USER, agent_profile=PROFILE, teams=TEAMS, dial_plans=PLANS, aux_codes=CODES
    )
    assert profile.user_id == "ci-ava" and profile.display_name == "Ava Lead"
    assert profile.roles == (Role.SUPERVISOR, Role.SUPERVISOR_AGENT)
    assert profile.call_options == (
        CallPreference.DESKTOP,
        CallPreference.EXTENSION,
        CallPreference.DIAL_NUMBER,
    )
    assert profile.dn_validation is DNValidation.SPECIFIC and profile.dn_criteria == (r"\+1415.*",)
    assert [t.name for t in profile.teams] == ["Billing", "Sales"], "only the user's own teams"
    assert [p.name for p in profile.dial_plans] == ["US"]
    assert {c.id for c in profile.idle_codes} == {"aux-break", "aux-lunch"}
    assert profile.default_dn == "+14155550101" and profile.extensions == ("1001",)
    assert profile.skills == ("sales",) and profile.language == "en"
    assert mapping.default_idle_code(PROFILE, CODES) == "aux-break"


def test_a_real_tenant_user_without_the_simulator_block() -> None:
    user = {k: v for k, v in USER.items() if k != "loginbotSimulator"}
    profile = mapping.user_profile(
        me={"id": "ci-ava"},
        user=user,
        agent_profile={"loginVoiceOptions": []},
        teams=[],
        dial_plans=[],
        aux_codes=[],
    )
    assert profile.roles == (Role.AGENT,) and profile.call_options == () and profile.dial_plans == ()
    assert profile.display_name == "Ava Lead"
