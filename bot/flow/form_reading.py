"""What the message behind a form's values says, read as the flow reads a typed message: an answer
to another question goes there ("actually, use the desktop instead" at the team question), a
question about the question changes nothing, "change the team" opens that answer again, a status
question is answered apart, and the summary's answer is read from the words before an intent."""

from __future__ import annotations

from dataclasses import dataclass

from bot.backend.port import CallPreference, Role
from bot.flow import phrasing
from bot.flow.conversation import Conversation
from bot.flow.filling import change, repeats
from bot.flow.inputs import CONFIDENT
from bot.flow.readings import Readings, mentions_field, read
from bot.flow.requests import wants_auto_login_on
from bot.flow.state import Step
from bot.flow.steps import SPECS
from bot.flow.vocabulary import contains

# Values a button or a slot holds as such: never re-read as typed text.
PLAIN_VALUES = frozenset(
    {*(r.value for r in Role), *(o.value for o in CallPreference), "true", "false", "/affirm", "/deny"}
)


# Answers read from what was typed rather than from the platform's entity value.
_AS_TYPED = (Step.DIAL_NUMBER, Step.TEAM)


@dataclass
class Typed:
    candidates: dict[Step, object]
    explain: bool = False  # a question about the question: nothing changes
    status: bool = False  # "am I signed in?": answered apart, nothing changes
    reopen: Step | None = None  # "change the team": that answer is asked again
    confirm: bool | Step | None = None  # the summary's answer, as the words say it
    text: str = ""


def place(c: Conversation, candidates: dict[Step, object], typed: object, *, message: bool = True) -> Typed:
    """The form's candidates, corrected by what the message says (`message`: `typed` is the user's
    message; otherwise a slot's value, where an option's own value is no text to read)."""
    plain = not message and typed in PLAIN_VALUES
    if not isinstance(typed, str) or plain or typed.startswith("/") or c.profile is None:
        return Typed(dict(candidates))
    teams = [t.name for t in c.profile.teams]
    parse = c.recognizer.parse(typed, teams=teams, region=c.profile.default_region)
    readings = read(c, parse, typed)
    apart = _apart(c, typed, readings, parse.intent)
    if apart is not None:
        # Nothing the question asked reads in it; the form's other values stay as they are.
        apart.candidates = {s: v for s, v in candidates.items() if s is not c.state.step}
        return apart
    if parse.intent == "reset_auto_login" and parse.confidence >= CONFIDENT:
        readings.answers.setdefault(Step.AUTO_LOGIN, "yes" if wants_auto_login_on(c, typed) else "no")
    placed = Typed(dict(candidates), confirm=_confirm(c, typed, mentions_field(c, typed)), text=typed)
    _move(c, placed, readings)
    return placed


def _apart(c: Conversation, typed: str, readings: Readings, intent: str) -> Typed | None:
    """A message that answers nothing: a status question, a question about the question, or
    "change the team"."""
    if contains(typed, c.words("status")):
        return Typed({}, status=True, text=typed)
    if readings.question and intent not in ("troubleshoot", "forgot_password"):
        return Typed({}, explain=True, text=typed)
    named = mentions_field(c, typed)
    if named is not None and contains(typed, c.words("change")) and not readings.others(c.state.step):
        return Typed({}, reopen=named, text=typed)
    return None


def _move(c: Conversation, placed: Typed, readings: Readings) -> None:
    """Answers to other questions go there; what the question asked reads as replaces the raw text."""
    asked = c.state.step
    for step in _AS_TYPED:  # a number is checked as typed (a national one asks its country code)
        if step in readings.answers and step in placed.candidates:
            placed.candidates[step] = readings.answers[step]
    others = {s: text for s, text in readings.others(asked).items() if not repeats(c, s, text)}
    if asked is None:
        others = {s: text for s, text in others.items() if s not in placed.candidates}
    elif asked in readings.answers:
        placed.candidates[asked] = readings.answers[asked]  # what the flow reads in it ("extention")
        others = {s: text for s, text in others.items() if not SPECS[s].answered(c.state.answers)}
    elif others:
        placed.candidates.pop(asked, None)
    for step, text in others.items():
        if SPECS[step].answered(c.state.answers):
            change(c, SPECS[step])
        placed.candidates.setdefault(step, text)


def _confirm(c: Conversation, typed: str, field_named: Step | None) -> bool | Step | None:
    if field_named is not None:
        return field_named
    read_as = phrasing.CONFIRM_REPLIES.value(typed)
    return None if read_as is None else read_as == "yes"
