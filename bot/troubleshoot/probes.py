"""Gathering the facts a checklist is built from: the contact center (through the port and the
optional `Diagnostics`) and loginbot's own store. No platform library, no rendering here.

Every probe catches its own failure and records it as a fact ("could not be read"), so one broken
source makes some items "unknown" instead of failing the whole checklist.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.backend.port import (
    CallPreference,
    ContactCenter,
    ContactCenterError,
    FailureReason,
    StationSession,
    UnknownUser,
    UserProfile,
)
from bot.flow.numbers import check_dial_number
from bot.troubleshoot.diagnostics import Diagnostics
from storage import ActiveSessionRecord, AttemptRecord, PreferencesRecord, StorageError, Store

log = logging.getLogger(__name__)

TRANSPORT_REASONS = frozenset(
    {
        FailureReason.SERVICE_ERROR.value,
        FailureReason.RATE_LIMITED.value,
        FailureReason.TIMEOUT.value,
        FailureReason.CONNECTION_LOST.value,
    }
)
"""Failure reasons that say the network or the API misbehaved, not the user's settings (T2)."""

RECENT_ERRORS_WINDOW = timedelta(hours=6)  # T2: API errors this recent still matter
HISTORY_LIMIT = 5  # T8: the last attempts shown


@dataclass(frozen=True)
class NumberFacts:
    """The saved dial number or extension, checked again now (T5, T8)."""

    kind: CallPreference  # DIAL_NUMBER or EXTENSION
    number: str
    valid: bool
    reason: str | None = None  # a `number.*` catalog key of the flow, or "extension.unknown"
    in_use: bool | None = None  # None: the backend cannot tell


@dataclass(frozen=True)
class Facts:
    email: str
    now: datetime
    profile: UserProfile | None = None
    profile_error: FailureReason | None = None
    profile_error_tracking_id: str = ""
    latency_ms: float | None = None  # the profile read, timed (T2)
    outage: bool | None = None
    session: StationSession | None = None
    session_readable: bool = False
    session_error: FailureReason | None = None
    store_readable: bool = True
    recorded_session: ActiveSessionRecord | None = None
    preferences: PreferencesRecord | None = None
    attempts: tuple[AttemptRecord, ...] = ()  # this user's, newest first
    recent_errors: tuple[AttemptRecord, ...] = ()  # everyone's transport failures, newest first
    number: NumberFacts | None = None
    teams_auth: str | None = None
    focus: AttemptRecord | None = None  # the attempt a tracking-id look-up is about


async def gather(
    backend: ContactCenter,
    store: Store,
    diagnostics: Diagnostics,
    email: str,
    *,
    now: datetime,
    focus: AttemptRecord | None = None,
) -> Facts:
    """Every fact about `email` the checklist needs."""
    email = email.strip().casefold()
    profile: UserProfile | None = None
    profile_error: FailureReason | None = None
    error_tid = ""
    started = time.perf_counter()
    latency: float | None = None
    try:
        profile = await backend.get_profile(email)
        latency = (time.perf_counter() - started) * 1000
    except UnknownUser as error:
        latency = (time.perf_counter() - started) * 1000  # the service answered: it is reachable
        profile_error, error_tid = FailureReason.USER_NOT_FOUND, error.tracking_id
    except ContactCenterError as error:
        profile_error, error_tid = error.reason, error.tracking_id
    except Exception:
        log.exception("troubleshooting: the profile read failed")
        profile_error = FailureReason.UNKNOWN

    session: StationSession | None = None
    session_readable = False
    session_error: FailureReason | None = None
    if profile is not None:
        try:
            session = await backend.get_session(profile)
            session_readable = True
        except ContactCenterError as error:
            session_error = error.reason
        except Exception:
            log.exception("troubleshooting: the session read failed")
            session_error = FailureReason.UNKNOWN

    outage: bool | None
    try:
        outage = await diagnostics.outage()
    except Exception:
        log.exception("troubleshooting: the outage probe failed")
        outage = None

    store_readable = True
    preferences: PreferencesRecord | None = None
    attempts: tuple[AttemptRecord, ...] = ()
    recorded: ActiveSessionRecord | None = None
    recent_errors: tuple[AttemptRecord, ...] = ()
    try:
        preferences = store.load_preferences(email)
        attempts = tuple(store.recent_attempts(email, limit=HISTORY_LIMIT))
        recorded = store.active_session(email)
        recent = store.attempts_since(now - RECENT_ERRORS_WINDOW)
        recent_errors = tuple(reversed([a for a in recent if a.reason in TRANSPORT_REASONS]))
    except StorageError:
        log.exception("troubleshooting: the store could not be read")
        store_readable = False

    number = await _check_number(diagnostics, profile, preferences, email)

    teams_auth: str | None = None
    if profile is not None:
        try:
            teams_auth = await diagnostics.teams_auth_status(email)
        except Exception:
            log.exception("troubleshooting: the Teams authentication probe failed")

    return Facts(
        email=email,
        now=now,
        profile=profile,
        profile_error=profile_error,
        profile_error_tracking_id=error_tid,
        latency_ms=latency,
        outage=outage,
        session=session,
        session_readable=session_readable,
        session_error=session_error,
        store_readable=store_readable,
        recorded_session=recorded,
        preferences=preferences,
        attempts=attempts,
        recent_errors=recent_errors,
        number=number,
        teams_auth=teams_auth,
        focus=focus,
    )


async def _check_number(
    diagnostics: Diagnostics,
    profile: UserProfile | None,
    preferences: PreferencesRecord | None,
    email: str,
) -> NumberFacts | None:
    """The saved number or extension: still valid for the profile, and still free (S7, T5, T8)."""
    if profile is None or preferences is None:
        return None
    if preferences.call_preference == CallPreference.DIAL_NUMBER.value and preferences.dial_number:
        check = check_dial_number(preferences.dial_number, profile)
        kind, number, valid, reason = (
            CallPreference.DIAL_NUMBER,
            preferences.dial_number,
            check.ok,
            check.reason,
        )
    elif preferences.call_preference == CallPreference.EXTENSION.value and preferences.extension:
        number = preferences.extension
        valid = number in profile.extensions
        kind, reason = CallPreference.EXTENSION, None if valid else "extension.unknown"
    else:
        return None
    in_use: bool | None = None
    if valid:
        try:
            in_use = await diagnostics.number_in_use(number, except_email=email)
        except Exception:
            log.exception("troubleshooting: the number-in-use probe failed")
    return NumberFacts(kind=kind, number=number, valid=valid, reason=reason, in_use=in_use)
