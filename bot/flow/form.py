"""The sign-in as a form: for channels that gather answers themselves (a Rasa form's slots), the
flow checks them with the same readings, validators and questions as a typed conversation.

A form call gives the values gathered since the last call (by step), the values kept before, and
the answer to the summary; it returns the state the form now stands for, what to say, which
step to ask next (None when every answer is in and confirmed), and which candidates were refused.
Form values are plain: an option's value ("supervisor_agent"), digits, a team id or what was typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.backend.port import CallPreference, Role
from bot.flow import phrasing
from bot.flow.conversation import Conversation
from bot.flow.filling import advance, apply_verdict, change, prefill_from_preferences
from bot.flow.form_reading import place
from bot.flow.prompts import prompt
from bot.flow.readings import mentions_field
from bot.flow.replies import Reply, ReplyKind
from bot.flow.requests import explain
from bot.flow.signin import change_field, imply_call_preference
from bot.flow.state import Answers, FlowState, Step
from bot.flow.steps import FIELD_STEPS, LOGIN_STEPS, SPECS, Verdict, complete, default_country_code
from bot.flow.teams import filter_teams

if TYPE_CHECKING:
    from bot.flow.views import ConversationView

# The form's fields, in the dialog's order: each sign-in step, named by its value.
FORM_STEPS: tuple[Step, ...] = tuple(spec.step for spec in LOGIN_STEPS)
# The recognizer's entity each field maps from, for a message that answers ahead of the questions.
ENTITY_OF_STEP: dict[Step, str] = {spec.step: spec.entities[0] for spec in LOGIN_STEPS if spec.entities}


@dataclass(frozen=True)
class FormInput:
    values: Mapping[Step, object]  # every value the form holds (kept and new)
    candidates: Mapping[Step, object] = field(default_factory=dict)  # the new ones, to check
    confirm: object = None  # the answer to the summary: a bool, or what was typed
    prefill: bool = False  # fill in the saved preferences (the form starts)
    typed: str | None = None  # the message these values come from, read as the flow reads it


@dataclass
class FormResult:
    state: FlowState
    replies: list[Reply]
    asked: Step | None  # the question to ask next: a step, CONFIRM, or None when all is confirmed
    confirmed: bool = False
    ambiguous: str | None = None  # a team name several teams match: the form asks which one
    rejected: tuple[Step, ...] = ()
    status_asked: bool = False  # "am I signed in?": the channel answers it with the flow's status

    def values(self) -> dict[Step, object]:
        return form_values(self.state)


def answers_of(values: Mapping[Step, object]) -> Answers:
    """The flow's answers from a form's plain values."""
    text = {
        step: (str(v) if v is not None and not isinstance(v, bool) else None) for step, v in values.items()
    }
    role, call = text.get(Step.ROLE), text.get(Step.CALL_PREFERENCE)
    auto = values.get(Step.AUTO_LOGIN)
    return Answers(
        role=Role(role) if role is not None and role in Role.__members__.values() else None,
        call_preference=CallPreference(call) if call is not None and call in set(CallPreference) else None,
        extension=text.get(Step.EXTENSION),
        dial_number=text.get(Step.DIAL_NUMBER),
        country_code=text.get(Step.COUNTRY_CODE),
        team_id=text.get(Step.TEAM),
        auto_login=auto if isinstance(auto, bool) else None,
    )


def form_values(state: FlowState) -> dict[Step, object]:
    """A state's answers as the form's plain values, by step."""
    answers = state.answers
    values: dict[Step, object] = {}
    for spec in LOGIN_STEPS:
        value = getattr(answers, spec.slot)
        values[spec.step] = value.value if isinstance(value, Role | CallPreference) else value
    return values


class FormCall:
    """One call of the form, on the conversation the form's values stand for."""

    def __init__(self, c: Conversation) -> None:
        assert c.profile is not None
        self.c = c
        self.profile = c.profile
        self.confirmed = False

    def run(self, form: FormInput) -> FormResult:
        c = self.c
        before = form_values(FlowState(answers=answers_of(form.values)))
        if form.prefill:
            prefill_from_preferences(c, explain=True)
        if form.typed is not None:
            typed = place(c, dict(form.candidates), form.typed)
        else:
            typed = place(c, dict(form.candidates), self._typed(form), message=False)
        if typed.explain:
            explain(c, typed.text, ask_again=False)
        if typed.reopen is not None and typed.reopen in FIELD_STEPS:
            change(c, SPECS[typed.reopen])
        rejected: list[Step] = []
        ambiguous: str | None = None
        for step, value in typed.candidates.items():
            if value is None:
                continue
            c.state.step = step
            imply_call_preference(c, step)
            verdict = self.verdict(step, value)
            if verdict.candidates:
                ambiguous = str(value)
            if not apply_verdict(c, SPECS[step], verdict):
                rejected.append(step)
        changed = form_values(c.state) != before
        # A button's text ("Dial number" under "What would you like to change?") may also read as an
        # answer equal to the current one: only an answer that changed something wins over the summary.
        quiet = typed.explain or typed.status or typed.reopen is not None
        if form.confirm is not None and not (changed or rejected or ambiguous or quiet):
            self.answer_confirm(typed.confirm if typed.confirm is not None else form.confirm)
        else:
            advance(c)
        result = FormResult(c.state, c.replies, self.asked(), self.confirmed, ambiguous, tuple(rejected))
        result.status_asked = typed.status
        return result

    def _typed(self, form: FormInput) -> object:
        asked = self.c.state.step
        return form.candidates.get(asked) if asked is not None else None

    def asked(self) -> Step | None:
        step = self.c.state.step
        if step in (Step.CONFIRM, Step.CHANGE_FIELD):
            return Step.CONFIRM
        return step

    def verdict(self, step: Step, value: object) -> Verdict:
        spec = SPECS[step]
        if isinstance(value, bool):
            return Verdict(value) if step is Step.AUTO_LOGIN else Verdict(error="step.not_understood")
        text = str(value).strip()
        if not text:
            return Verdict(error="step.not_understood")
        vocabulary = spec.vocabulary(asked=True)
        if vocabulary is not None and step not in (Step.DIAL_NUMBER, Step.COUNTRY_CODE):
            read = vocabulary.value(text)
            if step is Step.AUTO_LOGIN:
                return Verdict(read == "yes") if read else self._yes_no_intent(text)
            text = read or self._entity(spec.entities, text) or text
        special = self._special(step, text)
        if special is not None:
            return special
        assert spec.validate is not None
        return spec.validate(text, self.profile, self.c.state.answers)

    def _special(self, step: Step, text: str) -> Verdict | None:
        """The answers a validator does not read: "default", "international", a team id or a name
        that narrows a "which one?"."""
        c, profile = self.c, self.profile
        choice = phrasing.NUMBER_CHOICE_WORDS.value(text)
        if step is Step.DIAL_NUMBER:
            default = c.default_number()
            if default and (choice == "default" or self._intent(text) == "affirm"):
                return Verdict(default)
            return Verdict(needs_country_code="") if choice == "international" else None
        if step is Step.COUNTRY_CODE:
            return Verdict(default_country_code(profile)) if choice == "default" else None
        if step is not Step.TEAM:
            return None
        if profile.team(text) is not None:
            return Verdict(text)  # the form holds the team id it accepted before
        candidates = [t for t in profile.teams if t.id in c.state.team_candidates]
        narrowed = filter_teams(text, candidates) if candidates else []
        return Verdict(narrowed[0].id) if len(narrowed) == 1 else None

    def _yes_no_intent(self, text: str) -> Verdict:
        intent = self._intent(text)
        if intent in ("affirm", "deny"):
            return Verdict(intent == "affirm")
        return Verdict(error="step.not_understood")

    def _entity(self, names: tuple[str, ...], text: str) -> str | None:
        parse = self.c.recognizer.parse(text, region=self.profile.default_region)
        found = next((parse.entity(name) for name in names if parse.entity(name)), None)
        return found.value if found else None

    def _intent(self, text: str) -> str:
        return self.c.recognizer.parse(text, region=self.profile.default_region).intent

    def answer_confirm(self, value: object) -> None:
        """ "Save and continue?": yes ends the form (only when every answer is in), no asks which answer
        to change, and an answer's name ("the team") opens that answer again."""
        c = self.c
        c.state.step = Step.CONFIRM
        choice = self.confirm_choice(value)
        if choice is True:
            if complete(self.profile, c.state.answers):
                self.confirmed = True
                c.state.step = None
            else:
                advance(c)  # never submitted with a missing answer
        elif choice is False:
            c.state.step = Step.CHANGE_FIELD
            prompt(c)
        elif isinstance(choice, Step):
            change_field(c, choice.value)
        else:
            c.say("invalid.step.not_understood", ReplyKind.ERROR)
            advance(c)

    def confirm_choice(self, value: object) -> bool | Step | None:
        if isinstance(value, bool):
            return value
        text = str(value).strip()
        if not text:
            return None
        field_step = mentions_field(self.c, text)
        if field_step is not None:
            return field_step
        read = phrasing.CONFIRM_REPLIES.value(text)
        if read is not None:
            return read == "yes"
        if text.casefold() in ("true", "/affirm", "false", "/deny"):
            return text.casefold() in ("true", "/affirm")
        intent = self._intent(text)
        return intent == "affirm" if intent in ("affirm", "deny") else None


def form_state(
    *,
    email: str,
    language: str,
    values: Mapping[Step, object],
    asked: Step | None,
    candidates: frozenset[Step] = frozenset(),
    team_candidates: list[str] | None = None,
    pending_national: str | None = None,
    base: ConversationView | None = None,
    resume_editing: bool = True,
) -> FlowState:
    """The flow state a form's values stand for (`candidates`: new values, not checked yet); `base`,
    the flow's own state when it started the sign-in, adds what a form does not hold (numbers the
    contact center refused, and with `resume_editing` the answer being corrected)."""
    kept = {step: value for step, value in values.items() if step not in candidates}
    answers = answers_of(kept).model_copy(update={"pending_national": pending_national})
    state = FlowState(
        email=email,
        language=language,
        language_chosen=True,
        step=asked,
        answers=answers,
        team_candidates=list(team_candidates or []),
    )
    if base is not None:
        state.refused_numbers = list(base.state.refused_numbers)
        state.editing = base.state.editing if resume_editing else None
    if asked is not None and (asked in candidates or values.get(asked) is None):
        state.editing = asked  # a question asked stays asked, never silently filled
    return state
