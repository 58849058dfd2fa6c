"""`validate_login_form`: the form's slots checked with the flow's own validators and questions.

Rasa calls the validation action with a temporary tracker whose events end with the candidate
`SlotSet`s (only that trailing run is validated), and with none when the form starts or resumes.
Each candidate is checked by the same `validate_<step>` as the flow (`bot/flow/steps.py`) against
the user's profile; the flow's `Dialog` then fills what the profile decides (S1-S4, S8, announced)
and asks the next question in the user's language. The answer is a list of slot values: the value
to accept, None to reject (with the reason said), and `requested_slot`, None when all is answered.
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
from bot.flow.steps import NOT_UNDERSTOOD, SPECS, Verdict, default_country_code
from bot.flow.teams import filter_teams
from bot.flow.turn import Turn

FORM = "login_form"
IDENTITY_SLOTS = ("email", "verification_code")
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
REQUIRED_SLOTS = (*IDENTITY_SLOTS, *STEP_OF_SLOT)
# Bookkeeping slots the form sets itself (no mapping from messages).
HELPER_SLOTS = ("pending_national", "team_candidates")


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
    ) -> LoginFormValidator:
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
        return cls(recognizer, state, context)

    def run(self, slots: Mapping[str, Any], candidates: Mapping[str, Any]) -> FormOutcome:
        before = {**slot_values(answers_from_slots(slots)), **{h: slots.get(h) for h in HELPER_SLOTS}}
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
        self.turn.advance()
        return self.outcome(before, candidates, rejected, ambiguous)

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
        elif step is Step.TEAM and self.turn.state.team_candidates:
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

    # --- the answer --------------------------------------------------------------------------------

    def outcome(
        self,
        before: dict[str, Any],
        candidates: Mapping[str, Any],
        rejected: list[str],
        ambiguous: str | None,
    ) -> FormOutcome:
        state = self.turn.state
        after: dict[str, Any] = {
            **slot_values(state.answers),
            "pending_national": state.answers.pending_national,
            "team_candidates": list(state.team_candidates) or None,
        }
        events: dict[str, Any] = {}
        for slot in STEP_OF_SLOT:
            # A rejected candidate is None again, unless the profile then filled that answer (S1).
            if slot in candidates or after[slot] != before.get(slot):
                events[slot] = after[slot]
        for slot in HELPER_SLOTS:
            if after[slot] != before.get(slot):
                events[slot] = after[slot]
        done = state.step in (None, Step.CONFIRM)
        replies = [r for r in self.turn.replies if r.key not in ("ask.confirm", "ask.team_which")]
        if ambiguous is not None and state.team_candidates:
            events["team"] = None
            replies = [r for r in replies if not (r.step == "team" and r.kind is ReplyKind.PROMPT)]
            teams = [t for t in self.profile.teams if t.id in state.team_candidates]
            which = next(r for r in self.turn.replies if r.key == "ask.team_which")
            text = rasa_catalog().text(
                state.language, "rasa.team_ambiguous", typed=ambiguous, teams=", ".join(t.name for t in teams)
            )
            replies.append(Reply("rasa.team_ambiguous", text, ReplyKind.PROMPT, which.choices, "team"))
        requested = None if done else SLOT_OF_STEP.get(state.step) if state.step else None
        return FormOutcome(events, replies, requested)
