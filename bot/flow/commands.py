"""What works at any question, whatever is asked: a table of repair handlers, consulted in order
before the question's own handler, like a conversation handler's fallbacks.

The order, and why:
1. restart, cancel: leaving the dialog wins over everything else said with it.
2. language: "switch to French" is not an answer.
3. status: "am I signed in?" is answered from the contact center, and the question asked again.
4. explain: a question about the question ("what does don't show again mean?") is answered, and
   nothing changes, even when it names an answer.
5. help, forgotten password: answered, then the question again.
6. change: "change the team", "actually, use the desktop instead", "no wait, extension 1002", or
   an answer that belongs to another question: applied to its field, and the dialog goes on.
7. requests: "sign me out", "show my preferences", "stop logging me in automatically", a
   troubleshooting question, in the middle of the dialog without losing it.
Only then does the current question's handler (`answering.py`) read the message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.backend.port import CallPreference, Role
from bot.flow.catalog import LANGUAGES
from bot.flow.conversation import Conversation
from bot.flow.filling import advance, repeats
from bot.flow.inputs import CONFIDENT, Parsed
from bot.flow.prompts import can_change, prompt
from bot.flow.readings import Readings, mentions_field
from bot.flow.replies import Choice, ReplyKind
from bot.flow.requests import (
    cancel,
    explain,
    help_,
    set_auto_login,
    show_preferences,
    sign_out,
    status,
    switch_language,
    wants_auto_login_on,
)
from bot.flow.signin import change_field, start_login, take_answers
from bot.flow.state import Answers, Step
from bot.flow.steps import SPECS
from bot.flow.troubleshooting import troubleshoot
from bot.flow.vocabulary import contains

SIGN_IN_QUESTIONS = (*SPECS, Step.CONFIRM, Step.CHANGE_FIELD)
MAX_LANGUAGE_COMMAND_WORDS = 6  # longer messages that name a language are about something else


@dataclass(frozen=True)
class Said:
    """One message as the commands see it."""

    parse: Parsed
    text: str
    readings: Readings

    def intent(self, name: str) -> bool:
        return self.parse.intent == name and self.parse.confidence >= CONFIDENT


@dataclass(frozen=True)
class Command:
    name: str
    matches: Callable[[Conversation, Said], bool]
    run: Callable[[Conversation, Said], None]


def _exact(c: Conversation, said: Said, key: str) -> bool:
    return said.text.casefold().strip(" .!?") in c.words(key)


def _is_restart(c: Conversation, said: Said) -> bool:
    return _exact(c, said, "restart")


def _is_cancel(c: Conversation, said: Said) -> bool:
    return (said.intent("cancel") and not said.readings.any) or _exact(c, said, "cancel")


def _language(said: Said) -> str | None:
    language = said.parse.entity("language")
    if language is None or language.value not in LANGUAGES:
        return None
    return language.value if len(said.text.split()) <= MAX_LANGUAGE_COMMAND_WORDS else None


def _switch(c: Conversation, said: Said) -> None:
    switch_language(c, _language(said) or c.state.language or "en")


def _is_status(c: Conversation, said: Said) -> bool:
    return contains(said.text, c.words("status"))


def _is_explain(c: Conversation, said: Said) -> bool:
    return said.readings.question and not (said.intent("troubleshoot") or said.intent("forgot_password"))


def _is_help(c: Conversation, said: Said) -> bool:
    return (said.intent("help") and not said.readings.any) or _exact(c, said, "help")


def _is_password(c: Conversation, said: Said) -> bool:
    return said.intent("forgot_password")


def _password(c: Conversation, said: Said) -> None:
    c.say("password.where_to_reset")
    if c.state.step is not None:
        prompt(c)


def _field_to_change(c: Conversation, said: Said) -> Step | None:
    """ "change the team", "modifier le numéro": a change word and an answer's name, and nothing
    that already gives the new answer."""
    if c.state.step not in SIGN_IN_QUESTIONS or c.profile is None:
        return None
    if not contains(said.text, c.words("change")):
        return None
    step = mentions_field(c, said.text)
    return step if step is not None and can_change(c, step) else None


def _news(c: Conversation, said: Said) -> dict[Step, str]:
    """The answers a message gives to other questions, less those that repeat the current answer."""
    return {
        step: text for step, text in said.readings.others(c.state.step).items() if not repeats(c, step, text)
    }


def _is_change(c: Conversation, said: Said) -> bool:
    if c.state.step not in SIGN_IN_QUESTIONS or c.profile is None:
        return False
    others = _news(c, said)
    answers_current = c.state.step in said.readings.answers
    if others and (said.readings.correction or not answers_current):
        return True
    return not others and not answers_current and _field_to_change(c, said) is not None


def _change(c: Conversation, said: Said) -> None:
    others = _news(c, said)
    if not others:
        step = _field_to_change(c, said)
        assert step is not None
        change_field(c, step.value)
        return
    settled = [s for s in others if SPECS[s].answered(c.state.answers)]
    if settled and not said.readings.correction and c.state.step not in said.readings.answers:
        _ask_to_change(c, settled[0], others)  # an answer for another question, already answered
        return
    apply_change(c, said.readings.answers)


def apply_change(c: Conversation, answers: dict[Step, str]) -> None:
    before = c.state.answers.model_copy()
    take_answers(c, answers, changing=True)
    changed = _changed_fields(c, before)
    if changed:  # answers ahead of their question are simply taken; a changed one is said
        c.say("change.done", fields=changed)
    if c.state.step in c.rejected:
        c.state.errors += 1
    advance(c)


def _ask_to_change(c: Conversation, step: Step, answers: dict[Step, str]) -> None:
    """ "Change your number to 06 12 34 56 78?": asked, not done, when nothing says it is a change."""
    c.state.pending_change = {s.value: text for s, text in answers.items()}
    choices = [Choice("pending:yes", c.t("label.change_it")), Choice("pending:no", c.t("label.keep_it"))]
    field = c.t(f"field.{step.value}").casefold()
    c.say(
        "ask.change_answer",
        ReplyKind.PROMPT,
        choices=choices,
        field=field,
        value=_label(c, step, answers[step]),
    )


def _label(c: Conversation, step: Step, value: str) -> str:
    """An answer as the summary shows it ("Desktop (browser, WebRTC)", "On"), or as typed."""
    if step is Step.ROLE and value in set(Role):
        return c.role_label(Role(value))
    if step is Step.CALL_PREFERENCE and value in set(CallPreference):
        return c.call_label(CallPreference(value))
    if step is Step.AUTO_LOGIN:
        return c.t("label.on" if value == "yes" else "label.off")
    return value


def settle_pending_change(c: Conversation, yes: bool) -> None:
    """The answer to "Change your number to ...?"."""
    pending, c.state.pending_change = c.state.pending_change, {}
    if yes and pending:
        apply_change(c, {Step(step): text for step, text in pending.items()})
        return
    c.say("change.kept")
    prompt(c)


def _changed_fields(c: Conversation, before: Answers) -> dict[str, str]:
    """The summary's lines that an answer given before now reads differently."""
    previous = c.summary_fields(before)
    given = {label for label, value in previous.items() if value not in ("-", c.t("label.call.digital"))}
    return {
        label: value
        for label, value in c.summary_fields().items()
        if label in given and previous.get(label) != value
    }


def _is_request(c: Conversation, said: Said) -> bool:
    if c.state.step is None or said.readings.any or said.parse.confidence < 0.6:
        return False
    return said.parse.intent in ("show_preferences", "logout", "reset_auto_login", "login", "troubleshoot")


def _request(c: Conversation, said: Said) -> None:
    intent = said.parse.intent
    if intent == "show_preferences":
        show_preferences(c, with_menu=False)
        prompt(c)
    elif intent == "logout":
        c.state.step = None
        sign_out(c)
    elif intent == "reset_auto_login":
        set_auto_login(c, wants_auto_login_on(c, said.text))
        prompt(c)
    elif intent == "login":
        prompt(c)  # already signing in: ask the question again rather than call it an error
    else:
        troubleshoot(c, said.parse, said.parse.text)  # answered when the checklist is back


COMMANDS: tuple[Command, ...] = (
    Command("restart", _is_restart, lambda c, said: start_login(c, None, restart=True)),
    Command("cancel", _is_cancel, lambda c, said: cancel(c)),
    Command(
        "language",
        lambda c, said: _language(said) is not None,
        _switch,
    ),
    Command("status", _is_status, lambda c, said: status(c)),
    Command("explain", _is_explain, lambda c, said: explain(c, said.text)),
    Command("help", _is_help, lambda c, said: help_(c)),
    Command("password", _is_password, _password),
    Command("change", _is_change, _change),
    Command("request", _is_request, _request),
)


def run_command(c: Conversation, said: Said) -> bool:
    """Run the first command the message is; False when it is none of them."""
    command = next((command for command in COMMANDS if command.matches(c, said)), None)
    if command is None:
        return False
    command.run(c, said)
    return True
