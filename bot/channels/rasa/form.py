"""`validate_login_form`: the form's slots checked with the flow's own validators and questions.

Rasa calls the validation action with a temporary tracker whose events end with the candidate
`SlotSet`s (only that trailing run is validated), and with none when the form starts or resumes.
Each candidate is checked by the same `validate_<step>` as the flow (`bot/flow/steps.py`) against
the user's profile; the flow's `Dialog` then fills what the profile decides (S1-S4, S8, announced)
and asks the next question in the user's language. Once every answer is in, the summary asks
"Save and continue?" (the `confirm` slot, S10): yes ends the form, no or a field's name opens that
answer again. The answer is a list of slot values: the value to accept, None to reject (with the
reason said), and `requested_slot`, None when all is answered and confirmed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.backend.port import CallPreference, Role
from bot.channels.rasa.services import rasa_catalog
from bot.flow.catalog import Catalog
from bot.flow.engine import TurnContext
from bot.flow.inputs import Understands
from bot.flow.replies import Reply, ReplyKind
from bot.flow.state import Answers, FlowState, Step
from bot.flow.steps import FIELD_STEPS, NOT_UNDERSTOOD, SPECS, Verdict, complete, default_country_code
from bot.flow.teams import filter_teams
from bot.flow.turn import Turn

FORM = "login_form"
IDENTITY_SLOTS = ("email", "verification_code")
TAKE_OVER = "take_over"  # "continue here?" when the user holds a session elsewhere (S12)
CONFIRM = "confirm"  # "Save and continue?" under the summary (S10)
# The form's slots, in the desktop dialog's order; each one is a step of the flow.
STEP_OF_SLOT: dict[str, Step] = {
    "role": Step.ROLE,
    "call_preference": Step.CALL_PREFERENCE,
    "extension": Step.EXTENSION,
    "country_code": Step.COUNTRY_CODE,
    "dial_number": Step.DIAL_NUMBER,
    "team": Step.TEAM,
    "auto_login": Step.AUTO_LOGIN,
}
SLOT_OF_STEP = {step: slot for slot, step in STEP_OF_SLOT.items()}
# The entity each slot maps from (domain.yml), in a message that answers ahead of the questions.
ENTITY_OF_SLOT = {
    "role": "role",
    "call_preference": "call_preference",
    "extension": "extension",
    "dial_number": "phone_number",
    "team": "team",
}
REQUIRED_SLOTS = (*IDENTITY_SLOTS, TAKE_OVER, *STEP_OF_SLOT, CONFIRM)
# Bookkeeping slots the form sets itself (no mapping from messages).
HELPER_SLOTS = ("pending_national", "team_candidates")
# What a sign-in leaves behind, cleared for the next one (identity stays: it is the user's).
SIGN_IN_SLOTS = (TAKE_OVER, *STEP_OF_SLOT, CONFIRM, *HELPER_SLOTS)


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def answers_from_slots(slots: Mapping[str, Any], *, skip: frozenset[str] = frozenset()) -> Answers:
    """The flow's answers from validated slot values (`skip`: candidates not validated yet)."""

    def get(name: str) -> Any:
        return None if name in skip else slots.get(name)

    role, call = get("role"), get("call_preference")
    auto = get("auto_login")
    pending = slots.get("pending_national")
    return Answers(
        role=Role(role) if role in Role.__members__.values() else None,
        call_preference=CallPreference(call) if call in CallPreference.__members__.values() else None,
        extension=_text(get("extension")) if get("extension") is not None else None,
        dial_number=_text(get("dial_number")) if get("dial_number") is not None else None,
        country_code=_text(get("country_code")) if get("country_code") is not None else None,
        pending_national=pending if isinstance(pending, str) else None,
        team_id=_text(get("team")) if get("team") is not None else None,
        auto_login=auto if isinstance(auto, bool) else None,
    )


def slot_values(answers: Answers) -> dict[str, Any]:
    return {
        "role": answers.role.value if answers.role else None,
        "call_preference": answers.call_preference.value if answers.call_preference else None,
        "extension": answers.extension,
        "country_code": answers.country_code,
        "dial_number": answers.dial_number,
        "team": answers.team_id,
        "auto_login": answers.auto_login,
    }


def form_slots(state: FlowState) -> dict[str, Any]:
    """The slots a flow state stands for: its answers and the form's bookkeeping (`HELPER_SLOTS`)."""
    return {
        **slot_values(state.answers),
        "pending_national": state.answers.pending_national,
        "team_candidates": list(state.team_candidates) or None,
    }


@dataclass
class FormOutcome:
    slots: dict[str, Any] = field(default_factory=dict)  # SlotSet events to return, in order
    replies: list[Reply] = field(default_factory=list)
    requested_slot: str | None = None


class LoginFormValidator:
    """One validation call of the form, for a user whose profile is known."""

    def __init__(self, recognizer: Understands, state: FlowState, context: TurnContext) -> None:
        self.recognizer = recognizer
        self.turn = Turn(recognizer, Catalog.default(), state, context)
        assert context.profile is not None
        self.profile = context.profile
        self.confirmed = False

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
        base: FlowState | None = None,
    ) -> LoginFormValidator:
        """The flow state the slots stand for; `base`, the flow's own state when it just started the
        sign-in, adds what slots do not carry (numbers the contact center refused, the answer being
        corrected)."""
        requested = slots.get("requested_slot")
        team_candidates = slots.get("team_candidates")
        state = FlowState(
            email=email,
            language=language,
            language_chosen=True,
            step=STEP_OF_SLOT.get(requested) if isinstance(requested, str) else None,
            answers=answers_from_slots(slots, skip=frozenset(candidates)),
            team_candidates=[str(t) for t in team_candidates] if isinstance(team_candidates, list) else [],
        )
        if base is not None:
            state.refused_numbers = list(base.refused_numbers)
            state.editing = base.editing
        if state.step is not None and (requested in candidates or slots.get(str(requested)) is None):
            state.editing = state.step  # a question asked stays asked, never silently filled (S7)
        return cls(recognizer, state, context)

    def run(
        self,
        slots: Mapping[str, Any],
        candidates: Mapping[str, Any],
        *,
        confirm: object = None,
        prefill: bool = False,
    ) -> FormOutcome:
        """Validate the step candidates, then answer the summary (`confirm`) or ask what is missing.

        `prefill`: the form starts with the saved preferences filled in (S7, S8), as the flow does.
        """
        before = {**slot_values(answers_from_slots(slots)), **{h: slots.get(h) for h in HELPER_SLOTS}}
        if prefill:
            self.turn.prefill_from_preferences(explain=True)
        rejected: list[str] = []
        ambiguous: str | None = None
        for slot, value in candidates.items():
            step = STEP_OF_SLOT.get(slot)
            if step is None or value is None:
                continue
            self.turn.state.step = step
            verdict = self.verdict(step, value)
            if verdict.candidates:
                ambiguous = _text(value)
            if not self.turn.apply_verdict(SPECS[step], verdict):
                rejected.append(slot)
        # A button's text ("Dial number" under "What would you like to change?") may also read as an
        # answer equal to the current one: only an answer that changed something wins over the summary.
        changed = slot_values(self.turn.state.answers) != {k: before[k] for k in STEP_OF_SLOT}
        if confirm is not None and not (changed or rejected or ambiguous):
            self.answer_confirm(confirm)
        else:
            self.turn.advance()
        outcome = self.outcome(before, candidates, rejected, ambiguous)
        if confirm is not None or slots.get(CONFIRM) is not None or self.confirmed:
            outcome.slots[CONFIRM] = True if self.confirmed else None
        return outcome

    # --- one candidate ---------------------------------------------------------------------------

    def verdict(self, step: Step, value: object) -> Verdict:
        profile, answers = self.profile, self.turn.state.answers
        if step is Step.AUTO_LOGIN:
            return self.yes_no(value)
        text = _text(value).strip()
        if not text:
            return NOT_UNDERSTOOD
        folded = text.casefold()
        if step in (Step.ROLE, Step.CALL_PREFERENCE):
            text = self.entity(step.value, text) or text
        elif step is Step.DIAL_NUMBER:
            default = self.turn.default_number()
            if default and (folded in self.turn.words("default") or self.intent(text) == "affirm"):
                return Verdict(default)
            if any(word in folded for word in self.turn.words("international")):
                return Verdict(needs_country_code="")
        elif step is Step.COUNTRY_CODE and folded in self.turn.words("default"):
            return Verdict(default_country_code(profile))
        elif step is Step.TEAM:
            if profile.team(text) is not None:
                return Verdict(text)  # the slot holds the team id the form accepted before
            if self.turn.state.team_candidates:
                candidates = [t for t in profile.teams if t.id in self.turn.state.team_candidates]
                narrowed = filter_teams(text, candidates)
                if len(narrowed) == 1:
                    return Verdict(narrowed[0].id)
        spec = SPECS[step]
        assert spec.validate is not None
        return spec.validate(text, profile, answers)

    def yes_no(self, value: object) -> Verdict:
        if isinstance(value, bool):
            return Verdict(value)
        folded = _text(value).strip().casefold().strip(" .!")
        if folded in self.turn.words("yes") or folded in ("true", "/affirm"):
            return Verdict(True)
        if folded in self.turn.words("no") or folded in ("false", "/deny"):
            return Verdict(False)
        intent = self.intent(folded)
        if intent in ("affirm", "deny"):
            return Verdict(intent == "affirm")
        return NOT_UNDERSTOOD

    def entity(self, name: str, text: str) -> str | None:
        """What the recognizer reads in a typed answer ("both", "les deux" -> supervisor_agent)."""
        found = self.recognizer.parse(text, region=self.profile.default_region).entity(name)
        return found.value if found else None

    def intent(self, text: str) -> str:
        return self.recognizer.parse(text, region=self.profile.default_region).intent

    # --- the summary (S10) ---------------------------------------------------------------------------

    def answer_confirm(self, value: object) -> None:
        """ "Save and continue?": yes ends the form (only when every answer is in), no asks which answer
        to change, and a field's name ("the team") opens that answer again."""
        turn = self.turn
        turn.state.step = Step.CONFIRM
        choice = self.confirm_choice(value)
        if choice is True:
            if complete(self.profile, turn.state.answers):
                self.confirmed = True
                turn.state.step = None
            else:
                turn.advance()  # never submitted with a missing answer (S10, T7)
        elif choice is False:
            turn.state.step = Step.CHANGE_FIELD
            turn.prompt()
        elif isinstance(choice, Step):
            turn.change_field(choice.value)
        else:
            turn.say("invalid.step.not_understood", ReplyKind.ERROR)
            turn.advance()

    def confirm_choice(self, value: object) -> bool | Step | None:
        if isinstance(value, bool):
            return value
        folded = _text(value).strip().casefold().strip(" .!")
        if not folded:
            return None
        for step in FIELD_STEPS:
            if any(word in folded for word in self.turn.words(f"field_{step.value}")):
                return step
        if folded in (*self.turn.words("yes"), *self.turn.words("save"), "true", "/affirm"):
            return True
        if folded in (*self.turn.words("no"), "false", "/deny") or any(
            word in folded for word in self.turn.words("change")
        ):
            return False
        intent = self.intent(folded)
        if intent in ("affirm", "deny"):
            return intent == "affirm"
        return None

    # --- the answer --------------------------------------------------------------------------------

    def outcome(
        self,
        before: dict[str, Any],
        candidates: Mapping[str, Any],
        rejected: list[str],
        ambiguous: str | None,
    ) -> FormOutcome:
        state = self.turn.state
        after = form_slots(state)
        events: dict[str, Any] = {}
        for slot in STEP_OF_SLOT:
            # A rejected candidate is None again, unless the profile then filled that answer (S1).
            if slot in candidates or after[slot] != before.get(slot):
                events[slot] = after[slot]
        for slot in HELPER_SLOTS:
            if after[slot] != before.get(slot):
                events[slot] = after[slot]
        replies = [r for r in self.turn.replies if r.key != "ask.team_which"]
        if ambiguous is not None and state.team_candidates:
            events["team"] = None
            replies = [r for r in replies if not (r.step == "team" and r.kind is ReplyKind.PROMPT)]
            teams = [t for t in self.profile.teams if t.id in state.team_candidates]
            which = next(r for r in self.turn.replies if r.key == "ask.team_which")
            text = rasa_catalog().text(
                state.language, "rasa.team_ambiguous", typed=ambiguous, teams=", ".join(t.name for t in teams)
            )
            replies.append(Reply("rasa.team_ambiguous", text, ReplyKind.PROMPT, which.choices, "team"))
        if state.step in (Step.CONFIRM, Step.CHANGE_FIELD):
            requested: str | None = CONFIRM
        elif state.step is not None:
            requested = SLOT_OF_STEP.get(state.step)
        else:
            requested = None
        return FormOutcome(events, replies, requested)


def take_over_question(
    recognizer: Understands, context: TurnContext, email: str, language: str
) -> list[Reply]:
    """The flow's "Do you want to continue here?" with its buttons (S12)."""
    state = FlowState(email=email, language=language, language_chosen=True, step=Step.TAKE_OVER)
    turn = Turn(recognizer, Catalog.default(), state, context)
    turn.prompt()
    return turn.replies
