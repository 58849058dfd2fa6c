"""What a message answers: for each sign-in step, the answer it carries, read with the step table's
vocabularies and the recognizer's entities, wherever in the sentence it is said.

A reading is not yet an answer: the step's validator still decides. The question being asked also
accepts its short forms ("yes", "both") and, for free answers (a team, an extension), the text itself.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from bot.backend.port import Team
from bot.flow import phrasing
from bot.flow.conversation import Conversation
from bot.flow.inputs import NUMBERISH, Parsed, parse_text_span
from bot.flow.numbers import ASCII_DIGITS, normalize_country_code
from bot.flow.state import Step
from bot.flow.steps import LOGIN_STEPS, SPECS
from bot.flow.teams import match_team
from bot.flow.vocabulary import Vocabulary, contains, normalize

MAX_TEAM_WORDS = 4  # a longer message is not a team's name said alone
MIN_NUMBER_DIGITS = 6  # fewer digits typed at another question are an extension or a team, not a number


@dataclass
class Readings:
    answers: dict[Step, str] = field(default_factory=dict)  # step -> text for its validator
    correction: bool = False  # "actually", "instead", "finalement": the user changes an earlier answer
    question: bool = False  # a question about the question ("what does ... mean?")
    choice: str | None = None  # a number question's own words: "default", "international", "other"

    @property
    def any(self) -> bool:
        """Whether the message answers something, so that it is no command ("help", "cancel")."""
        return bool(self.answers) or self.choice is not None

    def others(self, step: Step | None) -> dict[Step, str]:
        return {s: v for s, v in self.answers.items() if s is not step}


def digits_in(text: str) -> str:
    return "".join(ch for ch in text if ch in ASCII_DIGITS)


def read(c: Conversation, parse: Parsed, text: str) -> Readings:
    asked = c.state.step
    readings = Readings(
        correction=contains(text, c.words("correction")),
        question=_is_question(c, text),
    )
    found = readings.answers
    if asked in (Step.DIAL_NUMBER, Step.COUNTRY_CODE) and not digits_in(text):
        readings.choice = phrasing.NUMBER_CHOICE_WORDS.value(text)
    for spec in LOGIN_STEPS:
        vocabulary = spec.vocabulary(asked=spec.step is asked)
        if vocabulary is not None and spec.step not in (Step.DIAL_NUMBER, Step.COUNTRY_CODE):
            values = vocabulary.values(text)
            if len(values) == 1:
                found[spec.step] = values[0]
                continue
        for name in spec.entities:
            entity = parse.entity(name)
            if entity is not None and spec.step not in found:
                typed = spec.step in (Step.DIAL_NUMBER, Step.TEAM)
                found[spec.step] = parse_text_span(parse, entity) if typed else entity.value
    _read_numbers(c, text, found)
    _read_team(c, text, found)
    _read_correction(c, text, readings)
    return readings


def _read_correction(c: Conversation, text: str, readings: Readings) -> None:
    """ "actually, ...", "no wait, ...", "no, extension please": a change of an earlier answer. Then
    the correction's own words ("no") are no short answer to the question asked."""
    asked = c.state.step
    others = readings.others(asked)
    first = normalize(text).split()[:1]
    readings.correction = bool(others) and (readings.correction or first in (["no"], ["non"], ["nope"]))
    spec = SPECS.get(asked) if asked is not None else None
    if readings.correction and spec is not None and spec.replies is not None and asked in readings.answers:
        words = spec.vocabulary(asked=False)
        if words is None or not words.values(text):
            del readings.answers[asked]


def _read_numbers(c: Conversation, text: str, found: dict[Step, str]) -> None:
    """Digits: what the question asked for, unless the message names the other kind ("extension
    1002" at the number question); at another question, an extension the user has, or a number when
    there are enough digits to be one (never a team name)."""
    asked = c.state.step
    match = NUMBERISH.search(text)
    typed = match.group(0) if match else text
    digits = digits_in(typed if match else "")
    named = found.get(Step.CALL_PREFERENCE)
    if asked is Step.COUNTRY_CODE and normalize_country_code(typed) is not None:
        found[Step.COUNTRY_CODE] = typed  # "+33", "0033": the code asked for, not a number
        return
    if asked in (Step.DIAL_NUMBER, Step.COUNTRY_CODE) and named != "extension":
        found.pop(Step.EXTENSION, None)
        if digits_in(text):
            found.setdefault(Step.DIAL_NUMBER, typed)  # "415-CALL-NOW": the validator says what is wrong
        return
    if not digits:
        return
    extensions = c.profile.extensions if c.profile else ()
    if (
        (asked is Step.EXTENSION and named != "dial_number")
        or named == "extension"
        or (digits in extensions and Step.DIAL_NUMBER not in found)
    ):
        found.pop(Step.DIAL_NUMBER, None)
        found.setdefault(Step.EXTENSION, digits)
    elif len(digits) >= MIN_NUMBER_DIGITS and Step.EXTENSION not in found and _standalone(text, match):
        found.setdefault(Step.DIAL_NUMBER, typed)


def _read_team(c: Conversation, text: str, found: dict[Step, str]) -> None:
    """A team named in a sentence ("... in the VIP team", "l'équipe support"), or said alone at
    another question ("support" at the number question)."""
    if c.profile is None or not c.profile.teams:
        return
    named = team_words(c.profile.teams).find(text)
    ids = list(dict.fromkeys(match.value for match in named))
    if len(ids) == 1:
        found[Step.TEAM] = ids[0]
    elif ids:
        found[Step.TEAM] = " ".join(match.phrase for match in named if match.value == ids[0])
    elif _alone(c, text, found) and match_team(text, c.profile.teams).team is not None:
        found[Step.TEAM] = text


def _alone(c: Conversation, text: str, found: dict[Step, str]) -> bool:
    """A short message with no other answer, at a question: it may be a team's name said alone."""
    return (
        not found and c.state.step is not None and len(text.split()) <= MAX_TEAM_WORDS and not digits_in(text)
    )


@functools.cache
def team_words(teams: tuple[Team, ...]) -> Vocabulary:
    """Each team's name, and its distinctive words ("escalations", "vip"), as phrases of its id."""
    named = {team.id: _distinctive(team.name) for team in teams}
    # A word several teams share ("sales") names none of them: the team question asks which one.
    shared = {w for words in named.values() for w in words if sum(w in other for other in named.values()) > 1}
    return Vocabulary.of(
        **{team.id: [team.name, *(w for w in named[team.id] if w not in shared)] for team in teams}
    )


def _distinctive(name: str) -> list[str]:
    return [w for w in normalize(name).split() if len(w) >= MIN_TEAM_WORD and w not in _GENERIC]


MIN_TEAM_WORD = 3
_GENERIC = frozenset({"team", "teams", "equipe", "the", "and", "des", "les", "group", "groupe"})


def _standalone(text: str, match: re.Match[str] | None) -> bool:
    """A number said as such, between spaces or punctuation, not digits inside other characters."""
    if match is None:
        return False
    before = text[match.start() - 1] if match.start() > 0 else " "
    after = text[match.end()] if match.end() < len(text) else " "
    return before in _AROUND_NUMBER and after in _AROUND_NUMBER


_AROUND_NUMBER = " \t,;:.!?()«»\"'"


def _is_question(c: Conversation, text: str) -> bool:
    """A question about a question or a topic ("what does don't show again mean?", "how do I log out
    of the desktop?"): an explanation is wanted, nothing is answered."""
    return contains(text, c.words("explain"))


def mentions_field(c: Conversation, text: str) -> Step | None:
    """The answer a message names ("the team", "le numéro"), for "change the team"."""
    value = phrasing.FIELD_WORDS.value(text)
    return Step(value) if value else None
