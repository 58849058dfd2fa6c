"""The robustness corpus as data: short dialogues, each a demo user, a language, a few user turns
and what must hold at the end.

A dialogue is judged on what every channel stores (the conversation state: its `step` and its
`answers`), on the kind of the last reply the channel showed, and, where it matters, on the saved
preferences and on fragments the last turn must show. Nothing here runs the bot: the expectations are
written by hand (`examples.py`) or follow from the phrasing grammar (`grammar.py`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

ANY: Any = object()  # an expectation that is not checked

SAM = "sam.supervisor@example.com"
AVA = "ava.lead@example.com"
ALEX = "alex.agent@example.com"
DANA = "dana.digital@example.com"
INES = "ines.martin@example.com"
BUSY = "busy.agent@example.com"

CHANNELS = ("terminal", "slack", "rasa")
# Dialogues about commands outside the sign-in form (status, exit...) are not Rasa form dialogues:
# Rasa's own rules route those intents to other actions.
CHAT_CHANNELS = ("terminal", "slack")


@dataclass(frozen=True)
class Turn:
    """What the user does: types `say`, or clicks the choice whose value is `click` (a button where
    the channel has one; in line mode the choice's label is typed, as its users do)."""

    say: str | None = None
    click: str | None = None

    def __str__(self) -> str:
        return self.say if self.say is not None else f"[{self.click}]"


def say(text: str) -> Turn:
    return Turn(say=text)


def click(value: str) -> Turn:
    return Turn(click=value)


@dataclass(frozen=True)
class Expect:
    """What must hold after the last turn. `step`: a Step value, None (no dialog under way), a tuple
    of allowed values, or ANY. `answers`: a subset of the state's answers. `kind`: the kind of the
    last reply (or a tuple of allowed kinds). `saved`: a subset of the saved preferences. `mentions`:
    fragments the last turn's output shows. `never`: kinds no reply of the last turn may have (an
    answer meant for another question is not an error). `ends_chat`: the terminal chat ends after
    the turn that says so (the remaining input is never read)."""

    step: Any = ANY
    answers: dict[str, Any] = field(default_factory=dict)
    kind: Any = ANY
    saved: dict[str, Any] = field(default_factory=dict)
    mentions: tuple[str, ...] = ()
    never: tuple[str, ...] = ()
    ends_chat: bool = False


@dataclass(frozen=True)
class Dialogue:
    id: str
    user: str
    lang: str
    turns: tuple[Turn, ...]
    expect: Expect
    question: str  # what the dialogue exercises: a step's name, or "start", "status", "exit"
    origin: str = "grammar"  # "grammar", "issue" (an example of the issue), "repair"
    channels: tuple[str, ...] = CHANNELS
    note: str = ""


def check_unique(dialogues: list[Dialogue]) -> list[Dialogue]:
    counts = Counter(d.id for d in dialogues)
    repeated = [name for name, n in counts.items() if n > 1]
    if repeated:
        raise ValueError(f"dialogue ids used twice: {repeated[:5]}")
    return dialogues


def corpus() -> list[Dialogue]:
    """Every dialogue: the issue's examples and the repairs first, then the generated ones."""
    from tests.robustness.examples import examples
    from tests.robustness.grammar import generated

    return check_unique([*examples(), *generated()])


def select(
    dialogues: list[Dialogue], *, channel: str | None = None, lang: str | None = None
) -> list[Dialogue]:
    return [
        d
        for d in dialogues
        if (channel is None or channel in d.channels) and (lang is None or d.lang == lang)
    ]
