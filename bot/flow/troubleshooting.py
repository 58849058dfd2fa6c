"""The troubleshooting checklist and the failure report in the conversation (U3, T1-T9).

"Why can't ava.lead@example.com sign in?", "checklist for Ava", "what happened to tracking id
LOGINBOT-...?", "why can't I sign in?", "failure report for the last 30 days": the flow only reads
what is asked and returns a `Troubleshoot` or `FailureReport` effect; the runner builds the answer
(and decides who may see it, T9) and hands it back as an `Answered` or `NotAnswered` event. A
question asked in the middle of the sign-in dialog is answered, then the pending question is asked
again, as with "help".

Who is asked about comes from, in order: a tracking id, an email, or a name. A name is read after a
word that introduces one ("for", "pour", "with", "check"; "of", "de" only before a capital) or after
"why can't" / "pourquoi", and never from words that are pronouns or the dialog's own vocabulary
(catalog `words.not_a_name`): "why can't I sign in?" is the requester's own checklist.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.flow.catalog import DEFAULT_LANGUAGE
from bot.flow.conversation import Conversation
from bot.flow.effects import (
    Answered,
    FailureReport,
    NotAnswered,
    Troubleshoot,
    Unanswered,
)
from bot.flow.inputs import Parsed
from bot.flow.prompts import prompt_if_active
from bot.flow.replies import Choice, Reply, ReplyKind

TRACKING_ID = re.compile(
    r"\bLOGINBOT-[0-9A-Za-z][0-9A-Za-z-]*[0-9A-Za-z]"
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
    re.IGNORECASE,
)
EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")  # from a word's start: linear
DEFAULT_DAYS = 7
MAX_DAYS = 366
MAX_NAME_WORDS = 3
_TOKEN = re.compile(r"[^\W\d_](?:[\w'.-]*[^\W_])?|[?!.,;:()]")
_NUMBER_AND_WORD = re.compile(r"(\d{1,4})\s*([^\W\d_]+)")
_ELISIONS = ("qu'", "d'", "l'", "j'", "n'", "s'", "m'", "t'", "c'")
_POSSESSIVE = "'s"

Words = Callable[[str], tuple[str, ...]]


def tokens(text: str) -> list[str]:
    """Words and punctuation; French elisions split ("d'Ava" -> "d'", "Ava")."""
    found: list[str] = []
    for token in _TOKEN.findall(text.replace("’", "'")):
        low = token.casefold()
        elision = next((e for e in _ELISIONS if low.startswith(e) and len(low) > len(e)), None)
        if elision is None:
            found.append(token)
        else:
            found.extend((token[: len(elision)], token[len(elision) :]))
    return found


def mentioned_name(text: str, words: Words) -> str | None:
    """The name of the person a troubleshooting request is about, when it names someone."""
    introducers = set(words("troubleshoot_for"))
    before_capital = set(words("troubleshoot_of"))
    why = set(words("troubleshoot_why"))
    skipped = set(words("troubleshoot_skip"))
    stop = set(words("not_a_name")) | introducers | before_capital | why | skipped
    found: str | None = None
    parts = tokens(_without_ids(text))
    for index, token in enumerate(parts):
        low = token.casefold()
        if low in why:
            start = index + 1
            while start < len(parts) and parts[start].casefold() in skipped:
                start += 1
            name = _name_at(parts, start, stop, capital=False)
        elif low in introducers:
            name = _name_at(parts, index + 1, stop, capital=False)
        elif low in before_capital:
            name = _name_at(parts, index + 1, stop, capital=True)
        else:
            continue
        found = name or found
    return found


def _name_at(parts: list[str], start: int, stop: set[str], *, capital: bool) -> str | None:
    taken: list[str] = []
    for token in parts[start : start + MAX_NAME_WORDS]:
        low = token.casefold()
        if not token[0].isalpha() or low in stop:
            break
        if low.endswith(_POSSESSIVE):
            taken.append(token[: -len(_POSSESSIVE)])
            break
        taken.append(token)
    if not taken or (capital and not taken[0][0].isupper()):
        return None
    return " ".join(taken)


def _without_ids(text: str) -> str:
    return EMAIL.sub(" ", TRACKING_ID.sub(" ", text))


def clamp_days(days: int) -> int:
    """`days` brought within what a failure report covers: 1 to `MAX_DAYS`."""
    return max(1, min(MAX_DAYS, days))


def report_days(text: str, words: Words) -> int:
    """ "the last 30 days", "sur 14 jours": the number of days asked for, else a week."""
    day_words = set(words("days"))
    for number, word in _NUMBER_AND_WORD.findall(text):
        if word.casefold() in day_words:
            return clamp_days(int(number))
    return DEFAULT_DAYS


def read_request(text: str, email: str | None, words: Words, language: str) -> Troubleshoot | FailureReport:
    """What a troubleshooting message (or a `troubleshoot:` argument) asks for."""
    tracking = TRACKING_ID.search(text)
    if tracking:
        return Troubleshoot(tracking_id=tracking.group(0), language=language)
    typed = EMAIL.search(text)
    email = email or (typed.group(0) if typed else None)
    if email:
        return Troubleshoot(target_email=email.casefold(), language=language)
    said = {t.casefold() for t in tokens(text)}
    if said & set(words("report")):
        return FailureReport(days=report_days(text, words), language=language)
    return Troubleshoot(target_name=mentioned_name(text, words), language=language)


def troubleshoot(c: Conversation, parse: Parsed | None, text: str) -> None:
    entity = parse.entity("email") if parse is not None else None
    language = c.state.language or DEFAULT_LANGUAGE
    c.effects.append(read_request(text, entity.value if entity else None, c.words, language))


def troubleshoot_choice(c: Conversation, kind: str, argument: str) -> None:
    """A button ("which one?"), or a channel asking directly: `troubleshoot:<email, tracking id or
    name>` (empty: the requester's own), `report:<days>`."""
    language = c.state.language or DEFAULT_LANGUAGE
    if kind == "report":
        days = int(argument) if argument.isdecimal() else DEFAULT_DAYS
        c.effects.append(FailureReport(clamp_days(days), language))
        return
    request = read_request(argument, None, c.words, language)
    if request == Troubleshoot(language=language) and argument.strip():
        request = Troubleshoot(target_name=argument.strip(), language=language)  # a bare name
    c.effects.append(request)


def on_answered(c: Conversation, event: Answered) -> None:
    key = "troubleshoot.report" if isinstance(event.effect, FailureReport) else "troubleshoot.checklist"
    step = c.state.step.value if c.state.step else None
    c.replies.append(Reply(key=key, text=event.text, step=step, document=event.document))
    prompt_if_active(c)


def on_not_answered(c: Conversation, event: NotAnswered) -> None:
    effect = event.effect
    why = event.why
    if isinstance(effect, FailureReport):
        key = "troubleshoot.report_refused" if why is Unanswered.REFUSED else "troubleshoot.failed"
        c.say(key, ReplyKind.ERROR)
        prompt_if_active(c)
        return
    name = effect.target_name or effect.target_email or ""
    if why is Unanswered.SEVERAL:
        choices = [
            Choice(f"troubleshoot:{x.email}", f"{x.display_name} ({x.email})") for x in event.candidates
        ]
        c.say("troubleshoot.which_one", choices=choices, name=name)
    else:
        c.say(f"troubleshoot.{why.value}", ReplyKind.ERROR, name=name, tracking_id=effect.tracking_id or "")
    prompt_if_active(c)
