"""Taking answers: checking one with its step's validator, recording it or saying why it was
refused, and walking the step table to the next question (announcing what the profile decides)."""

from __future__ import annotations

from bot.backend.port import CallPreference, Role
from bot.flow.conversation import Conversation
from bot.flow.prompts import prompt
from bot.flow.replies import Reply, ReplyKind
from bot.flow.state import Answers, Step
from bot.flow.steps import LOGIN_STEPS, SPECS, StepSpec, Verdict, revalidate, validate_team_id


def check(c: Conversation, step: Step, value: str) -> Verdict:
    spec = SPECS[step]
    assert spec.validate is not None and c.profile is not None
    return spec.validate(value, c.profile, c.state.answers)


def apply_verdict(c: Conversation, spec: StepSpec, verdict: Verdict) -> bool:
    """Record an accepted answer, or say why it was refused. Returns whether something was taken."""
    answers = c.state.answers
    if verdict.needs_country_code is not None:
        answers.pending_national = verdict.needs_country_code
        answers.country_code = None
        answers.dial_number = None
        return True
    if verdict.candidates:
        c.state.team_candidates = list(verdict.candidates)
        return True
    if not verdict.accepted:
        say_verdict(c, verdict)
        c.rejected.add(spec.step)
        # A refused answer is asked again with the reason, never replaced by a default the user could
        # have changed; an answer the profile decides alone is announced instead.
        if c.profile is not None and (
            spec.auto(c.profile, answers) is None or spec.open_answer(c.profile, answers)
        ):
            c.state.editing = spec.step
        return False
    accept(c, spec, verdict.value)
    return True


def accept(c: Conversation, spec: StepSpec, value: object) -> None:
    setattr(c.state.answers, spec.slot, value)
    if spec.step is Step.DIAL_NUMBER:
        c.state.answers.pending_national = None
    if spec.step is Step.COUNTRY_CODE:
        _finish_national_number(c)
    if spec.step is Step.TEAM:
        c.state.team_candidates = []
    if c.state.editing is spec.step:
        c.state.editing = None
    c.state.errors = 0


def change(c: Conversation, spec: StepSpec) -> None:
    """Forget an answer and what depends on it, so that its question is asked (never auto-filled)."""
    c.state.answers = c.state.answers.cleared(spec.slot, *spec.clears)
    if spec.step is Step.TEAM:
        c.state.team_candidates = []
    c.state.editing = spec.step


def repeats(c: Conversation, step: Step, text: str) -> bool:
    """Whether an answer read in a message is the one already given (so it changes nothing)."""
    spec = SPECS[step]
    current = getattr(c.state.answers, spec.slot)
    if current is None or c.profile is None:
        return False
    if step is Step.AUTO_LOGIN:
        return current == (text == "yes")
    verdict = spec.validate(text, c.profile, c.state.answers) if spec.validate else None
    return verdict is not None and verdict.accepted and verdict.value == current


def pick_team(c: Conversation, team_id: str) -> None:
    assert c.profile is not None
    apply_verdict(c, SPECS[Step.TEAM], validate_team_id(team_id, c.profile, c.state.answers))


def _finish_national_number(c: Conversation) -> None:
    """The country code is known: the national number typed earlier becomes E.164."""
    answers = c.state.answers
    pending, answers.pending_national = answers.pending_national, None
    if not pending or c.profile is None:
        c.state.editing = Step.DIAL_NUMBER if pending == "" else c.state.editing
        return
    apply_verdict(c, SPECS[Step.DIAL_NUMBER], check(c, Step.DIAL_NUMBER, pending))


def say_verdict(c: Conversation, verdict: Verdict) -> None:
    params = dict(verdict.params)
    if "role" in params:
        params["role"] = c.role_label(Role(str(params["role"])))
    if "option" in params:
        params["option"] = c.call_label(CallPreference(str(params["option"])))
    if "country" in params:
        params["country"] = c.country_name(str(params["country"]))
    key = "invalid." + (verdict.error or "step.not_understood")
    step = c.state.step.value if c.state.step else None
    c.replies.append(Reply(key=key, text=c.t(key, **params), kind=ReplyKind.ERROR, step=step))


def advance(c: Conversation) -> None:
    """Go to the first step that applies and has no answer; announce what the profile decides."""
    profile = c.profile
    if profile is None:
        return
    if c.state.team_candidates:
        c.state.step = Step.TEAM
        prompt(c)
        return
    for spec in LOGIN_STEPS:
        if not spec.applies(profile, c.state.answers) or spec.answered(c.state.answers):
            continue
        automatic = spec.auto(profile, c.state.answers)
        if automatic is not None and c.state.editing is not spec.step:
            accept(c, spec, automatic)
            announce(c, spec)
            continue
        if c.state.step is not spec.step:
            c.state.errors = 0
        c.state.step = spec.step
        prompt(c)
        return
    c.state.step = Step.CONFIRM
    c.state.editing = None
    prompt(c)


def announce(c: Conversation, spec: StepSpec) -> None:
    if not spec.announce:
        return
    answers = c.state.answers
    c.say(
        spec.announce,
        role=c.role_label(answers.role),
        option=c.call_label(answers.call_preference),
        extension=answers.extension or "",
        number=answers.dial_number or "",
        team=c.team_label(answers.team_id),
    )


def prefill_from_preferences(c: Conversation, *, explain: bool) -> None:
    """Saved preferences pre-fill the dialog, ahead of the default DN; what the user said wins."""
    preferences = c.context.preferences
    if preferences is None or c.profile is None:
        return
    saved, _ = revalidate(c.profile, preferences.as_answers())
    current = c.state.answers
    editing = SPECS.get(c.state.editing) if c.state.editing else None
    merged = {
        name: getattr(current, name) if getattr(current, name) is not None else getattr(saved, name)
        for name in Answers.model_fields
    }
    if editing is not None:  # an answer refused this turn is asked again, not replaced by the saved one
        merged.update(dict.fromkeys((editing.slot, *editing.clears)))
    c.state.answers = Answers(**merged)
    if explain and any(v is not None for v in saved.model_dump().values()):
        c.say("prefs.prefilled")
