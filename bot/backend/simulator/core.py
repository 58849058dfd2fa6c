"""`SimulatorCore`: the simulated contact-center service, with no transport at all.

Why a synchronous core behind one lock: the same core is driven in-process by `SimulatorBackend`
(the async port), and later by an HTTP + websocket server that mimics the real REST API, whose
request handlers may run on several threads. Keeping rules and state here, free of asyncio and
HTTP, lets both front ends share one behaviour; one re-entrant lock makes every call atomic.

The core behaves like the real service (see API-FACTS.md): it validates a station login against
its own tenant configuration (never against what the caller believes the profile is), refuses a
second session per user unless asked to take it over, refuses sign-out during an interaction or a
wrap-up, and gives every call a tracking id (the caller's `TrackingId` when it sends one).

Choices where the real service leaves room:

* A new session starts **Idle** with the tenant's default idle code, as the real desktop does.
* A digital-only profile (empty `loginVoiceOptions`) signs in with the Desktop (BROWSER) device and
  no number: the port has no "no telephony" call preference.
* Desktop sessions have `dial_number == ""`; the HTTP front end maps the real `webrtc-<agentId>`.
* Numbers are compared and stored in a canonical form (spaces, dots, dashes and brackets removed).
* `session.tracking_id` is the tracking id of the call that last changed the session.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from bot.backend.dialplan import matches_criteria, matches_dial_plan
from bot.backend.port import (
    Availability,
    BackendUnavailable,
    CallPreference,
    ContactCenterError,
    DNValidation,
    FailureReason,
    LoginFailed,
    LoginRequest,
    LogoutRefused,
    Outcome,
    StateChangeFailed,
    StationSession,
    UnknownUser,
    UserProfile,
)
from bot.backend.simulator.state_file import SimEvent, load_state, save_state
from bot.backend.simulator.tenant import TeamsAuthStatus, Tenant, UserConfig

log = logging.getLogger(__name__)

T = TypeVar("T")
Listener = Callable[[SimEvent], None]

MAX_EVENTS = 500  # enough for a troubleshooting session, small enough to rewrite on every change
MAX_DIAL_NUMBER = 43  # `dialNumber` maxLength in POST /v1/agents/login
MAX_LOGOUT_REASON = 128  # `logoutReason` maxLength in PUT /v1/agents/logout
_PUNCTUATION = str.maketrans("", "", " \t()-./")


def new_tracking_id() -> str:
    """The form the real client sends in its `TrackingId` header."""
    return f"LOGINBOT-{uuid.uuid4()}"


def canonical_number(number: str) -> str:
    """The number without the punctuation people paste (the desktop keeps `+` and digits)."""
    return number.strip().translate(_PUNCTUATION)


def mask_number(number: str) -> str:
    """Numbers in logs and in the event log show only their last digits (X4)."""
    if len(number) <= 4:
        return "*" * len(number)
    return f"{'*' * (len(number) - 4)}{number[-4:]}"


class SimulatorCore:
    """The live simulated service: a tenant plus station sessions and an event log."""

    def __init__(self, tenant: Tenant, state_path: Path | None = None) -> None:
        self._tenant = tenant
        self._state_path = state_path
        self._lock = threading.RLock()
        self._sessions: dict[str, StationSession] = {}  # by agent id (the CI user id)
        self._events: deque[SimEvent] = deque(maxlen=MAX_EVENTS)
        self._pending: list[SimEvent] = []  # recorded in this call, published after the lock
        self._listeners: list[Listener] = []
        self._outage = False  # T2 demo switch: every API call fails as a 5xx would
        self._teams_auth: dict[str, TeamsAuthStatus | None] = {}  # T6 overrides, by CI user id
        saved = load_state(state_path) if state_path is not None else None
        if saved is None:
            self._sessions = self._initial_sessions()
        else:
            self._sessions = self._known_sessions(saved.sessions)
            self._events.extend(saved.events)

    @property
    def tenant(self) -> Tenant:
        return self._tenant

    # -- configuration reads -------------------------------------------------------------------------

    def profile(self, email: str, *, tracking_id: str | None = None) -> UserProfile:
        """The user's profile as the configuration API describes it; `UnknownUser` otherwise."""
        self._refuse_during_outage(tracking_id)
        return self._tenant.user_profile(self._user(email, tracking_id or new_tracking_id()))

    # -- runtime calls -------------------------------------------------------------------------------

    def session(self, email: str) -> StationSession | None:
        """The user's active session (the real `reload`), or None."""
        self._refuse_during_outage(None)
        with self._lock:
            user = self._user(email, new_tracking_id())
            return self._sessions.get(user.ci_user_id)

    def station_login(
        self, email: str, request: LoginRequest, *, take_over: bool = False, tracking_id: str | None = None
    ) -> Outcome:
        """`POST /v1/agents/login`: validate in the documented order, then open the session."""
        self._refuse_during_outage(tracking_id)

        def login(tid: str) -> Outcome:
            user = self._user(email, tid)
            profile = self._tenant.user_profile(user)
            detail = _describe(request)
            try:
                number = self._check_login(profile, request, tid)
                if number:
                    self._check_location_free(profile, number, tid)
                existing = self._sessions.get(profile.user_id)
                if existing is not None and not take_over:
                    raise LoginFailed(
                        FailureReason.SESSION_ALREADY_ACTIVE, tid, "the user is signed in elsewhere"
                    )
            except LoginFailed as error:
                self._record("StationLogin", user, tid, ok=False, reason=error.reason, detail=detail)
                raise
            if existing is not None:
                self._record("AGENT_MULTI_LOGIN", user, tid, ok=True, detail="previous session closed")
            session = self._new_session(user, request, number, tid)
            self._sessions[user.ci_user_id] = session
            self._record("StationLogin", user, tid, ok=True, detail=detail)
            return Outcome(tracking_id=tid, session=session)

        return self._call(tracking_id, login)

    def take_over(self, email: str, *, tracking_id: str | None = None) -> Outcome:
        """ "Continue here" (S12): the existing session is held here, unchanged; the other place is closed."""
        self._refuse_during_outage(tracking_id)

        def move(tid: str) -> Outcome:
            user = self._user(email, tid)
            session = self._sessions.get(user.ci_user_id)
            if session is None:
                self._record("TakeOver", user, tid, ok=False, reason=FailureReason.NOT_LOGGED_IN)
                raise LoginFailed(FailureReason.NOT_LOGGED_IN, tid, "no session to take over")
            self._record("AGENT_MULTI_LOGIN", user, tid, ok=True, detail="session continued elsewhere")
            self._record("TakeOver", user, tid, ok=True)
            return Outcome(tracking_id=tid, session=session)

        return self._call(tracking_id, move)

    def set_state(
        self,
        email: str,
        state: Availability,
        idle_code_id: str | None = None,
        *,
        tracking_id: str | None = None,
    ) -> Outcome:
        """`PUT /v1/agents/session/state`: Available, or Idle with an idle code (the default when None)."""
        self._refuse_during_outage(tracking_id)

        def change(tid: str) -> Outcome:
            user = self._user(email, tid)
            session = self._sessions.get(user.ci_user_id)
            detail = f"{state.value} {idle_code_id or ''}".strip()
            try:
                if session is None:
                    raise StateChangeFailed(FailureReason.NOT_LOGGED_IN, tid, "no station session")
                code = None if state is Availability.AVAILABLE else self._idle_code(user, idle_code_id, tid)
            except StateChangeFailed as error:
                self._record("AgentStateChange", user, tid, ok=False, reason=error.reason, detail=detail)
                raise
            session = replace(session, state=state, idle_code=code, tracking_id=tid, state_since=_now())
            self._sessions[user.ci_user_id] = session
            self._record("AgentStateChange", user, tid, ok=True, detail=f"{state.value} {code or ''}".strip())
            return Outcome(tracking_id=tid, session=session)

        return self._call(tracking_id, change)

    def logout(
        self, email: str, reason: str = "Signed out from loginbot", *, tracking_id: str | None = None
    ) -> Outcome:
        """`PUT /v1/agents/logout`: refused during an interaction or a wrap-up (S13)."""
        self._refuse_during_outage(tracking_id)

        def sign_out(tid: str) -> Outcome:
            user = self._user(email, tid)
            session = self._sessions.get(user.ci_user_id)
            try:
                if len(reason) > MAX_LOGOUT_REASON:
                    raise LogoutRefused(FailureReason.BAD_REQUEST, tid, "logoutReason is over 128 characters")
                if session is None:
                    raise LogoutRefused(FailureReason.NOT_LOGGED_IN, tid, "no station session")
                if session.in_interaction:
                    raise LogoutRefused(FailureReason.ACTIVE_INTERACTION, tid, "an interaction is active")
                if session.in_wrap_up:
                    raise LogoutRefused(FailureReason.WRAP_UP_IN_PROGRESS, tid, "a wrap-up is in progress")
            except LogoutRefused as error:
                self._record("Logout", user, tid, ok=False, reason=error.reason)
                raise
            del self._sessions[user.ci_user_id]
            self._record("Logout", user, tid, ok=True, detail=reason[:MAX_LOGOUT_REASON])
            return Outcome(tracking_id=tid, session=None)

        return self._call(tracking_id, sign_out)

    # -- test and demo hooks (no real API equivalent: a customer does this) ---------------------------

    def start_interaction(self, email: str) -> StationSession:
        """A customer contact reaches the user: sign-out is refused until it ends."""
        return self._flag(email, "Interaction", in_interaction=True, in_wrap_up=False)

    def start_wrap_up(self, email: str) -> StationSession:
        """The conversation ended and wrap-up began: sign-out is still refused."""
        return self._flag(email, "WrapUp", in_interaction=False, in_wrap_up=True)

    def end_interaction(self, email: str) -> StationSession:
        """Interaction and wrap-up are over: the user may sign out."""
        return self._flag(email, "InteractionEnded", in_interaction=False, in_wrap_up=False)

    def reset(self) -> None:
        """Back to the tenant file's initial sessions, with an empty event log."""

        def restart(tid: str) -> None:
            self._sessions = self._initial_sessions()
            self._events.clear()

        self._call(None, restart)

    def set_outage(self, on: bool) -> None:
        """Switch a simulated API outage on or off (T2): while on, every configuration read and
        runtime call fails with `BackendUnavailable(SERVICE_ERROR)`, as a 5xx from the real service.
        Kept in memory only, never in the state file: a restart ends the outage."""
        with self._lock:
            self._outage = on
        log.warning("simulated API outage %s", "on" if on else "off")

    @property
    def outage(self) -> bool:
        with self._lock:
            return self._outage

    def set_teams_auth_status(self, email: str, status: TeamsAuthStatus | None) -> None:
        """Demo hook (T6): the user retried Microsoft Teams authentication (or it broke again)."""
        with self._lock:
            user = self._user(email, new_tracking_id())
            self._teams_auth[user.ci_user_id] = status

    def _refuse_during_outage(self, tracking_id: str | None) -> None:
        if self.outage:
            raise BackendUnavailable(
                FailureReason.SERVICE_ERROR, tracking_id or new_tracking_id(), "simulated API outage"
            )

    # -- troubleshooting reads -----------------------------------------------------------------------

    def teams_auth_status(self, email: str) -> TeamsAuthStatus | None:
        """The user's Microsoft Teams authentication status (T6); None when the tenant reports none."""
        with self._lock:
            user = self._user(email, new_tracking_id())
            if user.ci_user_id in self._teams_auth:
                return self._teams_auth[user.ci_user_id]
            return user.simulator.teams_auth_status

    def sessions(self) -> list[StationSession]:
        with self._lock:
            return list(self._sessions.values())

    def location_in_use(self, number: str, *, except_email: str | None = None) -> bool:
        """Whether another user's session uses this number or extension (T8: "is it still free?")."""
        wanted = canonical_number(number)
        excluded = self._tenant.user_by_email(except_email) if except_email else None
        with self._lock:
            return any(
                s.dial_number and s.dial_number == wanted
                for s in self._sessions.values()
                if excluded is None or s.agent_id != excluded.ci_user_id
            )

    def events(self, email: str | None = None) -> list[SimEvent]:
        """The event log, oldest first; only one user's entries when `email` is given."""
        with self._lock:
            events = list(self._events)
        if email is None:
            return events
        wanted = email.strip().lower()
        return [event for event in events if event.email.lower() == wanted]

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with each new event (the HTTP front end pushes them on websockets).

        Listeners run after the lock is released, so they may call back into the core.
        Returns the function that unsubscribes.
        """
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    # -- validation ------------------------------------------------------------------------------

    def _check_login(self, profile: UserProfile, request: LoginRequest, tid: str) -> str:
        """Every rule that depends on the user alone; returns the canonical number ("" for Desktop)."""
        if not profile.contact_center_enabled:
            raise LoginFailed(FailureReason.CONTACT_CENTER_DISABLED, tid, "contact center not enabled")
        if request.role not in profile.roles:
            raise LoginFailed(FailureReason.ROLE_NOT_PERMITTED, tid, f"role {request.role.value} not allowed")
        preference = request.call_preference
        # The service sees a device type, not our enum: a digital-only station is a BROWSER device.
        digital_only = not profile.call_options and request.device_type == "BROWSER"
        if preference not in profile.call_options and not digital_only:
            raise LoginFailed(FailureReason.DEVICE_NOT_PERMITTED, tid, f"{request.device_type} not allowed")
        browser = preference in (CallPreference.DESKTOP, None)
        number = "" if browser else canonical_number(request.dial_number)
        if preference is CallPreference.EXTENSION and number not in profile.extensions:
            raise LoginFailed(FailureReason.INVALID_DIAL_NUMBER, tid, "not one of the user's extensions")
        if preference is CallPreference.DIAL_NUMBER:
            self._check_dial_number(profile, request.dial_number, number, tid)
        team_id = (request.team_id or "").strip() or None
        if request.role.needs_team and team_id is None:
            raise LoginFailed(FailureReason.TEAM_REQUIRED, tid, "a team is required for the agent role")
        if team_id is not None and profile.team(team_id) is None:
            raise LoginFailed(FailureReason.TEAM_NOT_ASSIGNED, tid, "team not assigned to the user")
        return number

    @staticmethod
    def _check_dial_number(profile: UserProfile, raw: str, number: str, tid: str) -> None:
        if not number or len(number) > MAX_DIAL_NUMBER or not matches_dial_plan(raw, profile.dial_plans):
            raise LoginFailed(FailureReason.INVALID_DIAL_NUMBER, tid, "rejected by the dial plan")
        validation = profile.dn_validation
        default = canonical_number(profile.default_dn or "")
        if validation is DNValidation.PROVISIONED_VALUE and number != default:
            raise LoginFailed(FailureReason.NUMBER_NOT_PROVISIONED, tid, "only the provisioned number")
        if validation is DNValidation.SPECIFIC and not matches_criteria(number, profile.dn_criteria):
            raise LoginFailed(FailureReason.NUMBER_NOT_PROVISIONED, tid, "no validation criterion matches")

    def _check_location_free(self, profile: UserProfile, number: str, tid: str) -> None:
        for session in self._sessions.values():
            if session.agent_id != profile.user_id and session.dial_number == number:
                raise LoginFailed(FailureReason.DUPLICATE_LOCATION, tid, "number in use by another session")

    def _idle_code(self, user: UserConfig, idle_code_id: str | None, tid: str) -> str | None:
        profile = self._tenant.profile_of(user)
        if idle_code_id is None or idle_code_id == "0":
            default = self._tenant.default_idle_code(profile)
            return default.id if default is not None else None
        if idle_code_id not in {code.id for code in self._tenant.idle_codes_for(profile)}:
            raise StateChangeFailed(FailureReason.BAD_REQUEST, tid, f"unknown idle code {idle_code_id!r}")
        return idle_code_id

    # -- state ---------------------------------------------------------------------------------

    def _user(self, email: str, tid: str) -> UserConfig:
        user = self._tenant.user_by_email(email)
        if user is None:
            raise UnknownUser(email, tid)
        return user

    def _new_session(self, user: UserConfig, request: LoginRequest, number: str, tid: str) -> StationSession:
        default = self._tenant.default_idle_code(self._tenant.profile_of(user))
        return StationSession(
            agent_id=user.ci_user_id,
            session_id=str(uuid.uuid4()),
            role=request.role,
            call_preference=request.call_preference,
            dial_number=number,
            team_id=(request.team_id or "").strip() or None,
            state=Availability.IDLE,
            idle_code=default.id if default is not None else None,
            tracking_id=tid,
            state_since=_now(),
        )

    def _initial_sessions(self) -> dict[str, StationSession]:
        sessions: dict[str, StationSession] = {}
        for user in self._tenant.users:
            initial = user.simulator.session
            if initial is None:
                continue
            default = self._tenant.default_idle_code(self._tenant.profile_of(user))
            idle_code = initial.idle_code or (default.id if default is not None else None)
            browser = initial.call_preference is CallPreference.DESKTOP
            sessions[user.ci_user_id] = StationSession(
                agent_id=user.ci_user_id,
                session_id=f"initial-{user.ci_user_id}",
                role=initial.role,
                call_preference=initial.call_preference,
                dial_number="" if browser else canonical_number(initial.dial_number),
                team_id=initial.team_id,
                state=initial.state,
                idle_code=None if initial.state is Availability.AVAILABLE else idle_code,
                in_interaction=initial.in_interaction,
                in_wrap_up=initial.in_wrap_up,
                state_since=_now(),
            )
        return sessions

    def _known_sessions(self, saved: list[StationSession]) -> dict[str, StationSession]:
        sessions: dict[str, StationSession] = {}
        for session in saved:
            if self._tenant.user_by_id(session.agent_id) is None:
                log.warning("dropping a saved session of %s: no such user in the tenant", session.agent_id)
                continue
            sessions[session.agent_id] = session
        return sessions

    def _flag(self, email: str, kind: str, *, in_interaction: bool, in_wrap_up: bool) -> StationSession:
        def update(tid: str) -> StationSession:
            user = self._user(email, tid)
            session = self._sessions.get(user.ci_user_id)
            if session is None:
                raise ContactCenterError(FailureReason.NOT_LOGGED_IN, tid, "no station session")
            session = replace(session, in_interaction=in_interaction, in_wrap_up=in_wrap_up)
            self._sessions[user.ci_user_id] = session
            self._record(kind, user, tid, ok=True)
            return session

        return self._call(None, update)

    def _record(
        self,
        kind: str,
        user: UserConfig,
        tid: str,
        *,
        ok: bool,
        reason: FailureReason | None = None,
        detail: str = "",
    ) -> None:
        event = SimEvent(
            at=datetime.now(UTC),
            kind=kind,
            email=user.email,
            agent_id=user.ci_user_id,
            tracking_id=tid,
            ok=ok,
            reason=reason.value if reason is not None else None,
            detail=detail,
        )
        self._events.append(event)
        self._pending.append(event)
        log.info("%s %s %s %s %s", kind, "ok" if ok else reason, user.ci_user_id, tid, detail)

    def _call(self, tracking_id: str | None, action: Callable[[str], T]) -> T:
        """Run one call atomically: pick its tracking id, save the state, then publish its events."""
        tid = tracking_id or new_tracking_id()
        published: list[SimEvent] = []
        try:
            with self._lock:
                self._pending = []
                try:
                    return action(tid)
                finally:
                    if self._state_path is not None:
                        save_state(self._state_path, list(self._sessions.values()), list(self._events))
                    published, self._pending = self._pending, []
        finally:
            self._publish(published)  # outside the lock: a listener may call back into the core

    def _publish(self, events: list[SimEvent]) -> None:
        if not events:
            return
        listeners = list(self._listeners)
        for event in events:
            for listener in listeners:
                try:
                    listener(event)
                except Exception:
                    log.exception("a simulator event listener failed")


def _describe(request: LoginRequest) -> str:
    """The event-log detail of a login request, with the number masked (X4)."""
    number = mask_number(canonical_number(request.dial_number)) if request.dial_number else "-"
    return f"{request.role.value} {request.device_type} {number} team={request.team_id or '-'}"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
