"""What a channel observed after a dialogue, and the dialogue's expectations checked against it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.robustness.corpus import ANY, Dialogue

_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_EMPTY_LIST = re.compile(r":\s*[.,](?:\s|$)", re.MULTILINE)  # "Your extensions are: ."


@dataclass
class Exchange:
    user: str
    bot: str  # what the channel showed, as text
    keys: list[str | None] = field(default_factory=list)  # the replies' catalog keys, when known


@dataclass
class Observation:
    """What one channel showed and stored for one dialogue."""

    state: dict[str, Any] | None = None  # the stored conversation state (a FlowState as JSON)
    last_kind: str | None = None
    last_key: str | None = None
    last_kinds: list[str | None] = field(default_factory=list)  # every reply of the last turn
    saved: dict[str, Any] | None = None  # the saved preferences
    ended_chat: bool | None = None  # terminal only: the chat ended before the input did
    exchanges: list[Exchange] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what the channel itself got wrong
    notes: list[str] = field(default_factory=list)  # what else helps to read a failure

    @property
    def last_output(self) -> str:
        return self.exchanges[-1].bot if self.exchanges else ""


def _allowed(expected: Any, got: Any) -> bool:
    if isinstance(expected, tuple):
        return got in expected
    return bool(got == expected)


def _output_problems(observation: Observation) -> list[str]:
    problems: list[str] = []
    for number, exchange in enumerate(observation.exchanges, start=1):
        text = exchange.bot
        if "Traceback" in text:
            problems.append(f"turn {number}: a stack trace reached the user")
        if placeholder := _PLACEHOLDER.search(text):
            problems.append(f"turn {number}: an unfilled placeholder {placeholder.group()}")
        if empty := _EMPTY_LIST.search(text):
            problems.append(
                f"turn {number}: an empty list ({text[max(0, empty.start() - 30) : empty.end()]!r})"
            )
    return problems


def failures(dialogue: Dialogue, observation: Observation) -> list[str]:
    """Why the dialogue failed on this channel (empty when it passed)."""
    expect = dialogue.expect
    found = list(observation.problems) + _output_problems(observation)
    state = observation.state or {}
    if expect.step is not ANY and not _allowed(expect.step, state.get("step")):
        found.append(f"step is {state.get('step')!r}, expected {expect.step!r}")
    answers = state.get("answers") or {}
    for name, value in expect.answers.items():
        if answers.get(name) != value:
            found.append(f"answers.{name} is {answers.get(name)!r}, expected {value!r}")
    if expect.kind is not ANY and not _allowed(expect.kind, observation.last_kind):
        found.append(
            f"last reply is {observation.last_kind!r} ({observation.last_key}), expected {expect.kind!r}"
        )
    for kind in expect.never:
        if kind in observation.last_kinds:
            found.append(f"the last turn has a reply of kind {kind!r}")
    saved = observation.saved or {}
    for name, value in expect.saved.items():
        if saved.get(name) != value:
            found.append(f"saved {name} is {saved.get(name)!r}, expected {value!r}")
    for fragment in expect.mentions:
        if fragment not in observation.last_output:
            found.append(f"the last turn does not show {fragment!r}")
    if expect.ends_chat and not observation.ended_chat:
        found.append("the chat did not end")
    return found


def transcript(dialogue: Dialogue, observation: Observation, failed: list[str]) -> str:
    lines = [f"{dialogue.id} ({dialogue.user}, {dialogue.lang})"]
    for exchange in observation.exchanges:
        lines.append(f"  you › {exchange.user}")
        keys = ", ".join(k or "?" for k in exchange.keys)
        for line in exchange.bot.splitlines() or [""]:
            lines.append(f"  bot › {line}")
        if keys:
            lines.append(f"        [{keys}]")
    state = observation.state or {}
    lines.append(f"  state: step={state.get('step')!r} answers={_filled(state.get('answers') or {})}")
    lines.extend(f"  {note}" for note in observation.notes)
    lines.extend(f"  FAIL: {reason}" for reason in failed)
    return "\n".join(lines)


def _filled(answers: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answers.items() if v is not None}
