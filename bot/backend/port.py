"""The `ContactCenter` port: what loginbot needs from a contact center, and nothing more.

Two adapters implement it: the embedded simulator (`bot.backend.simulator`) and the real Webex
Contact Center API (`bot.backend.wxcc`). The flow never sees either; the turn runner calls the port
and feeds the outcome back to the flow as an event.

Exception tree (mapped once at each adapter boundary)::

    ContactCenterError(reason, tracking_id, detail)
     ├── UnknownUser          the email matches no contact-center user
     ├── LoginFailed          station login refused (DUPLICATE_LOCATION, INVALID_DIAL_NUMBER, ...)
     ├── LogoutRefused        sign-out refused (ACTIVE_INTERACTION, WRAP_UP_IN_PROGRESS, NOT_LOGGED_IN)
     ├── StateChangeFailed    availability change refused
     ├── AuthorizationRequired  no usable token: the user must authorize loginbot in a browser (OAuth)
     └── BackendUnavailable   network, 5xx, 429, timeout: the outcome is an explained failure
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable


class Role(StrEnum):
    """The sign-in role, as the flow and the `role` entity name it."""

    SUPERVISOR = "supervisor"
    SUPERVISOR_AGENT = "supervisor_agent"
    AGENT = "agent"

    @property
    def api_roles(self) -> tuple[str, ...]:
        """The `roles` array of `POST /v1/agents/login`."""
        return {
            Role.SUPERVISOR: ("supervisor",),
            Role.SUPERVISOR_AGENT: ("supervisor", "agent"),
            Role.AGENT: ("agent",),
        }[self]

    @property
    def needs_team(self) -> bool:
        return self is not Role.SUPERVISOR


class CallPreference(StrEnum):
    """How the user handles calls ("Handle calls using"), with the API's device type."""

    DESKTOP = "desktop"
    EXTENSION = "extension"
    DIAL_NUMBER = "dial_number"

    @property
    def device_type(self) -> str:
        return {"desktop": "BROWSER", "extension": "EXTENSION", "dial_number": "AGENT_DN"}[self.value]

    @classmethod
    def from_device_type(cls, device_type: str) -> CallPreference:
        return {"BROWSER": cls.DESKTOP, "EXTENSION": cls.EXTENSION, "AGENT_DN": cls.DIAL_NUMBER}[device_type]


class DNValidation(StrEnum):
    """The desktop profile's `agentDNValidation`."""

    ALL = "ALL"  # any number that the dial plan accepts
    PROVISIONED_VALUE = "PROVISIONED_VALUE"  # only the default DN, read-only
    SPECIFIC = "SPECIFIC"  # must match one of `agentDNValidationCriterions`
    NONE = "NONE"  # no validation by the tenant


class Availability(StrEnum):
    AVAILABLE = "Available"
    IDLE = "Idle"


class FailureReason(StrEnum):
    """Why a contact-center call failed; the flow explains each one (S11, X3)."""

    DUPLICATE_LOCATION = "DUPLICATE_LOCATION"  # number or extension in use by another session
    INVALID_DIAL_NUMBER = "INVALID_DIAL_NUMBER"
    NUMBER_NOT_PROVISIONED = "NUMBER_NOT_PROVISIONED"  # not the user's provisioned / allowed number
    TEAM_NOT_ASSIGNED = "TEAM_NOT_ASSIGNED"
    TEAM_REQUIRED = "TEAM_REQUIRED"
    ROLE_NOT_PERMITTED = "ROLE_NOT_PERMITTED"
    DEVICE_NOT_PERMITTED = "DEVICE_NOT_PERMITTED"  # call option not in the profile's login options
    SESSION_ALREADY_ACTIVE = "SESSION_ALREADY_ACTIVE"  # AGENT_MULTI_LOGIN: signed in elsewhere
    ACTIVE_INTERACTION = "ACTIVE_INTERACTION"  # sign-out refused during a conversation
    WRAP_UP_IN_PROGRESS = "WRAP_UP_IN_PROGRESS"  # sign-out refused during wrap-up
    NOT_LOGGED_IN = "NOT_LOGGED_IN"
    AGENT_NOT_FOUND = "AGENT_NOT_FOUND"  # reload with no active session
    USER_NOT_FOUND = "USER_NOT_FOUND"
    CONTACT_CENTER_DISABLED = "CONTACT_CENTER_DISABLED"
    UNAUTHORIZED = "UNAUTHORIZED"  # 401: token invalid or expired
    AUTHORIZATION_REQUIRED = "AUTHORIZATION_REQUIRED"  # no token yet, or revoked: authorize in a browser
    FORBIDDEN = "FORBIDDEN"  # 403: missing scope
    RATE_LIMITED = "RATE_LIMITED"  # 429
    SERVICE_ERROR = "SERVICE_ERROR"  # 5xx
    BAD_REQUEST = "BAD_REQUEST"  # 400
    TIMEOUT = "TIMEOUT"  # no notification within the timeout
    CONNECTION_LOST = "CONNECTION_LOST"  # network error or websocket lost
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class DialPlan:
    """One of the tenant's dial plans (`/v2/dial-plan`)."""

    name: str
    regular_expression: str
    prefix: str = ""
    stripped_chars: str = ""
    active: bool = True


@dataclass(frozen=True)
class Team:
    id: str
    name: str


@dataclass(frozen=True)
class IdleCode:
    id: str
    name: str


@dataclass(frozen=True)
class UserProfile:
    """Everything the sign-in dialog needs to know about one user, read from the contact center."""

    user_id: str  # the CI user id
    email: str
    display_name: str
    roles: tuple[Role, ...]  # sign-in roles the user may pick; one entry means no Role question (S1)
    call_options: tuple[CallPreference, ...]  # `loginVoiceOptions`; empty = digital-only (S2)
    extensions: tuple[str, ...] = ()  # pre-validated extensions (S3)
    dial_numbers: tuple[str, ...] = ()  # pre-validated dial numbers, E.164 (S4)
    default_dn: str | None = None  # the administrator's default DN (S8)
    dn_validation: DNValidation = DNValidation.ALL
    dn_criteria: tuple[str, ...] = ()  # regular expressions, for DNValidation.SPECIFIC
    dial_plans: tuple[DialPlan, ...] = ()
    teams: tuple[Team, ...] = ()
    idle_codes: tuple[IdleCode, ...] = ()
    default_region: str = "US"  # ISO 3166 region for national numbers
    language: str | None = None  # the user's preferred language, when the tenant knows it
    is_admin: bool = False
    contact_center_enabled: bool = True
    site_id: str = ""
    skills: tuple[str, ...] = ()

    @property
    def allows_other_numbers(self) -> bool:
        """Whether the user may type a dial number that is not in `dial_numbers` (S4)."""
        return self.dn_validation is not DNValidation.PROVISIONED_VALUE

    def team(self, team_id: str | None) -> Team | None:
        return next((t for t in self.teams if t.id == team_id), None)


@dataclass(frozen=True)
class LoginRequest:
    """The body of `POST /v1/agents/login`, in Python names."""

    role: Role
    call_preference: CallPreference | None  # None: a digital-only user, who has no telephony (S2)
    dial_number: str  # E.164 number, extension, or "" for Desktop and digital-only
    team_id: str | None

    @property
    def is_extension(self) -> bool:
        return self.call_preference is CallPreference.EXTENSION

    @property
    def device_type(self) -> str:
        # A digital-only station has no phone: the desktop signs it in as a browser device.
        return (self.call_preference or CallPreference.DESKTOP).device_type

    def api_body(self, agent_id: str) -> dict[str, object]:
        """The JSON body exactly as the API defines it."""
        browser = self.call_preference in (CallPreference.DESKTOP, None)
        device_id = f"webrtc-{agent_id}" if browser else self.dial_number
        return {
            "dialNumber": device_id if browser else self.dial_number,
            "teamId": self.team_id or "",
            "isExtension": self.is_extension,
            "roles": list(self.role.api_roles),
            "deviceType": self.device_type,
            "deviceId": device_id,
        }


@dataclass(frozen=True)
class StationSession:
    """A station session as the contact center reports it."""

    agent_id: str
    session_id: str
    role: Role
    call_preference: CallPreference | None  # None for a digital-only station
    dial_number: str
    team_id: str | None
    state: Availability = Availability.IDLE
    idle_code: str | None = None
    in_interaction: bool = False
    in_wrap_up: bool = False
    tracking_id: str = ""
    state_since: datetime | None = None  # when the state last changed (the contact center's own clock)


@dataclass(frozen=True)
class Outcome:
    """A successful runtime call: its tracking id, and the session as it now stands (None after logout)."""

    tracking_id: str
    session: StationSession | None = None


class ContactCenterError(Exception):
    def __init__(self, reason: FailureReason, tracking_id: str = "", detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.tracking_id = tracking_id
        self.detail = detail


class UnknownUser(ContactCenterError):
    def __init__(self, email: str, tracking_id: str = "") -> None:
        super().__init__(FailureReason.USER_NOT_FOUND, tracking_id, "no contact-center user for this email")
        self.email = email


class LoginFailed(ContactCenterError):
    pass


class LogoutRefused(ContactCenterError):
    pass


class StateChangeFailed(ContactCenterError):
    pass


class BackendUnavailable(ContactCenterError):
    pass


class AuthorizationRequired(ContactCenterError):
    """The user has no usable token (none yet, expired beyond refresh, revoked): they must open
    `authorize_url` and consent; the OAuth callback then stores their tokens."""

    def __init__(self, authorize_url: str, tracking_id: str = "") -> None:
        super().__init__(FailureReason.AUTHORIZATION_REQUIRED, tracking_id, "authorization required")
        self.authorize_url = authorize_url


@dataclass
class Notification:
    """An unsolicited notification (today only AGENT_MULTI_LOGIN) for the flow (S12)."""

    kind: str  # the service's type, e.g. "AGENT_MULTI_LOGIN"
    user_id: str
    email: str = ""
    tracking_id: str = ""
    data: dict[str, object] = field(default_factory=dict)


NotificationListener = Callable[[Notification], None]


@runtime_checkable
class ContactCenter(Protocol):
    """The port. Every call is async because the real adapter waits on HTTP and a websocket."""

    async def get_profile(self, email: str) -> UserProfile:
        """The user's profile; raises `UnknownUser`, or `BackendUnavailable`."""
        ...

    async def get_session(self, user: UserProfile) -> StationSession | None:
        """The user's active station session, if any (the real API's `reload`)."""
        ...

    async def station_login(
        self, user: UserProfile, request: LoginRequest, *, take_over: bool = False
    ) -> Outcome:
        """Sign the station in; raises `LoginFailed` with the reason and the service's tracking id.

        With `take_over`, an existing session of the same user elsewhere is closed first (S12,
        "Continue here"); without it, an existing session fails with SESSION_ALREADY_ACTIVE.
        """
        ...

    async def take_over(self, user: UserProfile) -> Outcome:
        """Move the user's existing session here without changing it (S12)."""
        ...

    async def set_state(
        self, user: UserProfile, state: Availability, idle_code_id: str | None = None
    ) -> Outcome:
        """Change availability; raises `StateChangeFailed`."""
        ...

    async def logout(self, user: UserProfile, reason: str = "Signed out from loginbot") -> Outcome:
        """Sign the station out; raises `LogoutRefused` during an interaction or wrap-up (S13)."""
        ...

    def add_listener(self, listener: NotificationListener) -> None:
        """Call `listener` with each unsolicited notification, such as AGENT_MULTI_LOGIN (S12)."""
        ...

    async def aclose(self) -> None: ...
