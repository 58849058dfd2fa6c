"""From facts to checklist items (T1-T8): one function per item, each deciding a status, the
evidence that supports it and the fix, in the catalog's words. Pure: no I/O, no clock.

Phone numbers are shown masked (last two digits, as in the logs, X4): the checklist travels through
chat platforms, and an administrator who needs the whole number has the tenant's configuration.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from bot.backend.port import CallPreference, FailureReason, Role
from bot.flow.numbers import mask
from bot.troubleshoot.checklist import ITEM_KEYS, CheckItem, Checklist, Status
from bot.troubleshoot.probes import RECENT_ERRORS_WINDOW, TRANSPORT_REASONS, Facts
from bot.troubleshoot.texts import texts
from storage import AttemptRecord

SLOW_MS = 3000.0  # T2: a profile read slower than this is a problem in itself
RONA_IDLE_CODES = frozenset({"rona", "invalid_number", "agent_unavailable", "channel_failure"})
NUMBER_REASONS = frozenset(
    {
        FailureReason.INVALID_DIAL_NUMBER.value,
        FailureReason.NUMBER_NOT_PROVISIONED.value,
        FailureReason.DUPLICATE_LOCATION.value,
        FailureReason.DEVICE_NOT_PERMITTED.value,
    }
)
SESSION_REASONS = frozenset(
    {
        FailureReason.SESSION_ALREADY_ACTIVE.value,
        FailureReason.AGENT_NOT_FOUND.value,
        FailureReason.NOT_LOGGED_IN.value,
        FailureReason.UNAUTHORIZED.value,
        FailureReason.AUTHORIZATION_REQUIRED.value,
    }
)
TEAM_REASONS = frozenset({FailureReason.TEAM_REQUIRED.value, FailureReason.TEAM_NOT_ASSIGNED.value})
LISTED_TEAMS = 5
_WINDOW_HOURS = round(RECENT_ERRORS_WINDOW.total_seconds() / 3600)


class _Writer:
    """The catalog, bound to one language, with the formatting every item shares."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._catalog = texts()

    def __call__(self, key: str, **params: object) -> str:
        return self._catalog.text(self.language, key, **params)

    def reason(self, reason: str | None) -> str:
        if not reason:
            return "-"
        key = f"reason.{reason}"
        explained = self(key) if self._catalog.has(key, self.language) else self("reason.UNKNOWN")
        return f"{reason} ({explained})"

    def when(self, moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M UTC")

    def call_option(self, option: str | None) -> str:
        return self(f"option.{option}") if option else "-"

    def role(self, role: str | None) -> str:
        return self(f"role.{role}") if role else "-"

    def teams_status(self, status: str) -> str:
        key = f"teams_auth.value.{status.casefold()}"
        return self(key) if self._catalog.has(key, self.language) else status

    def yes_no(self, value: bool) -> str:
        return self("word.yes" if value else "word.no")

    def attempt(self, attempt: AttemptRecord) -> str:
        outcome = self(f"outcome.{attempt.outcome}")
        how = self("history.automatic") if attempt.automatic else attempt.channel
        line = self(
            "history.attempt",
            when=self.when(attempt.started_at),
            outcome=outcome,
            channel=how,
            tracking_id=attempt.tracking_id or "-",
        )
        if attempt.outcome != "success":
            line += " — " + self.reason(attempt.reason)
        return line


def build_checklist(facts: Facts, language: str) -> Checklist:
    """The whole checklist of `facts.email`, problems first."""
    w = _Writer(language)
    rules: dict[str, Callable[[Facts, _Writer], tuple[Status, list[str], str]]] = {
        "T1": _account,
        "T2": _network,
        "T3": _session,
        "T4": _banner,
        "T5": _rona,
        "T6": _teams_auth,
        "T7": _empty_team,
        "T8": _history,
    }
    items = []
    for item_id, rule in rules.items():
        key = ITEM_KEYS[item_id]
        status, evidence, fix = rule(facts, w)
        items.append(CheckItem(item_id, key, status, w(f"item.{key}"), tuple(evidence), fix))
    focus: tuple[str, ...] = ()
    if facts.focus is not None:
        attempt = facts.focus
        focus = (w("focus.title", tracking_id=attempt.tracking_id or "-"), w.attempt(attempt))
        if attempt.outcome != "success":
            focus += (w("focus.fix." + _focus_fix(attempt.reason)),)
    profile = facts.profile
    return Checklist(
        email=profile.email if profile is not None else facts.email,
        language=language,
        display_name=profile.display_name if profile is not None else "",
        items=tuple(items),
        generated_at=facts.now,
        tracking_id=facts.focus.tracking_id if facts.focus is not None else None,
        focus=focus,
    )


def _focus_fix(reason: str | None) -> str:
    """Which checklist item explains a failed attempt best."""
    if reason in TRANSPORT_REASONS:
        return "network"
    if reason in NUMBER_REASONS:
        return "rona"
    if reason in TEAM_REASONS:
        return "empty_team"
    if reason in SESSION_REASONS:
        return "session"
    return "account"


def _unreadable_fix(facts: Facts, w: _Writer, key: str) -> str:
    """The fix of an item that needs the profile: the account first when the user does not exist."""
    return w("evidence.fix_account_first") if facts.profile_error is FailureReason.USER_NOT_FOUND else w(key)


def _profile_unknown(facts: Facts, w: _Writer) -> list[str]:
    return [
        w("evidence.profile_unreadable", reason=w.reason(facts.profile_error and facts.profile_error.value))
    ]


# -- T1 account, profile, roles, login options, teams, skills ---------------------------------------------


def _account(facts: Facts, w: _Writer) -> tuple[Status, list[str], str]:
    profile = facts.profile
    if profile is None:
        if facts.profile_error is FailureReason.USER_NOT_FOUND:
            return Status.PROBLEM, [w("account.not_found", email=facts.email)], w("account.fix.not_found")
        return Status.UNKNOWN, _profile_unknown(facts, w), w("account.fix.unreadable")
    problems: list[str] = []
    evidence = [w("account.user", name=profile.display_name, email=profile.email, user_id=profile.user_id)]
    if profile.contact_center_enabled:
        evidence.append(w("account.enabled"))
    else:
        problems.append(w("account.disabled"))
    if profile.roles:
        evidence.append(w("account.roles", roles=", ".join(w.role(r.value) for r in profile.roles)))
    else:
        problems.append(w("account.no_roles"))
    if profile.call_options:
        options = ", ".join(w.call_option(o.value) for o in profile.call_options)
        evidence.append(w("account.options", options=options, validation=profile.dn_validation.value))
    else:
        evidence.append(w("account.digital_only"))
    if (
        CallPreference.DIAL_NUMBER in profile.call_options
        and profile.dn_validation.value == "PROVISIONED_VALUE"
        and not profile.default_dn
    ):
        problems.append(w("account.no_default_dn"))
    agent = any(role.needs_team for role in profile.roles)
    if profile.teams:
        names = ", ".join(t.name for t in profile.teams[:LISTED_TEAMS])
        more = len(profile.teams) - LISTED_TEAMS
        evidence.append(
            w("account.teams", count=len(profile.teams), names=names + (" …" if more > 0 else ""))
        )
    elif agent:
        problems.append(w("account.no_team"))
    else:
        evidence.append(w("account.no_team_needed"))
    if profile.skills:
        evidence.append(w("account.skills", skills=", ".join(profile.skills)))
    elif agent:
        problems.append(w("account.no_skills"))
    if problems:
        return Status.PROBLEM, problems + evidence, w("account.fix.problem")
    return Status.OK, evidence, ""


# -- T2 network and API ------------------------------------------------------------------------------


def _network(facts: Facts, w: _Writer) -> tuple[Status, list[str], str]:
    error = facts.profile_error
    evidence: list[str] = []
    problem = False
    if facts.outage:
        problem = True
        evidence.append(w("network.outage"))
    if error is not None and error is not FailureReason.USER_NOT_FOUND:
        if error.value in TRANSPORT_REASONS or error is FailureReason.UNKNOWN:
            problem = True
            evidence.append(
                w(
                    "network.unreachable",
                    reason=w.reason(error.value),
                    tracking_id=facts.profile_error_tracking_id or "-",
                )
            )
        else:
            evidence.append(w("network.read_refused", reason=w.reason(error.value)))
    elif facts.latency_ms is not None:
        latency = round(facts.latency_ms)
        if facts.latency_ms > SLOW_MS:
            problem = True
            evidence.append(w("network.slow", ms=latency, limit=round(SLOW_MS)))
        else:
            evidence.append(w("network.reachable", ms=latency))
    if not facts.store_readable:
        evidence.append(w("network.store_unreadable"))
    elif facts.recent_errors:
        problem = True
        counts = Counter(a.reason or "" for a in facts.recent_errors)
        listed = ", ".join(f"{reason} × {count}" for reason, count in counts.most_common())
        mine = sum(1 for a in facts.recent_errors if a.email == facts.email)
        latest = facts.recent_errors[0]
        evidence.append(w("network.recent_errors", hours=_WINDOW_HOURS, errors=listed, mine=mine))
        evidence.append(
            w("network.latest_error", when=w.when(latest.started_at), tracking_id=latest.tracking_id or "-")
        )
        if counts.get(FailureReason.RATE_LIMITED.value):
            evidence.append(w("network.rate_limited"))
    else:
        evidence.append(w("network.no_recent_errors", hours=_WINDOW_HOURS))
    if problem:
        return Status.PROBLEM, evidence, w("network.fix.problem")
    if error is not None and error is not FailureReason.USER_NOT_FOUND:
        return Status.UNKNOWN, evidence, w("network.fix.unknown")
    if facts.latency_ms is None:
        return Status.UNKNOWN, evidence, w("network.fix.unknown")
    return Status.OK, evidence, ""


# -- T3 session restore --------------------------------------------------------------------------------


def _session(facts: Facts, w: _Writer) -> tuple[Status, list[str], str]:
    if facts.profile is None or not facts.session_readable:
        reason = facts.session_error or facts.profile_error
        return (
            Status.UNKNOWN,
            [w("session.unreadable", reason=w.reason(reason.value if reason else None))],
            _unreadable_fix(facts, w, "session.fix.unknown"),
        )
    evidence: list[str] = []
    session = facts.session
    if session is not None:
        team = facts.profile.team(session.team_id)
        device = w.call_option(session.call_preference.value if session.call_preference else None)
        number = f" {mask(session.dial_number)}" if session.dial_number else ""
        evidence.append(
            w(
                "session.active",
                role=w.role(session.role.value),
                device=device + number,
                team=team.name if team is not None else "-",
                state=session.state.value,
            )
        )
        if session.in_interaction or session.in_wrap_up:
            evidence.append(w("session.busy"))
    else:
        evidence.append(w("session.none"))
    recorded = facts.recorded_session
    problem_fix = ""
    if recorded is not None and session is None:
        evidence.append(w("session.lost", when=w.when(recorded.started_at), channel=recorded.key.channel))
        problem_fix = "session.fix.lost"
    elif recorded is None and session is not None:
        evidence.append(w("session.elsewhere"))
    last = facts.attempts[0] if facts.attempts else None
    if last is not None and last.outcome != "success" and last.reason in SESSION_REASONS:
        evidence.append(w("session.last_failed", attempt=w.attempt(last)))
        problem_fix = problem_fix or f"session.fix.{last.reason}"
    if problem_fix:
        return Status.PROBLEM, evidence, w(problem_fix)
    return Status.OK, evidence, ""


# -- T4 banner -------------------------------------------------------------------------------------------


def _banner(facts: Facts, w: _Writer) -> tuple[Status, list[str], str]:
    status, _, _ = _network(facts, w)
    if status is Status.PROBLEM:
        return Status.PROBLEM, [w("banner.cause")], w("banner.fix.problem")
    if status is Status.UNKNOWN:
        return Status.UNKNOWN, [w("banner.unknown")], w("banner.fix.unknown")
    return Status.OK, [w("banner.none")], w("banner.fix.ok")


# -- T5 RONA ----------------------------------------------------------------------------------------------


def _rona(facts: Facts, w: _Writer) -> tuple[Status, list[str], str]:
    profile = facts.profile
    if profile is None:
        return Status.UNKNOWN, _profile_unknown(facts, w), _unreadable_fix(facts, w, "rona.fix.unknown")
    evidence: list[str] = []
    fixes: list[str] = []
    session = facts.session
    if session is not None and session.idle_code:
        code = next((c for c in profile.idle_codes if c.id == session.idle_code), None)
        name = code.name if code is not None else session.idle_code
        if name.casefold() in RONA_IDLE_CODES:
            evidence.append(w("rona.idle_code", code=name))
            fixes.append(w("rona.fix.rona_state"))
    failed = [a for a in facts.attempts if a.outcome != "success" and a.reason in NUMBER_REASONS]
    if failed:
        evidence.extend(w("rona.failed_attempt", attempt=w.attempt(a)) for a in failed[:3])
        fixes.append(w("rona.fix.number_failures"))
    number = facts.number
    if number is not None:
        shown = mask(number.number) if number.kind is CallPreference.DIAL_NUMBER else number.number
        kind = w.call_option(number.kind.value)
        if not number.valid:
            evidence.append(
                w("rona.number_invalid", kind=kind, number=shown, why=_number_reason(number.reason, w))
            )
            fixes.append(w("rona.fix.number_invalid"))
        elif number.in_use:
            evidence.append(w("rona.number_in_use", kind=kind, number=shown))
            fixes.append(w("rona.fix.number_in_use"))
        elif number.in_use is None:
            evidence.append(w("rona.number_maybe_free", kind=kind, number=shown))
        else:
            evidence.append(w("rona.number_ok", kind=kind, number=shown))
    if fixes:
        return Status.PROBLEM, evidence, " ".join(fixes)
    preferences = facts.preferences
    saved = preferences.call_preference if preferences is not None else None
    if saved == CallPreference.DESKTOP.value:
        e911 = preferences is not None and preferences.e911_acknowledged
        evidence.append(w("rona.desktop", e911=w.yes_no(e911)))
        return Status.UNKNOWN, evidence, w("rona.fix.desktop")
    if number is not None and number.in_use is None:
        return Status.UNKNOWN, evidence, w("rona.fix.maybe_free")
    if number is not None:
        return Status.OK, evidence, ""
    if not profile.call_options:
        return Status.OK, [w("rona.digital_only")], ""
    evidence.append(w("rona.no_preference"))
    return Status.UNKNOWN, evidence, w("rona.fix.no_preference")


def _number_reason(reason: str | None, w: _Writer) -> str:
    if not reason:
        return "-"
    key = "numcheck." + reason.replace(".", "_")
    explained = w(key)
    return explained if explained != key else reason


# -- T6 Microsoft Teams authentication --------------------------------------------------------------------


def _teams_auth(facts: Facts, w: _Writer) -> tuple[Status, list[str], str]:
    status = facts.teams_auth
    if facts.profile is None:
        return Status.UNKNOWN, _profile_unknown(facts, w), _unreadable_fix(facts, w, "teams_auth.fix.retry")
    if status is None:
        return Status.UNKNOWN, [w("teams_auth.unknown")], w("teams_auth.fix.retry")
    if status.casefold() == "success":
        return Status.OK, [w("teams_auth.status", status=w.teams_status(status))], ""
    return Status.PROBLEM, [w("teams_auth.status", status=w.teams_status(status))], w("teams_auth.fix.retry")


# -- T7 the empty-team known issue -----------------------------------------------------------------------


def _empty_team(facts: Facts, w: _Writer) -> tuple[Status, list[str], str]:
    profile = facts.profile
    if profile is None:
        return Status.UNKNOWN, _profile_unknown(facts, w), _unreadable_fix(facts, w, "empty_team.fix.unknown")
    needs_team = [role for role in profile.roles if role.needs_team]
    if not needs_team:
        return Status.OK, [w("empty_team.not_needed")], ""
    evidence: list[str] = []
    fixes: list[str] = []
    if not profile.teams:
        evidence.append(w("empty_team.no_team"))
        fixes.append(w("empty_team.fix.assign"))
    failed = [a for a in facts.attempts if a.outcome != "success" and a.reason in TEAM_REASONS]
    if failed:
        evidence.extend(w("empty_team.failed_attempt", attempt=w.attempt(a)) for a in failed[:3])
        fixes.append(w("empty_team.fix.select"))
    preferences = facts.preferences
    if (
        preferences is not None
        and preferences.team_id
        and preferences.role in {r.value for r in Role if r.needs_team}
        and profile.team(preferences.team_id) is None
    ):
        evidence.append(w("empty_team.saved_team_gone", team=preferences.team_id))
        fixes.append(w("empty_team.fix.saved_team"))
    if fixes:
        return Status.PROBLEM, evidence, " ".join(fixes)
    return Status.OK, [w("empty_team.guarded", count=len(profile.teams))], ""


# -- T8 saved preferences, auto-login, last attempts -----------------------------------------------------


def _history(facts: Facts, w: _Writer) -> tuple[Status, list[str], str]:
    if not facts.store_readable:
        return Status.UNKNOWN, [w("history.store_unreadable")], w("history.fix.unknown")
    preferences = facts.preferences
    if preferences is None and not facts.attempts:
        return Status.UNKNOWN, [w("history.nothing")], w("history.fix.nothing")
    evidence: list[str] = []
    fixes: list[str] = []
    profile = facts.profile
    if preferences is None:
        evidence.append(w("history.no_preferences"))
    else:
        number = ""
        if preferences.call_preference == CallPreference.DIAL_NUMBER.value and preferences.dial_number:
            number = " " + mask(preferences.dial_number)
        elif preferences.call_preference == CallPreference.EXTENSION.value and preferences.extension:
            number = " " + preferences.extension
        team = "-"
        if preferences.team_id:
            found = profile.team(preferences.team_id) if profile is not None else None
            team = found.name if found is not None else preferences.team_id
        evidence.append(
            w(
                "history.preferences",
                role=w.role(preferences.role),
                option=w.call_option(preferences.call_preference) + number,
                team=team,
                lang=preferences.language or "-",
            )
        )
        evidence.append(w("history.auto_login", value=w.yes_no(preferences.auto_login)))
        if profile is not None:
            if preferences.role and preferences.role not in {r.value for r in profile.roles}:
                evidence.append(w("history.role_gone", role=w.role(preferences.role)))
                fixes.append(w("history.fix.stale"))
            allowed = {o.value for o in profile.call_options}
            if preferences.call_preference and preferences.call_preference not in allowed:
                evidence.append(w("history.option_gone", option=w.call_option(preferences.call_preference)))
                fixes.append(w("history.fix.stale"))
        number_facts = facts.number
        if number_facts is not None:
            if not number_facts.valid:
                evidence.append(w("history.number_invalid"))
                fixes.append(w("history.fix.stale"))
            elif number_facts.in_use:
                evidence.append(w("history.number_in_use"))
                fixes.append(w("history.fix.stale"))
            elif number_facts.in_use is None:
                evidence.append(w("history.number_valid_unknown_free"))
            else:
                evidence.append(w("history.number_ok"))
    if facts.attempts:
        evidence.append(w("history.attempts", count=len(facts.attempts)))
        evidence.extend(w.attempt(a) for a in facts.attempts)
        last = facts.attempts[0]
        if last.outcome != "success":
            fixes.append(w("history.fix.last_failed", tracking_id=last.tracking_id or "-"))
    else:
        evidence.append(w("history.no_attempts"))
    if fixes:
        if preferences is not None and preferences.auto_login:
            fixes.append(w("history.fix.auto_login"))
        return Status.PROBLEM, evidence, " ".join(dict.fromkeys(fixes))
    return Status.OK, evidence, ""
