"""Buttons: the value of a clicked choice (or a choice's number typed) is `kind:argument`; each kind
has its handler here."""

from __future__ import annotations

from collections.abc import Callable

from bot.flow.catalog import LANGUAGES
from bot.flow.commands import settle_pending_change
from bot.flow.conversation import Conversation
from bot.flow.filling import accept, advance, apply_verdict, pick_team
from bot.flow.prompts import prompt_if_active
from bot.flow.replies import ReplyKind
from bot.flow.requests import (
    ask_availability,
    cancel,
    help_,
    set_auto_login,
    set_availability,
    show_preferences,
    sign_out,
    status,
    switch_language,
)
from bot.flow.signin import answer_confirm, answer_take_over, change_field, start_login
from bot.flow.state import Purpose, Step
from bot.flow.steps import SPECS
from bot.flow.troubleshooting import troubleshoot_choice

# The button kinds that answer a sign-in step, and their step.
SLOT_CHOICES: dict[str, Step] = {
    "role": Step.ROLE,
    "call": Step.CALL_PREFERENCE,
    "ext": Step.EXTENSION,
    "cc": Step.COUNTRY_CODE,
    "dn": Step.DIAL_NUMBER,
    "team": Step.TEAM,
    "auto": Step.AUTO_LOGIN,
}
_SIGN_IN_QUESTIONS = (*SPECS, Step.CONFIRM, Step.CHANGE_FIELD)

# Menu commands; those marked True answer and then ask the question under way again.
_COMMANDS: dict[str, tuple[Callable[[Conversation], None], bool]] = {
    "login": (lambda c: start_login(c, None), False),
    "logout": (sign_out, False),
    "preferences": (lambda c: show_preferences(c, with_menu=True), True),
    "edit_preferences": (lambda c: start_login(c, None, purpose=Purpose.PREFERENCES), False),
    "autologin_off": (lambda c: set_auto_login(c, False), True),
    "autologin_on": (lambda c: set_auto_login(c, True), True),
    "help": (help_, False),
    "cancel": (cancel, False),
    "restart": (lambda c: start_login(c, None, restart=True), False),
    "availability": (ask_availability, False),
    "status": (status, False),
}


def expired(c: Conversation) -> None:
    c.say("choice.expired", ReplyKind.ERROR)
    prompt_if_active(c, fallback_menu=True)


def handle_choice(c: Conversation, value: str) -> None:
    kind, _, argument = value.partition(":")
    step = c.state.step
    if kind == "cmd" and argument in _COMMANDS:
        action, asks_again = _COMMANDS[argument]
        action(c)
        if asks_again:
            prompt_if_active(c)  # a menu button clicked mid-dialog: answer it, then ask again
    elif kind == "lang" and argument in LANGUAGES:
        switch_language(c, argument)
    elif kind == "takeover" and step is Step.TAKE_OVER:
        answer_take_over(c, argument == "yes")
    elif kind == "confirm" and step is Step.CONFIRM:
        answer_confirm(c, argument == "yes")
    elif kind == "change" and step in (Step.CONFIRM, Step.CHANGE_FIELD):
        change_field(c, argument)
    elif kind == "avail" and argument in ("available", "idle"):
        set_availability(c, argument)
    elif kind == "pending" and c.state.pending_change:
        settle_pending_change(c, argument == "yes")
    elif kind in ("troubleshoot", "report"):
        troubleshoot_choice(c, kind, argument)
    elif kind in SLOT_CHOICES and step in _SIGN_IN_QUESTIONS:
        answer_slot(c, SLOT_CHOICES[kind], argument)
    else:
        expired(c)


def answer_slot(c: Conversation, step: Step, argument: str) -> None:
    if c.profile is None:
        c.say_profile_missing()
        return
    spec = SPECS[step]
    if step is Step.AUTO_LOGIN:
        accept(c, spec, argument == "yes")
    elif step is Step.DIAL_NUMBER and argument == "other":
        c.state.editing = Step.DIAL_NUMBER
        c.state.step = Step.DIAL_NUMBER
        c.say("ask.dial_number_type", ReplyKind.PROMPT)
        return
    elif step is Step.DIAL_NUMBER and argument == "international":
        c.state.answers.pending_national = ""
        c.state.answers.country_code = None
        c.state.answers.dial_number = None
    elif step is Step.TEAM:
        pick_team(c, argument)
    else:
        assert spec.validate is not None
        apply_verdict(c, spec, spec.validate(argument, c.profile, c.state.answers))
    advance(c)
