"""The flow engine as a state machine (hypothesis `RuleBasedStateMachine`): any sequence of inputs
(typed text, the buttons of the last reply, stale or forged buttons, numbers, commands, a language
switch, platform retries of a delivery) and any outcome of the contact center (success, every
failure reason, a session elsewhere, a read of the profile that fails, a process that dies after
claiming a call) keeps a valid state.

The machine plays the turn runner's part without storage: effects are performed by drawing an
outcome, fed back with `on_event`, and the state is carried from turn to turn through its JSON
form, as the store keeps it. `tests/flow/test_engine_properties.py` walks random conversations
through the real runner and simulator; this one reaches the outcomes the simulator rarely gives.

Invariants, after every turn:
* no exception; the step is a known step or none; the state round-trips through its JSON form;
* every answer held is valid for the user's profile (as `revalidate` judges saved preferences);
* every reply is non-empty, from the catalog (in both languages), with its placeholders filled;
* a waiting step was asked in this turn's replies; nothing is left in flight after a turn whose
  effects all came back;
* a retried delivery is answered with nothing and changes nothing;
* a call to the contact center is never started while another one is in flight (X2), and a
  sign-in request is complete for the profile (S10: a team for an agent role).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from bot.backend.port import (
    Availability,
    CallPreference,
    FailureReason,
    Role,
    StationSession,
    UserProfile,
)
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorCore, load_tenant
from bot.flow.catalog import LANGUAGES, Catalog
from bot.flow.effects import (
    SIDE_EFFECTS,
    ActionFailed,
    ActionSucceeded,
    Answered,
    Candidate,
    CheckSession,
    Effect,
    Event,
    FailureReport,
    NotAnswered,
    SavePreferences,
    SessionChecked,
    SubmitLogin,
    Troubleshoot,
    Unanswered,
)
from bot.flow.engine import MAX_DELIVERIES_KEPT, FlowEngine, TurnContext, TurnResult, UserMessage
from bot.flow.inputs import IN_FLIGHT_GRACE
from bot.flow.replies import Document, Reply, ReplyKind
from bot.flow.state import FlowState, SavedPreferences, Step
from bot.flow.steps import revalidate
from intents.recognizer import Recognizer
from tests.flow.test_engine_properties import BUTTONS, TEXTS

from .profile import PROPERTY

TENANT = load_tenant(DEMO_TENANT_FILE)
CORE = SimulatorCore(TENANT)
PROFILES: dict[str, UserProfile | None] = {u.email: CORE.profile(u.email) for u in TENANT.users}
PROFILES["nobody@example.com"] = None  # an email the contact center does not know
ENGINE = FlowEngine(Recognizer.default())
CATALOG = Catalog.default()
CATALOG_KEYS = {language: CATALOG.keys(language) for language in LANGUAGES}
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
COMMANDS = [
    "cancel",
    "restart",
    "help",
    "switch to French",
    "parle anglais",
    "speak English",
    "en français",
    "annuler",
    "aide",
    "recommencer",
    "sign me out",
    "log me in",
]
MAX_EVENTS = 8  # as the runner: effects that lead to effects, bounded


def fake_session(profile: UserProfile | None, n: int) -> StationSession:
    return StationSession(
        agent_id=profile.user_id if profile else "ci-unknown",
        session_id=f"session-{n}",
        role=profile.roles[0] if profile and profile.roles else Role.SUPERVISOR,
        call_preference=CallPreference.DESKTOP,
        dial_number="",
        team_id=profile.teams[0].id if profile and profile.teams else None,
        state=Availability.IDLE,
        tracking_id=f"LOGINBOT-{n:08d}-0000-4000-8000-000000000000",
    )


def outcome_of(effect: Effect, profile: UserProfile | None, draw: st.DataObject) -> Event:
    """What the contact center did, drawn: every kind of answer the runner can report."""
    n = draw.draw(st.integers(0, 10**6), label="tracking")
    tracking_id = draw.draw(st.sampled_from(["", f"LOGINBOT-{n}"]), label="tracking id")
    if isinstance(effect, Troubleshoot | FailureReport):
        if draw.draw(st.booleans(), label="answered"):
            return Answered(effect, "Checklist\n- Profile: OK", Document(title="Checklist", intro=("OK",)))
        why = draw.draw(st.sampled_from(list(Unanswered)), label="why not")
        candidates = (
            Candidate("ava.lead@example.com", "Ava Lead"),
            Candidate("ava.other@example.com", "Ava Other"),
        )
        return NotAnswered(effect, why, candidates if why is Unanswered.SEVERAL else ())
    if isinstance(effect, CheckSession):
        session = draw.draw(st.sampled_from([None, fake_session(profile, n)]), label="session")
        held_here = effect.reconcile or draw.draw(st.booleans(), label="held here")
        return SessionChecked(session, held_here=session is not None and held_here)
    if draw.draw(st.booleans(), label="succeeds"):
        with_session = isinstance(effect, SubmitLogin) or draw.draw(st.booleans(), label="with session")
        return ActionSucceeded(
            effect, tracking_id or f"LOGINBOT-{n}", fake_session(profile, n) if with_session else None
        )
    reason = draw.draw(st.sampled_from(list(FailureReason)), label="reason")
    return ActionFailed(
        effect, reason, tracking_id, "https://idbroker.example/authorize" if tracking_id else ""
    )


class FlowMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.email = ""
        self.profile: UserProfile | None = None
        self.preferences: SavedPreferences | None = None
        self.saved: dict[str, object] = {}  # the state as the store keeps it (JSON)
        self.replies: list[Reply] = []
        self.deliveries: list[str] = []
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        self.delivery_counter = 0
        self.locale: str | None = None

    # --- set-up -----------------------------------------------------------------------------------

    @initialize(
        email=st.sampled_from(sorted(PROFILES)),
        locale=st.sampled_from([None, "en-US", "fr-FR"]),
        saved=st.booleans(),
    )
    def start(self, email: str, locale: str | None, saved: bool) -> None:
        self.email = email
        self.locale = locale
        self.profile = PROFILES[email]
        if saved and self.profile is not None:
            answers, _ = revalidate(self.profile, SavedPreferences(role=self.profile.roles[0]).as_answers())
            self.preferences = SavedPreferences.from_answers(answers, None)
        result = ENGINE.open(FlowState(email=email), self.context())
        self.finish(FlowState(email=email), result, None)

    # --- the turn runner's part ---------------------------------------------------------------------

    def state(self) -> FlowState:
        return FlowState.model_validate(json.loads(json.dumps(self.saved)))

    def context(self, *, profile_fails: bool = False) -> TurnContext:
        if profile_fails and self.profile is not None:
            return TurnContext(
                profile=None,
                preferences=self.preferences,
                profile_error=FailureReason.SERVICE_ERROR,
                profile_error_tracking_id="LOGINBOT-read-failed",
                locale=self.locale,
                now=self.now,
            )
        return TurnContext(
            profile=self.profile, preferences=self.preferences, locale=self.locale, now=self.now
        )

    def send(self, message: UserMessage, draw: st.DataObject, *, crash: bool = False) -> None:
        """One turn: the engine, then each effect performed and its outcome fed back, as the runner
        does. `crash`: the process dies once it has claimed a call, before the call comes back."""
        self.now += timedelta(seconds=draw.draw(st.sampled_from([1, 5, 30, 90]), label="seconds later"))
        before = self.state()
        failing = draw.draw(st.integers(0, 9), label="profile read") == 0
        context = self.context(profile_fails=failing)
        result = ENGINE.turn(before, message, context)
        if message.delivery_id is not None and message.delivery_id in before.deliveries:
            assert result.duplicate and not result.replies and not result.effects, "a retry was processed"
            assert result.state == before
            return
        assert not result.duplicate
        self.check_effects(result.effects, in_flight_before=before.in_flight)
        if crash and any(isinstance(e, SIDE_EFFECTS) for e in result.effects):
            self.saved = result.state.model_dump(mode="json")  # the claim was committed, then nothing
            self.replies = []
            assert result.state.in_flight, "a call was started without being claimed"
            return
        self.finish(before, result, draw, context)

    def finish(
        self,
        before: FlowState,
        result: TurnResult,
        draw: st.DataObject | None,
        context: TurnContext | None = None,
    ) -> None:
        context = context or self.context()
        state, replies = result.state, list(result.replies)
        queue = list(result.effects)
        handled = 0
        while queue and handled < MAX_EVENTS:
            effect = queue.pop(0)
            handled += 1
            if isinstance(effect, SavePreferences):
                self.preferences = effect.preferences
                continue
            assert draw is not None, "an opening asked for an effect"
            outcome = ENGINE.on_event(state, outcome_of(effect, context.profile, draw), context)
            self.check_effects(outcome.effects)
            state = outcome.state
            replies.extend(outcome.replies)
            queue.extend(outcome.effects)
        assert not queue, f"effects still queued after {MAX_EVENTS}: {queue}"
        # Nobody is stuck: what this turn started came back; a call an earlier (crashed) turn claimed
        # is waited for, within its grace, then settled.
        assert state.in_flight in (None, before.in_flight), f"left in flight: {state.in_flight}"
        if before.in_flight and state.in_flight:
            said = {r.key for r in replies}
            assert said & {"busy.still_working", "input.empty", "input.too_long"}, said
            if "busy.still_working" in said:
                assert context.now - (before.in_flight_since or before.updated_at) < IN_FLIGHT_GRACE
        self.check_replies(state, replies)
        self.saved = state.model_dump(mode="json")
        self.replies = replies

    # --- checks ----------------------------------------------------------------------------------

    def check_effects(self, effects: list[Effect], *, in_flight_before: str | None = None) -> None:
        """`in_flight_before`: what an earlier turn left in flight (a claim whose outcome never came)."""
        if in_flight_before:
            calls = [e for e in effects if isinstance(e, SIDE_EFFECTS)]
            assert not calls, f"{calls} started while {in_flight_before} was in flight"
        for effect in effects:
            if isinstance(effect, SubmitLogin):
                profile = self.profile
                assert profile is not None, "a sign-in for a user the contact center does not know"
                request = effect.request
                assert request.role in profile.roles
                if request.role.needs_team:
                    assert profile.team(request.team_id) is not None, f"S10: {request}"
                if request.call_preference is CallPreference.EXTENSION:
                    assert request.dial_number in profile.extensions, request
                if request.call_preference is CallPreference.DIAL_NUMBER:
                    assert request.dial_number.startswith("+"), request

    def check_replies(self, state: FlowState, replies: list[Reply]) -> None:
        assert replies, "a turn without a reply"
        for reply in replies:
            assert reply.text.strip(), reply.key
            if reply.document is None:  # a long answer (a checklist) is its document's text
                assert all(reply.key in keys for keys in CATALOG_KEYS.values()), (
                    f"{reply.key} not in a catalog"
                )
            assert not PLACEHOLDER.search(reply.text), f"unfilled placeholder in {reply.key}: {reply.text}"
            for choice in reply.choices:
                assert choice.value and choice.label.strip(), reply
        if state.step is not None and not any(r.kind is ReplyKind.FAILURE for r in replies):
            asked = [r for r in replies if r.kind in (ReplyKind.PROMPT, ReplyKind.SUMMARY)]
            assert any(r.step == state.step.value for r in asked), (
                f"waiting at {state.step.value} without asking it: {[r.key for r in replies]}"
            )

    @invariant()
    def the_state_is_valid(self) -> None:
        if not self.saved:
            return
        state = self.state()
        assert state.model_dump(mode="json") == self.saved  # round-trips through its JSON form
        assert state.step is None or isinstance(state.step, Step)
        assert state.email == self.email
        assert state.language in (None, *LANGUAGES)
        assert len(state.deliveries) <= MAX_DELIVERIES_KEPT
        assert len(set(state.deliveries)) == len(state.deliveries)
        if self.profile is not None:
            _, dropped = revalidate(self.profile, state.answers)
            assert not dropped, f"answers the profile does not allow: {dropped} in {state.answers}"

    # --- what the user does ----------------------------------------------------------------------

    def delivery(self, draw: st.DataObject) -> str | None:
        if not draw.draw(st.booleans(), label="platform delivery id"):
            return None
        self.delivery_counter += 1
        delivery = f"Ev{self.delivery_counter:06d}"
        self.deliveries.append(delivery)
        return delivery

    @rule(text=st.sampled_from(TEXTS + COMMANDS), data=st.data())
    def type_text(self, text: str, data: st.DataObject) -> None:
        self.send(UserMessage(text=text, delivery_id=self.delivery(data)), data)

    @rule(text=st.text(max_size=60), data=st.data())
    def type_anything(self, text: str, data: st.DataObject) -> None:
        self.send(UserMessage(text=text, delivery_id=self.delivery(data)), data)

    @rule(number=st.integers(0, 14), data=st.data())
    def type_a_number(self, number: int, data: st.DataObject) -> None:
        self.send(UserMessage(text=str(number), delivery_id=self.delivery(data)), data)

    @precondition(lambda self: any(r.choices for r in self.replies))
    @rule(index=st.integers(0, 30), data=st.data())
    def click_a_button_shown(self, index: int, data: st.DataObject) -> None:
        choices = [c for r in self.replies for c in r.choices]
        choice = choices[index % len(choices)]
        self.send(UserMessage(text=choice.label, choice=choice.value, delivery_id=self.delivery(data)), data)

    @rule(value=st.sampled_from(BUTTONS), data=st.data())
    def click_a_stale_or_forged_button(self, value: str, data: st.DataObject) -> None:
        self.send(UserMessage(choice=value, delivery_id=self.delivery(data)), data)

    @precondition(lambda self: bool(self.deliveries))
    @rule(index=st.integers(0, 100), text=st.sampled_from(["yes", "", "cancel"]), data=st.data())
    def deliver_again(self, index: int, text: str, data: st.DataObject) -> None:
        """A platform retry of an earlier delivery (recent ones are recognised, X2)."""
        recent = self.deliveries[-MAX_DELIVERIES_KEPT:]
        delivery = recent[index % len(recent)]
        self.send(UserMessage(text=text, choice="confirm:yes", delivery_id=delivery), data)

    @precondition(lambda self: any(r.choices for r in self.replies))
    @rule(index=st.integers(0, 30), data=st.data())
    def click_then_crash(self, index: int, data: st.DataObject) -> None:
        """The process dies right after claiming whatever call this click starts."""
        choices = [c for r in self.replies for c in r.choices]
        choice = choices[index % len(choices)]
        self.send(UserMessage(text=choice.label, choice=choice.value), data, crash=True)


FlowMachine.TestCase.settings = settings(PROPERTY, max_examples=100, stateful_step_count=30)
TestFlowMachine = FlowMachine.TestCase


# --- what the machine found: a profile read that fails in the middle of the dialog ----------------


def _ava_at(step: str) -> tuple[FlowState, TurnContext]:
    """Ava's conversation waiting at `step`, walked with buttons on a healthy backend."""
    profile = PROFILES["ava.lead@example.com"]
    context = TurnContext(profile=profile)
    state = FlowState(email="ava.lead@example.com", language="en")
    path = [
        ("role", "cmd:login"),
        ("call_preference", "role:supervisor_agent"),
        ("extension", "call:extension"),
        ("team", "ext:1001"),
        ("auto_login", "team:t-billing"),
        ("confirm", "auto:no"),
    ]
    for reached, choice in path:
        result = ENGINE.turn(state, UserMessage(choice=choice), context)
        state = result.state
        for effect in result.effects:
            assert isinstance(effect, CheckSession)
            state = ENGINE.on_event(state, SessionChecked(None, held_here=False), context).state
        assert state.step is not None and state.step.value == reached, (choice, state.step)
        if reached == step:
            return state, context
    raise AssertionError(step)


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("team", UserMessage(text="Billing")),
        ("team", UserMessage(text="")),
        ("team", UserMessage(text="help")),
        ("extension", UserMessage(text="1002")),
        ("confirm", UserMessage(choice="confirm:yes")),
        ("confirm", UserMessage(text="yes")),
        ("confirm", UserMessage(choice="change:team")),
        ("confirm", UserMessage(text="change the team")),
    ],
    ids=repr,
)
def test_a_profile_that_cannot_be_read_mid_dialog_is_explained_and_the_step_waits(
    step: str, message: UserMessage
) -> None:
    state, healthy = _ava_at(step)
    failing = TurnContext(
        profile=None, profile_error=FailureReason.SERVICE_ERROR, profile_error_tracking_id="LOGINBOT-read-1"
    )
    result = ENGINE.turn(state, message, failing)
    keys = [r.key for r in result.replies]
    assert "failure.SERVICE_ERROR" in keys and "failure.tracking_id" in keys, keys
    assert "LOGINBOT-read-1" in " ".join(r.text for r in result.replies)
    assert result.effects == []
    assert result.state.step == state.step and result.state.answers == state.answers
    # The backend is back: the same message goes on as it would have.
    again = ENGINE.turn(result.state, message, healthy)
    assert not any(r.key.startswith("failure.") for r in again.replies), [r.key for r in again.replies]
