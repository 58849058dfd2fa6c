"""`validate_login_form`: the form's slots checked by the flow's form API (`bot/flow/form.py`).

Rasa calls the validation action with a temporary tracker whose events end with the candidate
`SlotSet`s (only that trailing run is validated), and with none when the form starts or resumes.
This module only translates: slots to the flow's form values (each slot is named after its step)
and the flow's result back to `SlotSet`s, replies and the next `requested_slot`. The summary's
"Save and continue?" is the `confirm` slot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.channels.rasa.services import rasa_catalog
from bot.flow.engine import FlowEngine, FormInput, TurnContext
from bot.flow.form import ENTITY_OF_STEP, FORM_STEPS, FormResult, answers_of, form_state, form_values
from bot.flow.inputs import Understands
from bot.flow.replies import Reply, ReplyKind
from bot.flow.state import Answers, FlowState, Step
from bot.flow.views import ConversationView, view_of

FORM = "login_form"
IDENTITY_SLOTS = ("email", "verification_code")
TAKE_OVER = "take_over"  # "continue here?" when the user holds a session elsewhere
CONFIRM = "confirm"  # "Save and continue?" under the summary
# The form's slots, in the desktop dialog's order: each one is a step of the flow, named by it.
STEP_OF_SLOT: dict[str, Step] = {step.value: step for step in FORM_STEPS}
SLOT_OF_STEP = {step: slot for slot, step in STEP_OF_SLOT.items()}
# The entity each slot maps from (domain.yml), in a message that answers ahead of the questions.
ENTITY_OF_SLOT = {step.value: entity for step, entity in ENTITY_OF_STEP.items()}
REQUIRED_SLOTS = (*IDENTITY_SLOTS, TAKE_OVER, *STEP_OF_SLOT, CONFIRM)
# Bookkeeping slots the form sets itself (no mapping from messages).
HELPER_SLOTS = ("pending_national", "team_candidates")
# What a sign-in leaves behind, cleared for the next one (identity stays: it is the user's).
SIGN_IN_SLOTS = (TAKE_OVER, *STEP_OF_SLOT, CONFIRM, *HELPER_SLOTS)


def _values(slots: Mapping[str, Any], skip: frozenset[str] = frozenset()) -> dict[Step, object]:
    return {step: None if slot in skip else slots.get(slot) for slot, step in STEP_OF_SLOT.items()}


def answers_from_slots(slots: Mapping[str, Any], *, skip: frozenset[str] = frozenset()) -> Answers:
    """The flow's answers from validated slot values (`skip`: candidates not validated yet)."""
    pending = slots.get("pending_national")
    answers = answers_of(_values(slots, skip))
    return answers.model_copy(update={"pending_national": pending if isinstance(pending, str) else None})


def slot_values(answers: Answers) -> dict[str, Any]:
    return {step.value: value for step, value in form_values(FlowState(answers=answers)).items()}


def form_slots(conversation: ConversationView) -> dict[str, Any]:
    """The slots a conversation stands for: its answers and the form's bookkeeping (`HELPER_SLOTS`)."""
    return {
        **{step.value: value for step, value in conversation.values.items()},
        "pending_national": conversation.pending_national,
        "team_candidates": list(conversation.team_candidates) or None,
    }


@dataclass
class FormOutcome:
    slots: dict[str, Any] = field(default_factory=dict)  # SlotSet events to return, in order
    replies: list[Reply] = field(default_factory=list)
    requested_slot: str | None = None
    status_asked: bool = False  # "am I signed in?" was typed: the action answers it with the flow's status


class LoginFormValidator:
    """One validation call of the form, for a user whose profile is known."""

    def __init__(self, recognizer: Understands, state: FlowState, context: TurnContext) -> None:
        assert context.profile is not None
        self.engine = FlowEngine(recognizer)
        self.state = state
        self.context = context
        self.profile = context.profile

    @classmethod
    def for_slots(
        cls,
        recognizer: Understands,
        context: TurnContext,
        *,
        email: str,
        language: str,
        slots: Mapping[str, Any],
        candidates: Mapping[str, Any],
        base: ConversationView | None = None,
        started: bool = False,
    ) -> LoginFormValidator:
        """The flow state the slots stand for; `base`, the flow's own state when it just started the
        sign-in, adds what slots do not carry."""
        requested = slots.get("requested_slot")
        team_candidates = slots.get("team_candidates")
        pending = slots.get("pending_national")
        state = form_state(
            email=email,
            language=language,
            values=_values(slots),
            asked=STEP_OF_SLOT.get(requested) if isinstance(requested, str) else None,
            candidates=frozenset(STEP_OF_SLOT[s] for s in candidates if s in STEP_OF_SLOT),
            team_candidates=[str(t) for t in team_candidates] if isinstance(team_candidates, list) else [],
            pending_national=pending if isinstance(pending, str) else None,
            base=base,
            resume_editing=started,
        )
        return cls(recognizer, state, context)

    def run(
        self,
        slots: Mapping[str, Any],
        candidates: Mapping[str, Any],
        *,
        confirm: object = None,
        prefill: bool = False,
        typed: str | None = None,
    ) -> FormOutcome:
        """Validate the step candidates, then answer the summary (`confirm`) or ask what is missing.

        `prefill`: the form starts with the saved preferences filled in, as the flow does.
        """
        before = {**slot_values(answers_from_slots(slots)), **{h: slots.get(h) for h in HELPER_SLOTS}}
        form = FormInput(
            values=_values(slots),
            candidates={STEP_OF_SLOT[s]: v for s, v in candidates.items() if s in STEP_OF_SLOT},
            confirm=confirm,
            prefill=prefill,
            typed=typed,
        )
        result = self.engine.fill_form(self.state, form, self.context)
        outcome = self.outcome(result, before, candidates)
        if confirm is not None or slots.get(CONFIRM) is not None or result.confirmed:
            outcome.slots[CONFIRM] = True if result.confirmed else None
        return outcome

    def outcome(
        self, result: FormResult, before: dict[str, Any], candidates: Mapping[str, Any]
    ) -> FormOutcome:
        state = result.state
        after = form_slots(view_of(state))
        events: dict[str, Any] = {}
        for slot in STEP_OF_SLOT:
            # A rejected candidate is None again, unless the profile then filled that answer.
            if slot in candidates or after[slot] != before.get(slot):
                events[slot] = after[slot]
        for slot in HELPER_SLOTS:
            if after[slot] != before.get(slot):
                events[slot] = after[slot]
        replies = [r for r in result.replies if r.key != "ask.team_which"]
        if result.ambiguous is not None and state.team_candidates:
            events["team"] = None
            replies = [r for r in replies if not (r.step == "team" and r.kind is ReplyKind.PROMPT)]
            teams = [t for t in self.profile.teams if t.id in state.team_candidates]
            which = next(r for r in result.replies if r.key == "ask.team_which")
            text = rasa_catalog().text(
                state.language,
                "rasa.team_ambiguous",
                typed=result.ambiguous,
                teams=", ".join(t.name for t in teams),
            )
            replies.append(Reply("rasa.team_ambiguous", text, ReplyKind.PROMPT, which.choices, "team"))
        asked = result.asked
        requested = CONFIRM if asked is Step.CONFIRM else SLOT_OF_STEP.get(asked) if asked else None
        return FormOutcome(events, replies, requested, result.status_asked)


def take_over_question(
    recognizer: Understands, context: TurnContext, email: str, language: str
) -> list[Reply]:
    """The flow's "Do you want to continue here?" with its buttons."""
    state = FlowState(email=email, language=language, language_chosen=True, step=Step.TAKE_OVER)
    return FlowEngine(recognizer).ask(state, context)
