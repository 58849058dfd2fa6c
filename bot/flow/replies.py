"""What the flow says back: rendered text plus the choices a channel shows as buttons or numbers."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, TypeAdapter


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
class Section:
    """One part of a long answer, such as a checklist item: its title, a status a channel can show
    as a mark or a colour ("problem", "unknown", "ok"), the lines that support it and what to do."""

    title: str
    status: str = ""
    status_label: str = ""  # the status in the reply's language
    lines: tuple[str, ...] = ()
    note: str = ""  # what to do about it


@dataclass(frozen=True)
class Table:
    """Rows of cells under a header, and an optional last row (totals)."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footer: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """A file that goes with a reply (the failure report's chart) for the channels that can show it."""

    filename: str
    title: str
    mime_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Document:
    """A long, structured answer (the troubleshooting checklist, the failure report).

    Why both this and `Reply.text`: the text is the whole answer, plain, for the channels that only
    show text (a pipe, Rasa); a channel that can lay things out (Slack's blocks, a rich terminal)
    shows the document instead: a title, a few lines of introduction, sections, a table, files.
    """

    title: str
    intro: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()
    table: Table | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Reply:
    key: str  # the catalog key: stable across languages, what golden tests assert
    text: str
    kind: ReplyKind = ReplyKind.INFO
    choices: tuple[Choice, ...] = ()
    step: str | None = None  # the step a prompt belongs to
    fields: dict[str, str] = field(default_factory=dict)  # labelled values (summaries, preferences)
    document: Document | None = None  # a long answer's structure; `text` holds all of it too


# --- replies as JSON (a channel's reply outbox keeps them until they are posted) ------------------


@functools.cache
def _adapter() -> TypeAdapter[list[Reply]]:
    # Files travel as base64 text: JSON has no bytes.
    return TypeAdapter(list[Reply], config=ConfigDict(ser_json_bytes="base64", val_json_bytes="base64"))


def replies_to_json(replies: Sequence[Reply]) -> list[dict[str, Any]]:
    """Replies as plain JSON values (the files' bytes in base64), for `replies_from_json`."""
    dumped: list[dict[str, Any]] = _adapter().dump_python(list(replies), mode="json")
    return dumped


def replies_from_json(data: object) -> list[Reply]:
    """The replies `replies_to_json` made; pydantic's ValidationError for anything else."""
    return _adapter().validate_python(data)
