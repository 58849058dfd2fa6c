"""Asking the question of the current step: the step table's question for a sign-in step, and the
questions around them (language, "continue here?", the summary, which answer to change,
availability)."""

from __future__ import annotations

from collections.abc import Callable

from bot.flow.conversation import Conversation
from bot.flow.inputs import MAX_ERRORS
from bot.flow.replies import Choice, ReplyKind
from bot.flow.state import Purpose, Step
from bot.flow.steps import FIELD_STEPS, SPECS

# Questions that can be asked without the user's profile (it is None when it could not be read).
_WITHOUT_PROFILE = (Step.LANGUAGE, Step.TAKE_OVER, Step.AUTO_LOGIN, Step.AVAILABILITY)


def prompt(c: Conversation) -> None:
    step = c.state.step
    if step is None:
        return
    if c.profile is None and step not in _WITHOUT_PROFILE:
        c.say_profile_missing()  # the profile could not be read this turn: said why; the step waits
        return
    if c.state.errors >= MAX_ERRORS:
        c.say("help.way_out")  # no choices of its own: the question's numbers follow
    spec = SPECS.get(step)
    if spec is not None:
        spec.question(c)
    else:
        _QUESTIONS[step](c)


def prompt_if_active(c: Conversation, *, fallback_menu: bool = False) -> None:
    if c.state.step is not None:
        prompt(c)
    elif fallback_menu:
        c.say("idle.what_now", choices=c.menu())


def can_change(c: Conversation, step: Step) -> bool:
    assert c.profile is not None
    spec = SPECS.get(step)
    return spec is not None and spec.changeable(c.profile, c.state.answers)


def _ask_language(c: Conversation) -> None:
    choices = [Choice("lang:en", "English"), Choice("lang:fr", "Français")]
    c.say("ask.language", ReplyKind.PROMPT, choices=choices)


def _ask_take_over(c: Conversation) -> None:
    choices = [Choice("takeover:yes", c.t("label.continue_here")), Choice("takeover:no", c.t("label.no"))]
    c.say("ask.take_over", ReplyKind.PROMPT, choices=choices)


def _ask_confirm(c: Conversation) -> None:
    login = c.state.purpose is Purpose.LOGIN
    save = c.t("label.save_and_continue" if login else "label.save")
    choices = [Choice("confirm:yes", save), Choice("confirm:change", c.t("label.change"))]
    key = "ask.confirm" if login else "ask.confirm_preferences"
    c.say(key, ReplyKind.SUMMARY, choices=choices, fields=c.summary_fields())


def _ask_change_field(c: Conversation) -> None:
    choices = [
        Choice(f"change:{step.value}", c.t(f"field.{step.value}"))
        for step in FIELD_STEPS
        if can_change(c, step)
    ]
    c.say("ask.change_field", ReplyKind.PROMPT, choices=choices)


def _ask_availability(c: Conversation) -> None:
    choices = [
        Choice("avail:available", c.t("label.state.available")),
        Choice("avail:idle", c.t("label.state.idle")),
    ]
    c.say("ask.availability", ReplyKind.PROMPT, choices=choices)


_QUESTIONS: dict[Step, Callable[[Conversation], None]] = {
    Step.LANGUAGE: _ask_language,
    Step.TAKE_OVER: _ask_take_over,
    Step.CONFIRM: _ask_confirm,
    Step.CHANGE_FIELD: _ask_change_field,
    Step.AVAILABILITY: _ask_availability,
}
