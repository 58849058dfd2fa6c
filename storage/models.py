"""The tables, as SQLModel classes.

These classes are private to `storage/`: the `Store` reads and writes them through their
`__table__` with SQLAlchemy Core (cheaper per turn than an ORM session and its identity map), and
hands the callers frozen records instead. They are also the `target_metadata` of the Alembic
environment, so `alembic revision --autogenerate` diffs them against the migrations; the test suite
checks that the migrated schema and these classes agree.

Changing a table here is not enough: every schema change needs a migration in
`storage/migrations/versions/`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKeyConstraint, Index, Table, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from storage.records import utc


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in and comes out as an aware UTC datetime on every backend.

    PostgreSQL has `timestamptz`; SQLite has no time zones at all, so there it is stored as naive
    UTC text (`YYYY-MM-DD HH:MM:SS.ffffff`, which also sorts and compares correctly) and tagged UTC
    again on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _timestamp(*, nullable: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable))


class PreferencesRow(SQLModel, table=True):
    """Saved preferences, one row per user email."""

    __tablename__ = "preferences"

    email: str = Field(primary_key=True)
    role: str | None = None
    call_preference: str | None = None
    extension: str | None = None
    dial_number: str | None = None
    country_code: str | None = None
    team_id: str | None = None
    auto_login: bool = False
    language: str | None = None
    e911_acknowledged: bool = False
    updated_at: datetime = _timestamp()


class ConversationRow(SQLModel, table=True):
    """A conversation's flow state, keyed by (channel, workspace, user), never by channel alone.

    `version` is the optimistic-concurrency counter: every commit is an
    `UPDATE ... WHERE version = <the version the turn loaded>`.
    """

    __tablename__ = "conversations"

    channel: str = Field(primary_key=True)
    workspace: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)  # "user" is a reserved word in PostgreSQL
    state: str = Field(sa_column=Column(Text, nullable=False))  # JSON text of the flow state
    step: str | None = None
    language: str | None = None
    version: int
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class SignInAttemptRow(SQLModel, table=True):
    """Every station sign-in attempt, append-only."""

    __tablename__ = "signin_attempts"
    __table_args__ = (
        CheckConstraint("outcome IN ('success', 'failure')", name="ck_signin_attempts_outcome"),
        Index("ix_signin_attempts_email_started_at", "email", "started_at"),
        Index("ix_signin_attempts_started_at", "started_at"),
        Index("ix_signin_attempts_tracking_id", "tracking_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str
    channel: str
    started_at: datetime = _timestamp()
    finished_at: datetime = _timestamp()
    outcome: str
    reason: str | None = None
    tracking_id: str | None = None
    role: str | None = None
    call_preference: str | None = None
    dial_number: str | None = None
    team_id: str | None = None
    automatic: bool = False
    duration_ms: int = 0


class ActiveSessionRow(SQLModel, table=True):
    """The station session each user holds, and the conversation that holds it.

    The foreign key keeps the row from pointing at a conversation that does not exist.
    """

    __tablename__ = "active_sessions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["channel", "workspace", "user_id"],
            ["conversations.channel", "conversations.workspace", "conversations.user_id"],
            name="fk_active_sessions_conversation",
            ondelete="CASCADE",
        ),
        Index("ix_active_sessions_conversation", "channel", "workspace", "user_id"),
    )

    email: str = Field(primary_key=True)
    channel: str
    workspace: str
    user_id: str
    agent_session_id: str
    started_at: datetime = _timestamp()


class OAuthTokenRow(SQLModel, table=True):
    """A user's OAuth tokens for the contact center, one row per (normalized) email.

    The token columns hold ciphertext only (`bot.secrets.Cipher`): storage never sees a token in
    clear, so a database dump or a SQL log cannot leak one (X4).
    """

    __tablename__ = "oauth_tokens"

    email: str = Field(primary_key=True)
    access_token_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    refresh_token_encrypted: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    expires_at: datetime = _timestamp()
    scopes: str = ""
    updated_at: datetime = _timestamp()


class PendingAuthorizationRow(SQLModel, table=True):
    """An OAuth authorization started but not completed yet, keyed by its `state` parameter.

    Kept in the database, not in memory, so that the browser's callback may reach any process
    (or a restarted one) and still complete it; each row is taken once (single use).
    """

    __tablename__ = "pending_authorizations"
    __table_args__ = (Index("ix_pending_authorizations_expires_at", "expires_at"),)

    state: str = Field(primary_key=True)
    email: str
    verifier_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    redirect_to: str | None = None
    expires_at: datetime = _timestamp()
    created_at: datetime = _timestamp()


class EmailChallengeRow(SQLModel, table=True):
    """A code sent by email to prove a chat user's identity (S14), one per (channel, subject).

    Holds the code's salted hash only; `tries_left` is decremented atomically by each attempt.
    """

    __tablename__ = "email_challenges"

    channel: str = Field(primary_key=True)
    subject: str = Field(primary_key=True)
    email: str
    code_hash: str
    salt: str
    tries_left: int
    expires_at: datetime = _timestamp()
    created_at: datetime = _timestamp()


class VerificationRequestRow(SQLModel, table=True):
    """Every code sent, append-only, for the per-sender and per-email rate limits."""

    __tablename__ = "verification_requests"
    __table_args__ = (
        Index("ix_verification_requests_subject", "channel", "subject", "requested_at"),
        Index("ix_verification_requests_email", "email", "requested_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    subject: str
    email: str
    requested_at: datetime = _timestamp()


class IdentityBindingRow(SQLModel, table=True):
    """The email a chat user (channel, workspace, subject) proved with a code; `last_seen_at` is when
    it was last used (a binding idle for too long no longer counts)."""

    __tablename__ = "identity_bindings"

    channel: str = Field(primary_key=True)
    workspace: str = Field(primary_key=True)
    subject: str = Field(primary_key=True)
    email: str
    verified_at: datetime = _timestamp()
    last_seen_at: datetime = _timestamp()


class KeyCheckRow(SQLModel, table=True):
    """A known value encrypted with the secret key: a start-up with another key is stopped."""

    __tablename__ = "key_checks"

    name: str = Field(primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = _timestamp()


class DeliveryInboxRow(SQLModel, table=True):
    """A delivery a channel acknowledged and still has to answer (the durable inbox, issue 7).

    Written before the platform gets its acknowledgement, by the process that received it (`owner`,
    `claimed_at`); `claims` counts the processes that took it on, and is the optimistic check of a
    take-over: `UPDATE ... WHERE claims = <the value read>`. `status` is 'pending' until the turn's
    replies are posted, then 'done'; done entries are deleted after a day.
    """

    __tablename__ = "delivery_inbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'done')", name="ck_delivery_inbox_status"),
        Index("ux_delivery_inbox_delivery", "channel", "workspace", "subject", "delivery_id", unique=True),
        Index("ix_delivery_inbox_status_claimed_at", "status", "claimed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    workspace: str
    subject: str  # the platform's user id: the email is only known after a look-up
    delivery_id: str
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON: what replays the delivery
    status: str
    owner: str
    claims: int
    received_at: datetime = _timestamp()
    claimed_at: datetime = _timestamp()
    finished_at: datetime | None = _timestamp(nullable=True)


class ReplyOutboxRow(SQLModel, table=True):
    """The replies of a committed turn until they are posted (the reply outbox, issue 7).

    Inserted by the turn's own commit, so a crash between the commit and the posting leaves them
    here; `owner`, `claimed_at` and `claims` work as in `delivery_inbox`. 'pending', then 'posted'.
    """

    __tablename__ = "reply_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'posted')", name="ck_reply_outbox_status"),
        Index("ix_reply_outbox_delivery", "channel", "workspace", "user_id", "delivery_id"),
        Index("ix_reply_outbox_status_claimed_at", "status", "claimed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    workspace: str
    user_id: str
    delivery_id: str | None = None
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON: the replies and their address
    status: str
    owner: str
    claims: int
    created_at: datetime = _timestamp()
    claimed_at: datetime = _timestamp()
    posted_at: datetime | None = _timestamp(nullable=True)


def table(model: type[SQLModel]) -> Table:
    """The Core `Table` behind a model (typed, for the `Store`'s Core statements)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


preferences = table(PreferencesRow)
conversations = table(ConversationRow)
signin_attempts = table(SignInAttemptRow)
active_sessions = table(ActiveSessionRow)
oauth_tokens = table(OAuthTokenRow)
pending_authorizations = table(PendingAuthorizationRow)
email_challenges = table(EmailChallengeRow)
verification_requests = table(VerificationRequestRow)
identity_bindings = table(IdentityBindingRow)
key_checks = table(KeyCheckRow)
delivery_inbox = table(DeliveryInboxRow)
reply_outbox = table(ReplyOutboxRow)

metadata = SQLModel.metadata
