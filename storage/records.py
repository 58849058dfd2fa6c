"""The plain values that cross the storage boundary.

Callers (the turn runner, admin tools, reports) only ever see these frozen dataclasses, never ORM
objects: an ORM row is bound to a session and a transaction, and letting one escape would let code
outside `storage/` lazy-load, mutate or keep rows alive after their transaction ended. A frozen
record is a snapshot; to change something, build a new record and hand it back to the `Store`.

All datetimes are timezone-aware UTC, both the ones the store returns and the ones it accepts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple


class ConversationKey(NamedTuple):
    """Who a conversation belongs to.

    Always the full triple: a channel (a Webex space, a Slack channel, ...) can hold several users,
    and each of them has their own conversation with the bot. `workspace` is the tenant/org/team the
    channel lives in, because channel ids are only unique inside one.
    """

    channel: str
    workspace: str
    user: str


@dataclass(frozen=True)
class StoredConversation:
    """A conversation as last committed; `version` is what the next `commit_turn` must expect."""

    key: ConversationKey
    state: dict[str, Any]
    step: str | None
    language: str | None
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class PreferencesRecord:
    """The choices a user asked the bot to remember, one record per email.

    `updated_at` is stamped by the store on every save; the value passed in is ignored, so a record
    loaded, changed with `dataclasses.replace` and saved again cannot carry a stale timestamp.
    """

    email: str
    role: str | None = None
    call_preference: str | None = None
    extension: str | None = None
    dial_number: str | None = None  # E.164, e.g. "+14155550100"
    country_code: str | None = None
    team_id: str | None = None
    auto_login: bool = False
    language: str | None = None
    e911_acknowledged: bool = False
    updated_at: datetime | None = None


OUTCOMES: Final = ("success", "failure")


@dataclass(frozen=True)
class AttemptRecord:
    """One station sign-in attempt, kept for the user's history and for support look-ups.

    `id` is assigned by the database; leave it `None` when appending.
    """

    email: str
    channel: str
    outcome: str  # "success" or "failure"
    started_at: datetime
    finished_at: datetime
    reason: str | None = None
    tracking_id: str | None = None
    role: str | None = None
    call_preference: str | None = None
    dial_number: str | None = None
    team_id: str | None = None
    automatic: bool = False  # True when the sign-in came from the auto-login preference
    duration_ms: int = 0
    id: int | None = None


@dataclass(frozen=True)
class ActiveSessionRecord:
    """The station session a user currently holds, and which conversation started it.

    One per email: a user is signed in to one station at a time, whichever channel they used.
    """

    email: str
    key: ConversationKey
    agent_session_id: str
    started_at: datetime


@dataclass(frozen=True)
class TokenRecord:
    """A user's OAuth tokens as stored: the token fields are ciphertext, never clear text.

    Encryption is the caller's job (`bot.secrets.Cipher`), so that storage never holds the key.
    `updated_at` is stamped by the store; the value passed in is ignored.
    """

    email: str
    access_token_encrypted: str
    refresh_token_encrypted: str | None
    expires_at: datetime
    scopes: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True)
class PendingAuthorizationRecord:
    """An OAuth authorization in progress: `state` -> who started it, and the encrypted PKCE verifier."""

    state: str
    email: str
    verifier_encrypted: str
    expires_at: datetime
    redirect_to: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class EmailChallengeRecord:
    """A six-digit code sent to `email` to prove who `subject` (a chat user id in `channel`) is.

    Only the code's salted hash is stored, never the code. `tries_left` counts down with each
    attempt; the record is single use and expires at `expires_at`.
    """

    channel: str
    subject: str
    email: str
    code_hash: str
    salt: str
    expires_at: datetime
    tries_left: int
    created_at: datetime | None = None


@dataclass(frozen=True)
class IdentityBindingRecord:
    """An email proven by a code for a chat user id (`subject`) of a channel that cannot vouch."""

    channel: str
    subject: str
    email: str
    verified_at: datetime | None = None
    workspace: str = ""
    last_seen_at: datetime | None = None


@dataclass(frozen=True)
class InboundRecord:
    """A delivery a channel acknowledged and must still answer: an entry of the durable inbox.

    Recorded before the platform is acknowledged, so that a crash before the turn ran or before
    its replies were posted leaves it `pending` for a replay at the next start-up (issue 7).
    `subject` is the platform's user id (who the user is, their email, is looked up later);
    `payload` is the channel's JSON description of the delivery, enough to replay it. `owner` names
    the process holding the entry: the one that received it, or the one that took it over, `claims`
    times in all. `id`, `status` and the timestamps are the store's; the values passed in are ignored.
    """

    channel: str
    workspace: str
    subject: str
    delivery_id: str
    payload: dict[str, Any]
    owner: str
    status: str = "pending"
    claims: int = 1
    received_at: datetime | None = None
    claimed_at: datetime | None = None
    finished_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True)
class OutboundRecord:
    """The replies of a committed turn, until they are posted: an entry of the reply outbox.

    Written by the turn's own commit (`Store.commit_turn(outbox=...)`), so a crash between the
    commit and the posting leaves them `pending`. `payload` is the channel's JSON: the replies and
    where they go. `owner`, `claims` and the store-stamped fields work as in `InboundRecord`.
    """

    key: ConversationKey
    delivery_id: str | None
    payload: dict[str, Any]
    owner: str
    status: str = "pending"
    claims: int = 1
    created_at: datetime | None = None
    claimed_at: datetime | None = None
    posted_at: datetime | None = None
    id: int | None = None


class Keep(enum.Enum):
    """Type of the `KEEP` sentinel (an enum so type checkers can narrow on `is KEEP`)."""

    KEEP = "KEEP"

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = Keep.KEEP
"""Passed as `commit_turn(session=...)`: leave the active-session row as it is."""


class StorageError(Exception):
    """The database failed; the cause is chained (`__cause__`) for logs.

    The message is deliberately generic so it can never put SQL, table names or parameters in front
    of a chat user.
    """


class VersionConflict(Exception):
    """Someone else committed the conversation since it was loaded; nothing of this turn was written.

    The turn runner reloads the conversation and replays (or drops) the turn.
    """

    def __init__(self, key: ConversationKey, expected_version: int | None) -> None:
        self.key = key
        self.expected_version = expected_version
        what = "did not exist" if expected_version is None else f"was at version {expected_version}"
        super().__init__(f"conversation {tuple(key)!r} changed since it was loaded (it {what})")


def utc(value: datetime) -> datetime:
    """Return `value` in UTC; refuse naive datetimes, whose meaning would depend on the host's zone."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime {value!r}: storage takes timezone-aware datetimes only")
    return value.astimezone(UTC)
