"""The notification websocket's messages, shaped as the real service sends them (API-FACTS.md).

Every result is `{"type": <outer>, "orgId", "trackingId", "data": {"type": <result>, ...}}`:

| request | outer `type` | `data.type` |
|---|---|---|
| login | `StationLogin` | `AgentStationLoginSuccess` / `AgentStationLoginFailed` |
| logout | `Logout` | `AgentLogoutSuccess` / `AgentLogoutFailed` |
| state | `AgentStateChange` | `AgentStateChangeSuccess` / `AgentStateChangeFailed` |
| reload | `AgentDesktopMessage` (*) | `AgentReloginSuccess` / `AgentReloginFailed` |
| take-over | `AGENT_MULTI_LOGIN` | `AgentMultiLoginCloseSession` |

(*) a simulator choice: no public source names the reload's outer type; the SDK's relogin
payload says `eventType: AgentDesktopMessage`.

Failures carry `{agentId, trackingId, reasonCode, orgId, reason}`: `reason` is the simulator's
`FailureReason` name (DUPLICATE_LOCATION, ...) and `reasonCode` a number from `REASON_CODES`
(no public list of Cisco's codes exists; these are the simulator's own).

Session payloads add, besides the documented login fields, what the official SDK's relogin type
shows (`dn`, `interactionIds`, `isExtension`, `profileType`, `lastIdleCodeChangeTimestamp`,
`eventType: AgentDesktopMessage`). A session in wrap-up says `wrapUpRequired: true` (simulator
addition); an interaction shows as one id in `interactionIds`. In a relogin, the envelope's
`trackingId` is the reload request's, while `data.trackingId` is the tracking id of the call that
last changed the session ("" for a session the tenant file opened): that is how a client tells
whether the session it finds is the one its own, unanswered, login created.
"""

from __future__ import annotations

import time
from typing import Any

from bot.backend.port import Availability, CallPreference, FailureReason, StationSession

Message = dict[str, Any]
AVAILABLE_AUX_CODE = "0"
EVENT_TYPE = "AgentDesktopMessage"

REASON_CODES: dict[FailureReason, int] = {
    FailureReason.DUPLICATE_LOCATION: 1001,
    FailureReason.INVALID_DIAL_NUMBER: 1002,
    FailureReason.NUMBER_NOT_PROVISIONED: 1003,
    FailureReason.TEAM_NOT_ASSIGNED: 1004,
    FailureReason.TEAM_REQUIRED: 1005,
    FailureReason.ROLE_NOT_PERMITTED: 1006,
    FailureReason.DEVICE_NOT_PERMITTED: 1007,
    FailureReason.SESSION_ALREADY_ACTIVE: 1008,
    FailureReason.ACTIVE_INTERACTION: 1009,
    FailureReason.WRAP_UP_IN_PROGRESS: 1010,
    FailureReason.NOT_LOGGED_IN: 1011,
    FailureReason.AGENT_NOT_FOUND: 1012,
    FailureReason.USER_NOT_FOUND: 1013,
    FailureReason.CONTACT_CENTER_DISABLED: 1014,
    FailureReason.BAD_REQUEST: 1015,
}
UNKNOWN_REASON_CODE = 1999

OUTER = {"login": "StationLogin", "logout": "Logout", "state": "AgentStateChange", "reload": EVENT_TYPE}
RESULT = {
    "login": ("AgentStationLoginSuccess", "AgentStationLoginFailed"),
    "logout": ("AgentLogoutSuccess", "AgentLogoutFailed"),
    "state": ("AgentStateChangeSuccess", "AgentStateChangeFailed"),
    "reload": ("AgentReloginSuccess", "AgentReloginFailed"),
}


def now_ms() -> int:
    return int(time.time() * 1000)


def welcome(agent_id: str) -> Message:
    return {"type": "Welcome", "data": {"agentId": agent_id}}


def envelope(outer: str, org_id: str, tracking_id: str, data: Message) -> Message:
    return {"type": outer, "orgId": org_id, "trackingId": tracking_id, "data": data}


def failure(call: str, *, agent_id: str, org_id: str, tracking_id: str, reason: FailureReason) -> Message:
    data = {
        "eventType": EVENT_TYPE,
        "type": RESULT[call][1],
        "agentId": agent_id,
        "trackingId": tracking_id,
        "reasonCode": REASON_CODES.get(reason, UNKNOWN_REASON_CODE),
        "orgId": org_id,
        "reason": reason.value,
    }
    return envelope(OUTER[call], org_id, tracking_id, data)


def device_of(session: StationSession) -> tuple[str, str]:
    """(deviceType, deviceId): browser devices are `webrtc-<agentId>`, phones their number."""
    if session.call_preference in (CallPreference.DESKTOP, None):
        return "BROWSER", f"webrtc-{session.agent_id}"
    return session.call_preference.device_type, session.dial_number


def aux_code(session: StationSession) -> str:
    if session.state is Availability.AVAILABLE:
        return AVAILABLE_AUX_CODE
    return session.idle_code or AVAILABLE_AUX_CODE


def session_success(
    call: str,
    session: StationSession,
    *,
    org_id: str,
    tracking_id: str,
    site_id: str,
    profile_type: str,
) -> Message:
    """Login or relogin success: the full session."""
    device_type, device_id = device_of(session)
    channels: dict[str, list[str]] = {"chat": [], "email": [], "social": []}
    if session.call_preference is not None:
        channels["telephony"] = []
    stamp = int(session.state_since.timestamp() * 1000) if session.state_since else now_ms()
    data: Message = {
        "eventType": EVENT_TYPE,
        "type": RESULT[call][0],
        "agentId": session.agent_id,
        "trackingId": session.tracking_id if call == "reload" else tracking_id,
        "agentSessionId": session.session_id,
        "teamId": session.team_id or "",
        "auxCodeId": aux_code(session),
        "status": "LoggedIn",
        "subStatus": session.state.value,
        "siteId": site_id,
        "roles": list(session.role.api_roles),
        "dialNumber": device_id,
        "dn": device_id,
        "deviceType": device_type,
        "deviceId": device_id,
        "isExtension": session.call_preference is CallPreference.EXTENSION,
        "channelsMap": channels,
        "orgId": org_id,
        "profileType": profile_type,
        "interactionIds": [f"interaction-{session.session_id}"] if session.in_interaction else [],
        "lastStateChangeTimestamp": stamp,
        "lastIdleCodeChangeTimestamp": stamp,
    }
    if session.in_wrap_up:
        data["wrapUpRequired"] = True
    return envelope(OUTER[call], org_id, tracking_id, data)


def state_success(
    session: StationSession, *, org_id: str, tracking_id: str, reason: str | None, changed_by: str
) -> Message:
    stamp = now_ms()
    data: Message = {
        "eventType": EVENT_TYPE,
        "type": RESULT["state"][0],
        "agentId": session.agent_id,
        "trackingId": tracking_id,
        "auxCodeId": aux_code(session),
        "agentSessionId": session.session_id,
        "orgId": org_id,
        "status": "LoggedIn",
        "subStatus": session.state.value,
        "lastStateChangeReason": reason or "",
        "lastIdleCodeChangeTimestamp": stamp,
        "lastStateChangeTimestamp": stamp,
        "changedBy": changed_by,
        "changedById": session.agent_id,
        "changedByName": changed_by,
    }
    return envelope(OUTER["state"], org_id, tracking_id, data)


def logout_success(
    session: StationSession, *, org_id: str, tracking_id: str, logged_out_by: str | None
) -> Message:
    data: Message = {
        "eventType": EVENT_TYPE,
        "type": RESULT["logout"][0],
        "agentId": session.agent_id,
        "trackingId": tracking_id,
        "agentSessionId": session.session_id,
        "orgId": org_id,
        "status": "LoggedOut",
        "subStatus": "",
        "roles": list(session.role.api_roles),
    }
    if logged_out_by:
        data["loggedOutBy"] = logged_out_by
    return envelope(OUTER["logout"], org_id, tracking_id, data)


def multi_login(*, agent_id: str, org_id: str, tracking_id: str) -> Message:
    data = {
        "eventType": EVENT_TYPE,
        "type": "AgentMultiLoginCloseSession",
        "agentId": agent_id,
        "trackingId": tracking_id,
        "orgId": org_id,
    }
    return envelope("AGENT_MULTI_LOGIN", org_id, tracking_id, data)
