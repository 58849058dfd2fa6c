"""The answer to the question being asked: one handler per kind of question. The repairs that work
at any question (`commands.py`) have already had their turn."""

from __future__ import annotations

from collections.abc import Callable

from bot.flow import phrasing
from bot.flow.commands import Said
from bot.flow.conversation import Conversation
from bot.flow.filling import accept, advance, apply_verdict
from bot.flow.prompts import prompt
from bot.flow.readings import mentions_field
from bot.flow.replies import ReplyKind
from bot.flow.requests import ask_language, set_availability, switch_language
from bot.flow.signin import answer_confirm, answer_take_over, change_field, take_answers
from bot.flow.state import Step
from bot.flow.steps import SPECS, Verdict, default_country_code
from bot.flow.teams import filter_teams
from bot.flow.vocabulary import Vocabulary


def not_understood(c: Conversation) -> None:
    c.say("invalid.step.not_understood", ReplyKind.ERROR)
    c.state.errors += 1
    prompt(c)


def yes_or_no(said: Said, vocabulary: Vocabulary) -> bool | None:
    value = vocabulary.value(said.text)
    if value is None:
        if said.intent("affirm"):
            return True
        if said.intent("deny"):
            return False
        return None
    return value == "yes"


def _language(c: Conversation, said: Said) -> None:
    if c.state.language is None:
        ask_language(c)
    else:
        switch_language(c, c.state.language)


def _take_over(c: Conversation, said: Said) -> None:
    yes = yes_or_no(said, phrasing.TAKE_OVER_REPLIES)
    if yes is None:
        not_understood(c)
    else:
        answer_take_over(c, yes)


def _availability(c: Conversation, said: Said) -> None:
    entity = said.parse.entity("availability")
    value = entity.value if entity else phrasing.AVAILABILITY_WORDS.value(said.text)
    if value in ("available", "idle"):
        set_availability(c, value)
    else:
        not_understood(c)


def _changed_at_summary(c: Conversation, said: Said) -> bool:
    """At the summary or "what would you like to change?": new answers are taken, and an answer's
    name ("the team") opens it again. Returns whether the message did either."""
    if said.readings.answers:
        take_answers(c, said.readings.answers, changing=True)
        advance(c)
        return True
    field = mentions_field(c, said.text)
    if field is not None:
        change_field(c, field.value)
        return True
    return False


def _confirm(c: Conversation, said: Said) -> None:
    if _changed_at_summary(c, said):
        return
    yes = yes_or_no(said, phrasing.CONFIRM_REPLIES)
    if yes is None:
        not_understood(c)
    else:
        answer_confirm(c, yes)


def _change_field(c: Conversation, said: Said) -> None:
    if _changed_at_summary(c, said):
        return
    if yes_or_no(said, phrasing.CONFIRM_REPLIES) is not None:
        c.state.step = Step.CONFIRM  # nothing to change after all: the summary again
        prompt(c)
        return
    not_understood(c)


def _sign_in_step(c: Conversation, said: Said) -> None:
    step = c.state.step
    assert step is not None
    spec = SPECS[step]
    answers = dict(said.readings.answers)
    if step is Step.DIAL_NUMBER and not answers and said.readings.choice == "other":
        c.state.editing = Step.DIAL_NUMBER
        c.say("ask.dial_number_type", ReplyKind.PROMPT)
        return
    if step not in answers:
        verdict = _free_answer(c, step, said)
        if verdict is None:
            if answers:
                take_answers(c, answers, changing=False)
                advance(c)
            else:
                not_understood(c)
            return
        if not apply_verdict(c, spec, verdict):
            c.state.errors += 1
            prompt(c)
            return
    take_answers(c, answers, changing=False)
    if step in c.rejected and spec.applies(c.profile, c.state.answers) and not spec.answered(c.state.answers):  # type: ignore[arg-type]
        c.state.errors += 1
        prompt(c)
        return
    advance(c)


def _free_answer(c: Conversation, step: Step, said: Said) -> Verdict | None:
    """An answer that is not in the message's readings: a choice word ("default"), a team's name, a
    country code; None when the text is no answer to this question."""
    assert c.profile is not None
    text = said.text
    choice = said.readings.choice
    if step is Step.DIAL_NUMBER:
        default = c.default_number()
        if choice == "default" or (default and said.intent("affirm")):
            return Verdict(default) if default else None
        if choice == "international":
            return Verdict(needs_country_code="")
        return None
    if step is Step.COUNTRY_CODE:
        if choice == "default" or said.intent("affirm"):
            return Verdict(default_country_code(c.profile))
        return SPECS[step].validate(text, c.profile, c.state.answers)  # type: ignore[misc]
    if step is Step.TEAM and not said.readings.answers:
        if c.state.team_candidates:
            candidates = [t for t in c.profile.teams if t.id in c.state.team_candidates]
            narrowed = filter_teams(text, candidates)
            if len(narrowed) == 1:
                return Verdict(narrowed[0].id)
        return SPECS[step].validate(text, c.profile, c.state.answers)  # type: ignore[misc]
    return None


def handle_step(c: Conversation, said: Said) -> None:
    step = c.state.step
    assert step is not None
    handler = _HANDLERS.get(step)
    if handler is not None:
        handler(c, said)
    elif c.profile is None:
        c.say_profile_missing()  # the profile could not be read this turn: said why; the step waits
    elif step is Step.AUTO_LOGIN and Step.AUTO_LOGIN not in said.readings.answers:
        yes = yes_or_no(said, phrasing.YES_NO_REPLIES)
        if yes is None:
            _sign_in_step(c, said)
        else:
            accept(c, SPECS[step], yes)
            take_answers(c, said.readings.answers, changing=False)
            advance(c)
    else:
        _SIGN_IN_HANDLERS.get(step, _sign_in_step)(c, said)


_HANDLERS: dict[Step, Callable[[Conversation, Said], None]] = {
    Step.LANGUAGE: _language,
    Step.TAKE_OVER: _take_over,
    Step.AVAILABILITY: _availability,
}
_SIGN_IN_HANDLERS: dict[Step, Callable[[Conversation, Said], None]] = {
    Step.CONFIRM: _confirm,
    Step.CHANGE_FIELD: _change_field,
}
