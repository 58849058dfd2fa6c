"""Effects the flow asks the outside world for, and the events that report how they went.

The engine stays pure: it returns effects; the turn runner performs them against the contact
center and storage, then feeds each outcome back to the engine as an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.backend.port import Availability, FailureReason, LoginRequest, StationSession
from bot.flow.replies import Document
from bot.flow.state import SavedPreferences


@dataclass(frozen=True)
class CheckSession:
    """Read the user's station session (S12), and whether this conversation holds it. `reconcile`:
    settling a call of this conversation whose outcome was never recorded (a crash, X2); a session
    found is then the one that call opened, held here."""

    reconcile: bool = False
    # With `reconcile`, the sign-in the interrupted call sent (rebuilt from the answers): the runner
    # records it as an attempt with the outcome the check finds, as if its turn had lived.
    interrupted: SubmitLogin | None = None


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


@dataclass(frozen=True)
class Troubleshoot:
    """The sign-in troubleshooting checklist (U3): of the attempt with `tracking_id`, else of
    `target_email`, else of the tenant user called `target_name`, else the requester's own. Who may
    see what (T9) is decided where it is performed."""

    target_email: str | None = None
    target_name: str | None = None
    tracking_id: str | None = None
    language: str = "en"


@dataclass(frozen=True)
class FailureReport:
    """Sign-in outcomes and failure reasons over the last `days` days (administrators only)."""

    days: int = 7
    language: str = "en"


Effect = (
    CheckSession
    | SubmitLogin
    | TakeOver
    | SignOut
    | SetAvailability
    | SavePreferences
    | Troubleshoot
    | FailureReport
)

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


@dataclass(frozen=True)
class Answered:
    """A checklist or a report, ready: `text` is all of it as plain text, `document` its structure."""

    effect: Troubleshoot | FailureReport
    text: str
    document: Document


class Unanswered(StrEnum):
    REFUSED = "refused"  # T9: someone else's checklist, or the report, for a non-administrator
    TRACKING_ID_UNKNOWN = "tracking_id_unknown"
    NOBODY = "nobody"  # no tenant user has this name
    SEVERAL = "several"  # several users have this name: ask which one
    NO_DIRECTORY = "no_directory"  # users cannot be looked up by name (now): ask for an email
    FAILED = "failed"


@dataclass(frozen=True)
class Candidate:
    """A tenant user a name may designate."""

    email: str
    display_name: str


@dataclass(frozen=True)
class NotAnswered:
    effect: Troubleshoot | FailureReport
    why: Unanswered
    candidates: tuple[Candidate, ...] = ()


Event = SessionChecked | ActionSucceeded | ActionFailed | PreferencesNotSaved | Answered | NotAnswered
