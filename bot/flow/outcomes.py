"""Outcomes: how the flow goes on when the runner reports what the contact center did."""

from __future__ import annotations

from bot.backend.port import CallPreference, FailureReason
from bot.flow.conversation import Conversation
from bot.flow.effects import (
    ActionFailed,
    ActionSucceeded,
    Answered,
    Event,
    NotAnswered,
    PreferencesNotSaved,
    SessionChecked,
    SetAvailability,
    SignOut,
    SubmitLogin,
    TakeOver,
)
from bot.flow.filling import advance, change, prefill_from_preferences
from bot.flow.prompts import prompt, prompt_if_active
from bot.flow.replies import Choice, ReplyKind
from bot.flow.requests import STATUS
from bot.flow.signin import continue_login, reset_dialog, submit
from bot.flow.state import Step
from bot.flow.steps import step_to_fix
from bot.flow.troubleshooting import on_answered, on_not_answered

# Refusals that are the user's own situation, not a fault to report to an administrator.
_NOTHING_TO_TRACK = frozenset({FailureReason.NOT_LOGGED_IN})

# Failures after which a sign-in may still have happened: the next attempt checks the session first.
_OUTCOME_UNKNOWN = frozenset(
    {FailureReason.TIMEOUT, FailureReason.CONNECTION_LOST, FailureReason.SERVICE_ERROR, FailureReason.UNKNOWN}
)


def handle_event(c: Conversation, event: Event) -> None:
    if isinstance(event, SessionChecked):
        on_session_checked(c, event)
    elif isinstance(event, ActionSucceeded):
        c.state.in_flight = None
        on_success(c, event)
    elif isinstance(event, ActionFailed):
        c.state.in_flight = None
        on_failure(c, event)
    elif isinstance(event, PreferencesNotSaved):
        c.say("prefs.not_saved", ReplyKind.ERROR)
    elif isinstance(event, Answered):
        on_answered(c, event)
    elif isinstance(event, NotAnswered):
        on_not_answered(c, event)


def on_session_checked(c: Conversation, event: SessionChecked) -> None:
    marker, c.state.in_flight = c.state.in_flight or "", None
    session = event.session
    if marker == STATUS:
        _say_status(c, event)
        return
    c.state.login_unconfirmed = False  # the session is known now
    if marker == "check_session:resubmit":
        if session is not None:  # the earlier, unconfirmed sign-in went through
            c.say("reconcile.signed_in", ReplyKind.SUCCESS, fields=c.session_fields(session))
            reset_dialog(c)
        else:
            submit(c)
        return
    if marker == "reconcile":
        if session is not None:
            c.say("reconcile.signed_in", ReplyKind.SUCCESS, fields=c.session_fields(session))
        else:
            c.say("reconcile.not_signed_in")
        reset_dialog(c)
        return
    had_answers = marker.endswith("with_answers")
    if session is not None and not event.held_here:
        c.state.step = Step.TAKE_OVER
        c.say("session.elsewhere", fields=c.session_fields(session))
        prompt(c)
        return
    if session is not None:
        reset_dialog(c)
        choices = [
            Choice("cmd:logout", c.t("menu.logout")),
            Choice("cmd:availability", c.t("menu.availability")),
        ]
        c.say("session.already_here", fields=c.session_fields(session), choices=choices)
        return
    continue_login(c, had_answers)


def _say_status(c: Conversation, event: SessionChecked) -> None:
    """ "Am I signed in?": the live session, or that there is none; the question under way is asked
    again."""
    session = event.session
    if session is None:
        choices = [] if c.state.step else [Choice("cmd:login", c.t("menu.login"))]
        c.say("status.not_signed_in", choices=choices)
    else:
        key = "status.signed_in_here" if event.held_here else "status.signed_in_elsewhere"
        fields = c.session_fields(session)
        if session.state_since is not None:
            fields[c.t("field.since")] = session.state_since.strftime("%Y-%m-%d %H:%M UTC")
        choices = (
            []
            if c.state.step
            else [
                Choice("cmd:availability", c.t("menu.availability")),
                Choice("cmd:logout", c.t("menu.logout")),
            ]
        )
        c.say(key, fields=fields, choices=choices)
    prompt_if_active(c)


def on_success(c: Conversation, event: ActionSucceeded) -> None:
    effect = event.effect
    fields = c.session_fields(event.session) if event.session else {}
    if isinstance(effect, (SubmitLogin, TakeOver, SignOut)):
        c.state.login_unconfirmed = False
    if isinstance(effect, SubmitLogin):
        key = "outcome.login_success_auto" if effect.automatic else "outcome.login_success"
        c.say(key, ReplyKind.SUCCESS, fields=fields, tracking_id=event.tracking_id)
        reset_dialog(c)
    elif isinstance(effect, TakeOver):
        c.say("outcome.take_over_success", ReplyKind.SUCCESS, fields=fields)
        reset_dialog(c)
    elif isinstance(effect, SignOut):
        c.say("outcome.logout_success", ReplyKind.SUCCESS)
    elif isinstance(effect, SetAvailability):
        c.say(f"outcome.state_{effect.state.value.lower()}", ReplyKind.SUCCESS)


def on_failure(c: Conversation, event: ActionFailed) -> None:
    effect = event.effect
    reason = event.reason
    answers = c.state.answers
    c.say(
        f"failure.{reason.value}",
        ReplyKind.FAILURE,
        tracking_id=event.tracking_id or "-",
        number=answers.dial_number or answers.extension or "",
        url=event.authorize_url,
    )
    if event.tracking_id and reason not in _NOTHING_TO_TRACK:
        c.say("failure.tracking_id", tracking_id=event.tracking_id)
    if not isinstance(effect, SubmitLogin):
        return
    if reason in _OUTCOME_UNKNOWN:
        c.state.login_unconfirmed = True
    if reason is FailureReason.SESSION_ALREADY_ACTIVE:
        c.state.step = Step.TAKE_OVER
        c.state.take_over = False
        prompt(c)
        return
    if effect.automatic:
        c.say("auto.failed_flow_again")  # the dialog again, pre-filled from the preferences
        c.state.automatic = False
        prefill_from_preferences(c, explain=False)
    spec = step_to_fix(reason, c.state.answers)
    if spec is None:
        c.state.step = Step.CONFIRM  # a passing failure: the same answers can be tried again
        prompt(c)
        return
    if spec.step in (Step.EXTENSION, Step.DIAL_NUMBER):
        refused = answers.dial_number if answers.call_preference is CallPreference.DIAL_NUMBER else None
        refused = refused or answers.extension
        if refused and refused not in c.state.refused_numbers:
            c.state.refused_numbers.append(refused)
    change(c, spec)
    advance(c)
