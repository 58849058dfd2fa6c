"""Outcomes: how the flow goes on when the runner reports what the contact center did."""

from __future__ import annotations

from bot.backend.port import (
    CallPreference,
    FailureReason,
)
from bot.flow.dialog import Dialog
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
from bot.flow.replies import Choice, ReplyKind
from bot.flow.state import Step
from bot.flow.steps import (
    SPECS,
)

# Failure reasons that a different answer can fix: clear that answer and ask again (S7, S11).
_FIX_BY_ASKING: dict[FailureReason, str] = {
    FailureReason.DUPLICATE_LOCATION: "number",
    FailureReason.INVALID_DIAL_NUMBER: "number",
    FailureReason.NUMBER_NOT_PROVISIONED: "number",
    FailureReason.TEAM_NOT_ASSIGNED: "team_id",
    FailureReason.TEAM_REQUIRED: "team_id",
    FailureReason.ROLE_NOT_PERMITTED: "role",
    FailureReason.DEVICE_NOT_PERMITTED: "call_preference",
}


# Refusals that are the user's own situation, not a fault to report to an administrator.
_NOTHING_TO_TRACK = frozenset({FailureReason.NOT_LOGGED_IN})

# Failures after which a sign-in may still have happened: the next attempt checks the session first.
_OUTCOME_UNKNOWN = frozenset(
    {
        FailureReason.TIMEOUT,
        FailureReason.CONNECTION_LOST,
        FailureReason.SERVICE_ERROR,
        FailureReason.UNKNOWN,
    }
)


class Turn(Dialog):
    """A whole turn: the dialog, plus what to say and do when an effect's outcome comes back."""

    def handle_event(self, event: Event) -> None:
        if isinstance(event, SessionChecked):
            self.on_session_checked(event)
        elif isinstance(event, ActionSucceeded):
            self.state.in_flight = None
            self.on_success(event)
        elif isinstance(event, ActionFailed):
            self.state.in_flight = None
            self.on_failure(event)
        elif isinstance(event, PreferencesNotSaved):
            self.say("prefs.not_saved", ReplyKind.ERROR)
        elif isinstance(event, Answered):
            self.on_answered(event)
        elif isinstance(event, NotAnswered):
            self.on_not_answered(event)

    def on_session_checked(self, event: SessionChecked) -> None:
        marker, self.state.in_flight = self.state.in_flight or "", None
        session = event.session
        self.state.login_unconfirmed = False  # the session is known now
        if marker == "check_session:resubmit":
            if session is not None:  # the earlier, unconfirmed sign-in went through
                self.say("reconcile.signed_in", ReplyKind.SUCCESS, fields=self.session_fields(session))
                self.reset_dialog()
            else:
                self.submit()
            return
        if marker == "reconcile":
            if session is not None:
                self.say("reconcile.signed_in", ReplyKind.SUCCESS, fields=self.session_fields(session))
            else:
                self.say("reconcile.not_signed_in")
            self.reset_dialog()
            return
        had_answers = marker.endswith("with_answers")
        if session is not None and not event.held_here:
            self.state.step = Step.TAKE_OVER
            self.say("session.elsewhere", fields=self.session_fields(session))
            self.prompt()
            return
        if session is not None:
            self.reset_dialog()
            self.say(
                "session.already_here",
                fields=self.session_fields(session),
                choices=[
                    Choice("cmd:logout", self.t("menu.logout")),
                    Choice("cmd:availability", self.t("menu.availability")),
                ],
            )
            return
        self.continue_login(had_answers)

    def on_success(self, event: ActionSucceeded) -> None:
        effect = event.effect
        fields = self.session_fields(event.session) if event.session else {}
        if isinstance(effect, (SubmitLogin, TakeOver, SignOut)):
            self.state.login_unconfirmed = False
        if isinstance(effect, SubmitLogin):
            key = "outcome.login_success_auto" if effect.automatic else "outcome.login_success"
            self.say(key, ReplyKind.SUCCESS, fields=fields, tracking_id=event.tracking_id)
            self.reset_dialog()
        elif isinstance(effect, TakeOver):
            self.say("outcome.take_over_success", ReplyKind.SUCCESS, fields=fields)
            self.reset_dialog()
        elif isinstance(effect, SignOut):
            self.say("outcome.logout_success", ReplyKind.SUCCESS)
        elif isinstance(effect, SetAvailability):
            self.say(f"outcome.state_{effect.state.value.lower()}", ReplyKind.SUCCESS)

    def on_failure(self, event: ActionFailed) -> None:
        effect = event.effect
        reason = event.reason
        self.say(
            f"failure.{reason.value}",
            ReplyKind.FAILURE,
            tracking_id=event.tracking_id or "-",
            number=self.state.answers.dial_number or self.state.answers.extension or "",
            url=event.authorize_url,
        )
        if event.tracking_id and reason not in _NOTHING_TO_TRACK:
            self.say("failure.tracking_id", tracking_id=event.tracking_id)
        if not isinstance(effect, SubmitLogin):
            return
        if reason in _OUTCOME_UNKNOWN:
            self.state.login_unconfirmed = True
        if reason is FailureReason.SESSION_ALREADY_ACTIVE:
            self.state.step = Step.TAKE_OVER
            self.state.take_over = False
            self.prompt()
            return
        if effect.automatic:
            self.say("auto.failed_flow_again")  # S7: the dialog again, pre-filled from the preferences
            self.state.automatic = False
            self.prefill_from_preferences(explain=False)
        slot = _FIX_BY_ASKING.get(reason)
        if slot == "number":
            refused = self.state.answers.dial_number or self.state.answers.extension
            if refused and refused not in self.state.refused_numbers:
                self.state.refused_numbers.append(refused)
            slot = (
                "extension"
                if self.state.answers.call_preference is CallPreference.EXTENSION
                else "dial_number"
            )
        if slot is not None:
            self.state.answers = self.state.answers.cleared(slot)
            self.state.editing = SPECS[Step(slot if slot != "team_id" else "team")].step
            self.advance()
        else:
            self.state.step = Step.CONFIRM  # a passing failure: the same answers can be tried again (X3)
            self.prompt()
