"""Effects the flow asks the outside world for, and the events that report how they went.

The engine stays pure: it returns effects; the turn runner performs them against the contact
center and storage, then feeds each outcome back to the engine as an event.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.backend.port import Availability, FailureReason, LoginRequest, StationSession
from bot.flow.state import SavedPreferences


@dataclass(frozen=True)
class CheckSession:
    """Read the user's station session (S12), and whether this conversation holds it."""


@dataclass(frozen=True)
class SubmitLogin:
    request: LoginRequest
    take_over: bool = False
    automatic: bool = False


@dataclass(frozen=True)
class TakeOver:
    """Hold the user's existing session from this conversation ("Continue here", S12)."""


@dataclass(frozen=True)
class SignOut:
    """Set Idle, then sign out (S13)."""


@dataclass(frozen=True)
class SetAvailability:
    state: Availability
    idle_code_id: str | None = None


@dataclass(frozen=True)
class SavePreferences:
    preferences: SavedPreferences


Effect = CheckSession | SubmitLogin | TakeOver | SignOut | SetAvailability | SavePreferences

# Effects that change the contact center: the runner records the intent before performing them,
# so that a crash or a duplicate delivery can never send them twice (X2).
SIDE_EFFECTS = (SubmitLogin, TakeOver, SignOut, SetAvailability)


@dataclass(frozen=True)
class SessionChecked:
    session: StationSession | None
    held_here: bool


@dataclass(frozen=True)
class ActionSucceeded:
    effect: Effect
    tracking_id: str
    session: StationSession | None = None


@dataclass(frozen=True)
class ActionFailed:
    effect: Effect
    reason: FailureReason
    tracking_id: str = ""
    authorize_url: str = ""  # with AUTHORIZATION_REQUIRED


@dataclass(frozen=True)
class PreferencesNotSaved:
    """Saving the preferences failed (S11 says the user is told plainly)."""


Event = SessionChecked | ActionSucceeded | ActionFailed | PreferencesNotSaved
