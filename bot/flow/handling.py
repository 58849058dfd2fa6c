"""One message through the flow, in order: input guards, a call still in flight, a button or a
choice's number, the language, the commands that work at any question (`commands.py`), then the
request of an idle conversation or the answer to the question asked (`answering.py`)."""

from __future__ import annotations

from bot.flow import phrasing
from bot.flow.answering import handle_step
from bot.flow.catalog import LANGUAGES
from bot.flow.choices import handle_choice
from bot.flow.commands import Said, run_command, settle_pending_change
from bot.flow.conversation import Conversation
from bot.flow.effects import CheckSession, SubmitLogin
from bot.flow.inputs import MAX_MESSAGE_CHARS, Parsed, UserMessage, sanitize
from bot.flow.prompts import prompt, prompt_if_active
from bot.flow.readings import read
from bot.flow.replies import ReplyKind
from bot.flow.requests import (
    ask_availability,
    ask_language,
    set_auto_login,
    set_availability,
    show_preferences,
    sign_out,
    wants_auto_login_on,
)
from bot.flow.signin import login_request, start_login
from bot.flow.state import Step
from bot.flow.troubleshooting import troubleshoot

MAX_REPLAYS = 1  # a message replayed once the language is known is not replayed again


def say_notices(c: Conversation) -> None:
    """What happened while the user was away, such as their session taken over elsewhere."""
    notices, c.state.notices = c.state.notices, []
    for key in notices:
        c.say(key)


def opening(c: Conversation) -> None:
    say_notices(c)
    if c.state.in_flight and c.profile is not None:
        # A call a turn left in flight (the chat closed, or the process died, during a sign-in):
        # how it ended, once it is past its grace, rather than a greeting.
        in_flight_pending(c)
        return
    if c.state.step is not None:
        c.say("resume.where_we_were")
        prompt(c)
        return
    if c.profile is None:
        c.say_profile_missing()
        return
    c.say("greet.hello", name=c.first_name(), choices=c.menu())


def handle(c: Conversation, message: UserMessage) -> None:
    say_notices(c)
    if len(message.text) > MAX_MESSAGE_CHARS:
        c.say("input.too_long", ReplyKind.ERROR, limit=MAX_MESSAGE_CHARS, size=len(message.text))
        prompt_if_active(c)
        return
    text = sanitize(message.text)
    choice = sanitize(message.choice or "") or None
    if choice is None and not text:
        c.say("input.empty", ReplyKind.ERROR)
        prompt_if_active(c)
        return
    if choice is None:
        choice = numbered_choice(c, text)
    if c.state.in_flight and in_flight_pending(c):
        return
    if choice is not None:
        handle_choice(c, choice)
    else:
        handle_text(c, text)
    for _ in range(MAX_REPLAYS):
        replay, c.replay = c.replay, None
        if replay:
            handle_text(c, replay)


def handle_text(c: Conversation, text: str) -> None:
    parse = _parse(c, text)
    update_language(c, parse, text)
    if c.state.language is None and c.state.step is None:
        c.state.pending_message = text
        ask_language(c)
        return
    said = Said(parse, text, read(c, parse, text))
    if c.state.pending_change:
        yes = _yes_or_no(said)
        if yes is not None:
            settle_pending_change(c, yes)
            return
        c.state.pending_change = {}  # something else was said: the change is dropped
    if run_command(c, said):
        return
    if c.state.step is None:
        handle_idle(c, said)
    else:
        handle_step(c, said)


def _yes_or_no(said: Said) -> bool | None:
    value = phrasing.YES_NO_REPLIES.value(said.text) or phrasing.CONFIRM_REPLIES.value(said.text)
    if value is None:
        return True if said.intent("affirm") else False if said.intent("deny") else None
    return value == "yes"


def _parse(c: Conversation, text: str) -> Parsed:
    teams = [t.name for t in c.profile.teams] if c.profile else []
    region = c.profile.default_region if c.profile else "US"
    return c.recognizer.parse(text, teams=teams, region=region)


def numbered_choice(c: Conversation, text: str) -> str | None:
    """ "2" picks the second choice shown."""
    if not (text.isascii() and text.isdecimal() and len(text) <= 2 and c.state.choices):
        return None
    index = int(text)
    return c.state.choices[index - 1] if 1 <= index <= len(c.state.choices) else None


def update_language(c: Conversation, parse: Parsed, text: str) -> None:
    """Follow the language of the user's messages until they pick one explicitly."""
    if c.state.language_chosen or parse.language not in LANGUAGES or parse.language == c.state.language:
        return
    if c.state.language is None or len(text.split()) >= 3 or parse.intent == "greet":
        c.state.language = parse.language


def handle_idle(c: Conversation, said: Said) -> None:
    intent = said.parse.intent
    # Answers to the sign-in's questions ("with my extension on customer care") ask for a sign-in,
    # whatever else the sentence says; "don't show again" alone is about automatic sign-in.
    if intent == "login" or set(said.readings.answers) - {Step.AUTO_LOGIN}:
        start_login(c, said.readings)
    elif intent == "logout":
        sign_out(c)
    elif intent == "set_availability":
        availability = said.parse.entity("availability")
        if availability and availability.value in ("available", "idle"):
            set_availability(c, availability.value)
        else:
            ask_availability(c)
    elif intent == "reset_auto_login":
        set_auto_login(c, wants_auto_login_on(c, said.text))
    elif intent == "show_preferences":
        show_preferences(c, with_menu=True)
    elif intent == "troubleshoot":
        troubleshoot(c, said.parse, said.text)
    elif intent == "greet":
        c.say("greet.hello", name=c.first_name(), choices=c.menu())
    elif intent == "goodbye":
        c.say("goodbye")
    elif intent in ("affirm", "deny", "inform"):
        c.say("idle.what_now", choices=c.menu())
    else:
        c.say("fallback.out_of_scope", choices=c.menu())


# --- calls in flight ---------------------------------------------------------------------------------


def in_flight_pending(c: Conversation) -> bool:
    """A backend call of an earlier turn has no recorded outcome: wait for it, or check."""
    if not in_flight_interrupted(c):
        c.say("busy.still_working")
        return True
    reconcile(c)
    return True


def in_flight_interrupted(c: Conversation) -> bool:
    """The call in flight is older than the grace: its turn died (a crash) or lost its result."""
    due = c.state.in_flight_due(c.context.in_flight_grace)
    return due is not None and c.context.now >= due


def reconcile(c: Conversation) -> None:
    """Ask the contact center how the interrupted call ended, instead of sending it again; an
    interrupted sign-in is recorded as an attempt with what the check finds."""
    interrupted = None
    if c.state.in_flight == "login" and c.profile is not None:
        request = login_request(c)
        if request is not None:
            interrupted = SubmitLogin(request, automatic=c.state.automatic)
    c.state.in_flight = "reconcile"
    c.effects.append(CheckSession(reconcile=True, interrupted=interrupted))


def settle(c: Conversation) -> None:
    """No message: a call in flight that its turn never finished is checked once past the grace."""
    if c.state.in_flight and in_flight_interrupted(c):
        reconcile(c)
