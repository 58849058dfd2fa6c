"""Translations between the Webex Contact Center's JSON and the port's types, in one place.

Why one module: the adapter's other modules speak HTTP and websockets; only this one knows which
field of which payload means what, so a change in the service's vocabulary touches one file. Every
function here is pure (no I/O), which keeps the tables testable on their own.

Tables (also in the adapter's report):

* HTTP status -> `FailureReason`: 400 BAD_REQUEST, 401 UNAUTHORIZED, 403 FORBIDDEN, 404 USER_NOT_FOUND
  (configuration reads), 429 RATE_LIMITED, 5xx SERVICE_ERROR, anything else UNKNOWN.
* notification `reason` -> `FailureReason`: every name the port defines maps to itself
  (DUPLICATE_LOCATION, INVALID_DIAL_NUMBER, AGENT_NOT_FOUND, and the simulator's TEAM_NOT_ASSIGNED,
  ROLE_NOT_PERMITTED, NUMBER_NOT_PROVISIONED, ...); a few spellings seen elsewhere are aliases;
  anything else is UNKNOWN (the desktop's generic "error while logging in").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.backend.port import (
    Availability,
    CallPreference,
    DialPlan,
    DNValidation,
    FailureReason,
    IdleCode,
    Role,
    StationSession,
    Team,
    UserProfile,
)

SIMULATOR_KEY = "loginbotSimulator"  # the simulator's vendor extension in the user object
AVAILABLE_AUX_CODE = "0"  # `auxCodeId` of the Available state

_STATUS_REASONS = {
    400: FailureReason.BAD_REQUEST,
    401: FailureReason.UNAUTHORIZED,
    403: FailureReason.FORBIDDEN,
    404: FailureReason.USER_NOT_FOUND,
    429: FailureReason.RATE_LIMITED,
}

_REASON_ALIASES = {
    "AGENT_MULTI_LOGIN": FailureReason.SESSION_ALREADY_ACTIVE,
    "AGENT_ALREADY_LOGGED_IN": FailureReason.SESSION_ALREADY_ACTIVE,
    "AGENT_NOT_LOGGED_IN": FailureReason.NOT_LOGGED_IN,
    "INVALID_DN": FailureReason.INVALID_DIAL_NUMBER,
    "INVALID_TEAM": FailureReason.TEAM_NOT_ASSIGNED,
    "INVALID_AUX_CODE": FailureReason.BAD_REQUEST,
}

_ROLE_SETS = {
    frozenset({"supervisor"}): Role.SUPERVISOR,
    frozenset({"supervisor", "agent"}): Role.SUPERVISOR_AGENT,
    frozenset({"agent"}): Role.AGENT,
}

_ALLOWED_ROLES = {
    "supervisor": (Role.SUPERVISOR,),
    "agent": (Role.AGENT,),
    "both": (Role.SUPERVISOR, Role.SUPERVISOR_AGENT),
}


def reason_for_status(status: int) -> FailureReason:
    if status >= 500:
        return FailureReason.SERVICE_ERROR
    return _STATUS_REASONS.get(status, FailureReason.UNKNOWN)


def reason_for_name(name: object) -> FailureReason:
    """A notification's `reason` string as a `FailureReason` (UNKNOWN for names the port lacks)."""
    text = str(name or "").strip().upper()
    if text in FailureReason.__members__:
        return FailureReason[text]
    return _REASON_ALIASES.get(text, FailureReason.UNKNOWN)


# -- configuration reads -> UserProfile ------------------------------------------------------------


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, Iterable) or isinstance(value, str | bytes):
        return ()
    return tuple(str(item) for item in value if item is not None and str(item) != "")


def _roles(user: Mapping[str, Any], extra: Mapping[str, Any]) -> tuple[Role, ...]:
    """The sign-in roles: the simulator says so; a real tenant's profile type hints at supervisors."""
    allowed = extra.get("allowedRoles")
    if isinstance(allowed, str) and allowed.lower() in _ALLOWED_ROLES:
        return _ALLOWED_ROLES[allowed.lower()]
    if isinstance(allowed, list):
        names = {str(name).lower() for name in allowed}
        if {"supervisor", "agent"} <= names:
            return _ALLOWED_ROLES["both"]
        if names:
            return _ALLOWED_ROLES["supervisor" if "supervisor" in names else "agent"]
    if "SUPERVISOR" in str(user.get("userProfileType", "")).upper():
        return _ALLOWED_ROLES["both"]
    return (Role.AGENT,)


def _call_options(agent_profile: Mapping[str, Any]) -> tuple[CallPreference, ...]:
    options = []
    for option in _strings(agent_profile.get("loginVoiceOptions")):
        try:
            options.append(CallPreference.from_device_type(option))
        except KeyError:
            continue
    return tuple(options)


def _dn_validation(agent_profile: Mapping[str, Any]) -> DNValidation:
    value = str(agent_profile.get("agentDNValidation") or "ALL").upper()
    return DNValidation(value) if value in DNValidation.__members__ else DNValidation.ALL


def _dial_plans(agent_profile: Mapping[str, Any], plans: Sequence[Mapping[str, Any]]) -> tuple[DialPlan, ...]:
    """The profile's dial plans, named by id or by name (the API's examples use names)."""
    if not agent_profile.get("dialPlanEnabled"):
        return ()
    chosen = []
    for ref in _strings(agent_profile.get("dialPlans")):
        plan = next((p for p in plans if p.get("id") == ref), None) or next(
            (p for p in plans if p.get("name") == ref), None
        )
        if plan is not None and plan.get("regularExpression"):
            chosen.append(
                DialPlan(
                    name=str(plan.get("name", "")),
                    regular_expression=str(plan["regularExpression"]),
                    prefix=str(plan.get("prefix") or ""),
                    stripped_chars=str(plan.get("strippedChars") or ""),
                    active=bool(plan.get("active", True)),
                )
            )
    return tuple(chosen)


def idle_codes_for(
    agent_profile: Mapping[str, Any], aux_codes: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The active IDLE_CODE auxiliary codes the profile lets the user pick (`accessIdleCode`)."""
    codes = [c for c in aux_codes if c.get("workTypeCode") == "IDLE_CODE" and c.get("active", True)]
    if str(agent_profile.get("accessIdleCode", "ALL")).upper() == "SPECIFIC":
        allowed = set(_strings(agent_profile.get("idleCodes")))
        codes = [c for c in codes if c.get("id") in allowed or c.get("name") in allowed]
    return codes


def default_idle_code(agent_profile: Mapping[str, Any], aux_codes: Sequence[Mapping[str, Any]]) -> str | None:
    """The code an Idle without a reason uses: the tenant's default, else the first one."""
    codes = idle_codes_for(agent_profile, aux_codes)
    chosen = next((c for c in codes if c.get("defaultCode")), codes[0] if codes else None)
    return str(chosen["id"]) if chosen is not None else None


def user_profile(
    *,
    me: Mapping[str, Any],
    user: Mapping[str, Any],
    agent_profile: Mapping[str, Any],
    teams: Sequence[Mapping[str, Any]],
    dial_plans: Sequence[Mapping[str, Any]],
    aux_codes: Sequence[Mapping[str, Any]],
) -> UserProfile:
    """Assemble the port's profile from `people/me` and the five configuration reads.

    Only the user's own teams count (`teamIds`), whatever the team listing returned.
    """
    extra = user.get(SIMULATOR_KEY) or {}
    if not isinstance(extra, Mapping):
        extra = {}
    team_ids = _strings(user.get("teamIds"))
    by_id = {str(t.get("id")): t for t in teams}
    names = f"{user.get('firstName') or ''} {user.get('lastName') or ''}".strip()
    emails = _strings(me.get("emails"))
    email = str(user.get("email") or (emails[0] if emails else ""))
    return UserProfile(
        user_id=str(user.get("ciUserId") or me.get("id")),
        email=email,
        display_name=str(extra.get("displayName") or me.get("displayName") or names or email),
        roles=_roles(user, extra),
        call_options=_call_options(agent_profile),
        extensions=_strings(extra.get("extensions")),
        dial_numbers=_strings(extra.get("dialNumbers")),
        default_dn=str(user["deafultDialledNumber"]) if user.get("deafultDialledNumber") else None,
        dn_validation=_dn_validation(agent_profile),
        dn_criteria=_strings(agent_profile.get("agentDNValidationCriterions")),
        dial_plans=_dial_plans(agent_profile, dial_plans),
        teams=tuple(Team(id=i, name=str(by_id[i].get("name", i))) for i in team_ids if i in by_id),
        idle_codes=tuple(
            IdleCode(id=str(c["id"]), name=str(c.get("name", c["id"])))
            for c in idle_codes_for(agent_profile, aux_codes)
        ),
        default_region=str(extra.get("defaultRegion") or "US"),
        language=str(extra["language"]) if extra.get("language") else None,
        is_admin=bool(extra.get("admin", False)),
        contact_center_enabled=bool(user.get("contactCenterEnabled", True)),
        site_id=str(user.get("siteId") or ""),
        skills=_strings(extra.get("skills")),
    )


# -- notifications -> StationSession --------------------------------------------------------------


def role_of(roles: object) -> Role:
    names = frozenset(name.lower() for name in _strings(roles))
    return _ROLE_SETS.get(names, Role.AGENT)


def station_session(data: Mapping[str, Any]) -> StationSession:
    """A login or relogin success payload as a session.

    Browser devices report `webrtc-<agentId>` as their number: the port's Desktop session has none.
    A digital-only user (no `loginVoiceOptions`) signs in as a browser device, which the port calls
    Desktop, as the in-process simulator does. The payload's own `trackingId` is the call that last
    changed the session.
    """
    device_type = str(data.get("deviceType") or "BROWSER")
    try:
        preference = CallPreference.from_device_type(device_type)
    except KeyError:
        preference = CallPreference.DESKTOP
    browser = preference is CallPreference.DESKTOP
    sub_status = str(data.get("subStatus") or data.get("status") or "Idle")
    state = Availability.AVAILABLE if sub_status.lower() == "available" else Availability.IDLE
    aux = str(data.get("auxCodeId") or "")
    interactions = data.get("interactionIds") or data.get("interactions")
    return StationSession(
        agent_id=str(data.get("agentId", "")),
        session_id=str(data.get("agentSessionId", "")),
        role=role_of(data.get("roles")),
        call_preference=preference,
        dial_number="" if browser else str(data.get("dialNumber") or ""),
        team_id=str(data.get("teamId") or "").strip() or None,
        state=state,
        idle_code=None if state is Availability.AVAILABLE or aux in ("", AVAILABLE_AUX_CODE) else aux,
        in_interaction=bool(data.get("inInteraction") or interactions),
        in_wrap_up=bool(data.get("inWrapUp") or data.get("wrapUpRequired") or data.get("isInWrapUp")),
        tracking_id=str(data.get("trackingId") or ""),
        state_since=_from_ms(data.get("lastStateChangeTimestamp")),
    )


def _from_ms(value: object) -> datetime | None:
    """An epoch in milliseconds, as the notifications carry times; None when absent or malformed."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return datetime.fromtimestamp(float(value) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return None
