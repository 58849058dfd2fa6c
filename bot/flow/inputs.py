"""What a turn takes in: the user's message, the context the runner read, and the recognizer's
reading of the text; and what it gives back."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.backend.port import (
    FailureReason,
    UserProfile,
)
from bot.flow.effects import (
    Effect,
)
from bot.flow.replies import Reply
from bot.flow.state import FlowState, SavedPreferences
from bot.limits import MAX_INPUT_CHARS

MAX_MESSAGE_CHARS = MAX_INPUT_CHARS  # longer messages are refused with a clear answer, never processed
MAX_ERRORS = 3  # after this many unusable answers in a row, offer a way out
IN_FLIGHT_GRACE = timedelta(seconds=60)  # a backend call older than this is assumed interrupted (X2)
CONFIDENT = 0.5  # intent confidence needed for commands that change the course of the dialog

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd\ufeff]")
NUMBERISH = re.compile(r"(?:\+|\b)[\d][\d\s().\-/]{2,}\d|\+\d+")


class EntityLike(Protocol):
    @property
    def value(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


class Parsed(Protocol):
    """What the engine needs of a recognizer result (`intents.recognizer.Parse`)."""

    @property
    def text(self) -> str: ...
    @property
    def intent(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def language(self) -> str | None: ...

    def entity(self, name: str) -> EntityLike | None: ...


class Understands(Protocol):
    def parse(self, text: str, *, teams: Sequence[str] = (), region: str = "US") -> Parsed: ...


@dataclass(frozen=True)
class UserMessage:
    """One input from a user: typed text, or the value of a button they clicked."""

    text: str = ""
    choice: str | None = None
    # The platform's id for this delivery (Slack's event_id or action timestamp): a retried or
    # duplicated delivery is recognised and answered with nothing, never processed twice (X2).
    delivery_id: str | None = None


@dataclass(frozen=True)
class TurnContext:
    """What the runner read for this turn: the profile (None for an unknown email) and preferences."""

    profile: UserProfile | None
    preferences: SavedPreferences | None = None
    profile_error: FailureReason | None = None  # the profile could not be read (backend down, ...)
    profile_error_tracking_id: str = ""  # that failed read's tracking id, for an administrator (X3)
    authorize_url: str = ""  # with AUTHORIZATION_REQUIRED: where the user consents (OAuth)
    locale: str | None = None  # the chat platform's locale, e.g. "fr-FR"
    language: str | None = None  # a language the user chose outside the chat (`--lang`, a setting)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    # How long a backend call an earlier turn started may still be under way (LOGINBOT_IN_FLIGHT_GRACE).
    in_flight_grace: timedelta = IN_FLIGHT_GRACE


@dataclass
class TurnResult:
    state: FlowState
    replies: list[Reply]
    effects: list[Effect]
    duplicate: bool = False  # the delivery was already processed: nothing to save or say


def sanitize(text: str) -> str:
    """Drop control characters and odd whitespace; keep every printable character of any script."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


def parse_text_span(parse: Parsed, entity: EntityLike) -> str:
    """The text the user typed for an entity (numbers are re-validated from what was typed)."""
    return parse.text[entity.start : entity.end] or entity.value
