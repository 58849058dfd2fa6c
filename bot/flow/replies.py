"""What the flow says back: rendered text plus the choices a channel shows as buttons or numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ReplyKind(StrEnum):
    PROMPT = "prompt"  # a question: the step waits for an answer
    INFO = "info"
    ERROR = "error"  # the last answer could not be used
    SUMMARY = "summary"  # the "Save and continue" summary (S10)
    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True)
class Choice:
    """One answer a channel can offer as a button; `value` is what comes back when it is clicked."""

    value: str
    label: str


@dataclass(frozen=True)
class Reply:
    key: str  # the catalog key: stable across languages, what golden tests assert
    text: str
    kind: ReplyKind = ReplyKind.INFO
    choices: tuple[Choice, ...] = ()
    step: str | None = None  # the step a prompt belongs to
    fields: dict[str, str] = field(default_factory=dict)  # labelled values (summaries, preferences)
