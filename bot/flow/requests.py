"""Requests that are not the sign-in's questions: cancel, help and explanations, language, status,
sign-out, availability, automatic sign-in on or off, and the saved preferences."""

from __future__ import annotations

from bot.backend.port import Availability
from bot.flow.conversation import Conversation
from bot.flow.effects import CheckSession, SavePreferences, SetAvailability, SignOut
from bot.flow.prompts import prompt, prompt_if_active
from bot.flow.replies import Choice, ReplyKind
from bot.flow.signin import require_profile, reset_dialog
from bot.flow.state import Step
from bot.flow.steps import complete
from bot.flow.vocabulary import contains

STATUS = "status"  # the in-flight marker of a session read for "am I signed in?"


def cancel(c: Conversation) -> None:
    if c.state.step is None and not c.state.in_flight:
        c.say("cancel.nothing", choices=c.menu())
        return
    reset_dialog(c)
    c.say("cancel.done", choices=c.menu())


def help_(c: Conversation) -> None:
    step = c.state.step
    key = f"help.step.{step.value}" if step is not None else "help.general"
    c.say(key, choices=() if step else c.menu())
    prompt_if_active(c)


def explain(c: Conversation, text: str, *, ask_again: bool = True) -> None:
    """A question about a question or a topic: the explanation, then the same question; nothing
    changes."""
    topic = next((t for t in _TOPICS if contains(text, c.words(f"topic_{t}"))), None)
    step = c.state.step
    if topic is not None:
        c.say(f"help.topic.{topic}", choices=() if step else c.menu())
    elif step is not None:
        c.say(f"help.step.{step.value}")
    else:
        c.say("help.general", choices=c.menu())
    if ask_again:
        prompt_if_active(c)


# Topics people ask about, most specific first; each has `words.topic_<name>` and `help.topic.<name>`.
_TOPICS = ("auto_login", "logout", "role", "desktop", "extension", "dial_number", "team", "password")


def switch_language(c: Conversation, language: str) -> None:
    c.state.language = language
    c.state.language_chosen = True
    c.say("language.set")
    if c.state.step is Step.LANGUAGE:
        c.state.step = None
        pending, c.state.pending_message = c.state.pending_message, None
        if pending:
            c.replay = pending
        else:
            c.say("greet.menu", choices=c.menu())
        return
    prompt_if_active(c)


def ask_language(c: Conversation) -> None:
    c.state.step = Step.LANGUAGE
    prompt(c)


def status(c: Conversation) -> None:
    """ "Am I signed in?": answered from the contact center's live state, whatever the dialog."""
    if require_profile(c) is None:
        return
    c.state.in_flight = STATUS
    c.effects.append(CheckSession())


def sign_out(c: Conversation) -> None:
    if require_profile(c) is None:
        return
    reset_dialog(c)
    c.state.in_flight = "logout"
    c.effects.append(SignOut())


def ask_availability(c: Conversation) -> None:
    if require_profile(c) is None:
        return
    c.state.step = Step.AVAILABILITY
    prompt(c)


def set_availability(c: Conversation, value: str) -> None:
    profile = require_profile(c)
    if profile is None:
        return
    c.state.step = None
    state = Availability.AVAILABLE if value == "available" else Availability.IDLE
    idle_code = profile.idle_codes[0].id if state is Availability.IDLE and profile.idle_codes else None
    c.state.in_flight = "availability"
    c.effects.append(SetAvailability(state, idle_code))


def wants_auto_login_on(c: Conversation, text: str) -> bool:
    folded = f" {text.casefold()} "
    return any(f" {w} " in folded for w in c.words("turn_on"))


def set_auto_login(c: Conversation, on: bool) -> None:
    preferences = c.context.preferences
    answers = c.state.answers
    if c.state.step is not None:
        # The dialog under way holds its own answer: the summary and the sign-in must say the same.
        answers.auto_login = on
    if on:
        if c.profile is None or preferences is None or not complete(c.profile, preferences.as_answers()):
            if c.state.step is not None:
                c.say("auto.on_for_this_sign_in", ReplyKind.SUCCESS)
                return
            c.say("auto.cannot_turn_on", choices=[Choice("cmd:login", c.t("menu.login"))])
            return
        c.effects.append(SavePreferences(preferences.model_copy(update={"auto_login": True})))
        c.say("auto.turned_on", ReplyKind.SUCCESS)
        return
    if preferences is None or not preferences.auto_login:
        c.say("auto.already_off")
        return
    c.effects.append(SavePreferences(preferences.model_copy(update={"auto_login": False})))
    c.say("auto.turned_off", ReplyKind.SUCCESS)


def show_preferences(c: Conversation, *, with_menu: bool) -> None:
    preferences = c.context.preferences
    if preferences is None:
        c.say("prefs.none", choices=[Choice("cmd:login", c.t("menu.login"))] if with_menu else ())
        return
    fields = c.summary_fields(preferences.as_answers())
    toggle = (
        Choice("cmd:autologin_off", c.t("label.auto_off"))
        if preferences.auto_login
        else Choice("cmd:autologin_on", c.t("label.auto_on"))
    )
    choices = [
        Choice("cmd:edit_preferences", c.t("label.change")),
        toggle,
        Choice("cmd:login", c.t("menu.login")),
    ]
    c.say("prefs.show", fields=fields, choices=choices if with_menu else ())
