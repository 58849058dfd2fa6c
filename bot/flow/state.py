"""The conversation state: plain data, saved as JSON at the end of every turn and read back at the
start of the next one (never cached in a process), so a conversation survives restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from bot.backend.port import CallPreference, Role

STATE_SCHEMA = 1


class Step(StrEnum):
    """Where the conversation stands. The sign-in steps come in the order of the desktop dialog."""

    LANGUAGE = "language"
    TAKE_OVER = "take_over"
    ROLE = "role"
    CALL_PREFERENCE = "call_preference"
    EXTENSION = "extension"
    COUNTRY_CODE = "country_code"
    DIAL_NUMBER = "dial_number"
    TEAM = "team"
    AUTO_LOGIN = "auto_login"
    CONFIRM = "confirm"
    CHANGE_FIELD = "change_field"
    AVAILABILITY = "availability"


class Purpose(StrEnum):
    """Why the sign-in steps are running: to sign in, or only to edit the saved preferences (U2)."""

    LOGIN = "login"
    PREFERENCES = "preferences"


class Answers(BaseModel):
    """The answers of the sign-in dialog; None means not answered yet."""

    role: Role | None = None
    call_preference: CallPreference | None = None
    extension: str | None = None
    dial_number: str | None = None  # E.164
    country_code: str | None = None  # digits, e.g. "33", for international format (S5)
    pending_national: str | None = None  # a national number waiting for its country code
    team_id: str | None = None
    auto_login: bool | None = None

    def cleared(self, *fields: str) -> Answers:
        return self.model_copy(update=dict.fromkeys(fields))


class SavedPreferences(BaseModel):
    """The user's saved preferences, as the flow sees them (storage maps its records to this)."""

    role: Role | None = None
    call_preference: CallPreference | None = None
    extension: str | None = None
    dial_number: str | None = None
    country_code: str | None = None
    team_id: str | None = None
    auto_login: bool = False
    language: str | None = None

    @classmethod
    def from_answers(cls, answers: Answers, language: str | None) -> SavedPreferences:
        return cls(
            role=answers.role,
            call_preference=answers.call_preference,
            extension=answers.extension,
            dial_number=answers.dial_number,
            country_code=answers.country_code,
            team_id=answers.team_id,
            auto_login=bool(answers.auto_login),
            language=language,
        )

    def as_answers(self) -> Answers:
        return Answers(
            role=self.role,
            call_preference=self.call_preference,
            extension=self.extension,
            dial_number=self.dial_number,
            country_code=self.country_code,
            team_id=self.team_id,
            auto_login=self.auto_login,
        )


def _now() -> datetime:
    return datetime.now(UTC)


class FlowState(BaseModel):
    """One user's conversation in one channel."""

    schema_version: int = STATE_SCHEMA
    email: str = ""
    language: str | None = None
    language_chosen: bool = False  # the user picked it: stop guessing from messages
    step: Step | None = None  # None: no dialog under way
    purpose: Purpose = Purpose.LOGIN
    answers: Answers = Field(default_factory=Answers)
    editing: Step | None = None  # a step the user asked to change: asked even where it could be auto-filled
    errors: int = 0  # consecutive unusable answers at the current step
    choices: list[str] = Field(default_factory=list)  # values of the last numbered choices shown
    team_candidates: list[str] = Field(default_factory=list)  # team ids left to pick from (S9)
    refused_numbers: list[str] = Field(default_factory=list)  # refused by the contact center this dialog
    automatic: bool = False  # the attempt under way is an auto-login (S6, S7)
    take_over: bool = False  # the user said "continue here" (S12)
    in_flight: str | None = None  # a backend call was started and its outcome is not recorded yet (X2)
    in_flight_since: datetime | None = None
    # A sign-in of this conversation failed without knowing whether the service acted (a timeout, a
    # lost connection, a 5xx): before trying again, ask for the session; one found is that sign-in's.
    login_unconfirmed: bool = False
    deliveries: list[str] = Field(default_factory=list)  # ids of the platform deliveries processed
    notices: list[str] = Field(default_factory=list)  # catalog keys to say at the next turn (S12)
    pending_message: str | None = None  # the message that started the dialog, replayed after a question
    # Answers a message gave to other, already answered questions, waiting for "yes, change it".
    pending_change: dict[str, str] = Field(default_factory=dict)
    updated_at: datetime = Field(default_factory=_now)

    @property
    def active(self) -> bool:
        return self.step is not None

    def in_flight_due(self, grace: timedelta) -> datetime | None:
        """When the backend call in flight counts as interrupted (its turn died or lost its result),
        or None when no call is in flight."""
        if not self.in_flight:
            return None
        return (self.in_flight_since or self.updated_at) + grace
