"""`Store`: every read and write the bot makes, each in one short transaction.

The unit of writing is the *turn*: whatever one user message changed (the flow state, preferences,
sign-in attempts, the active station session) is committed by a single `commit_turn`, in a single
transaction, guarded by the conversation's version. Either all of it lands or none of it does, and
two processes handling two messages of the same conversation cannot both win: the second one gets
`VersionConflict` and replays its turn on top of the first one's state.

Statements are SQLAlchemy Core on the models' tables (no ORM session, no reflection), compiled
once and cached by SQLAlchemy, on one engine reused for the life of the process: a turn on SQLite
costs a fraction of a millisecond.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol, TypeVar

from sqlalchemy import Table, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.dml import Insert

from storage.engine import make_engine, writer
from storage.migrate import upgrade_to_head
from storage.models import (
    active_sessions,
    conversations,
    delivery_inbox,
    email_challenges,
    identity_bindings,
    key_checks,
    oauth_tokens,
    pending_authorizations,
    preferences,
    reply_outbox,
    signin_attempts,
    verification_requests,
)
from storage.records import (
    KEEP,
    ActiveSessionRecord,
    AttemptRecord,
    ConversationKey,
    EmailChallengeRecord,
    IdentityBindingRecord,
    InboundRecord,
    Keep,
    OutboundRecord,
    PendingAuthorizationRecord,
    PreferencesRecord,
    StorageError,
    StoredConversation,
    TokenRecord,
    VersionConflict,
    utc,
)

Clock = Callable[[], datetime]
# The two kinds of delivery rows, which share their pending/claim plumbing.
_Delivery = TypeVar("_Delivery", InboundRecord, OutboundRecord)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _UpsertInsert(Protocol):
    """What the SQLite and PostgreSQL `insert()` constructs have in common (ON CONFLICT)."""

    def values(self, *args: Any, **kwargs: Any) -> _UpsertInsert: ...

    def on_conflict_do_update(self, *, index_elements: Sequence[Any], set_: Mapping[str, Any]) -> Insert: ...

    def on_conflict_do_nothing(self, *, index_elements: Sequence[Any]) -> Insert: ...


def _upsert_factory(dialect_name: str) -> Callable[[Table], _UpsertInsert]:
    """The dialect's INSERT that supports ON CONFLICT; only SQLite and PostgreSQL are supported."""
    if dialect_name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    raise StorageError(f"unsupported database backend {dialect_name!r}: use SQLite or PostgreSQL")


def _dump_json(value: Mapping[str, Any], what_message: str) -> str:
    """`value` as compact JSON; `StorageError(what_message)` when it is not plain JSON."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StorageError(what_message) from exc


_STATE_NOT_JSON = "the conversation state cannot be stored: it is not plain JSON"
_PAYLOAD_NOT_JSON = "the delivery cannot be stored: it is not plain JSON"


def _load_payload(text: str) -> dict[str, Any]:
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise StorageError("a stored delivery is not valid JSON") from exc
    if not isinstance(payload, dict):
        raise StorageError("a stored delivery is not a JSON object")
    return payload


# The statements every turn runs, built once with bound parameters: building and hashing a statement
# cost more than running it (150 us against 60 us for a conversation read on SQLite).
def _by_key(table: Table) -> ColumnElement[bool]:
    return and_(
        table.c.channel == bindparam("k_channel"),
        table.c.workspace == bindparam("k_workspace"),
        table.c.user_id == bindparam("k_user"),
    )


_LOAD_CONVERSATION = select(conversations).where(_by_key(conversations))
_UPDATE_CONVERSATION = (
    update(conversations)
    .where(_by_key(conversations), conversations.c.version == bindparam("k_version"))
    .values(
        state=bindparam("v_state"),
        step=bindparam("v_step"),
        language=bindparam("v_language"),
        version=bindparam("v_version"),
        updated_at=bindparam("v_updated_at"),
    )
)
_LOAD_PREFERENCES = select(preferences).where(preferences.c.email == bindparam("k_email"))
_INBOX_COLUMNS = ("channel", "workspace", "subject", "delivery_id", "payload", "status", "owner", "claims")
_INBOX_STAMPS = ("received_at", "claimed_at")
_OUTBOX_COLUMNS = (
    "channel",
    "workspace",
    "user_id",
    "delivery_id",
    "payload",
    "status",
    "owner",
    "claims",
    "created_at",
    "claimed_at",
)
_INSERT_OUTBOX = insert(reply_outbox).values({name: bindparam(f"o_{name}") for name in _OUTBOX_COLUMNS})
# Once a turn's replies are posted (every turn of the Slack app): its stored replies, its inbox entry.
_MARK_POSTED = (
    update(reply_outbox)
    .where(
        _by_key(reply_outbox),
        reply_outbox.c.delivery_id == bindparam("k_delivery_id"),
        reply_outbox.c.owner == bindparam("k_owner"),
        reply_outbox.c.status == "pending",
    )
    .values(status="posted", posted_at=bindparam("v_at"))
)
_FINISH_INBOUND = (
    update(delivery_inbox)
    .where(delivery_inbox.c.id == bindparam("k_id"), delivery_inbox.c.status == "pending")
    .values(status="done", finished_at=bindparam("v_at"))
)


def _key_params(key: ConversationKey) -> dict[str, str]:
    return {"k_channel": key.channel, "k_workspace": key.workspace, "k_user": key.user}


def _preferences_values(record: PreferencesRecord, now: datetime) -> dict[str, Any]:
    return {
        "email": record.email,
        "role": record.role,
        "call_preference": record.call_preference,
        "extension": record.extension,
        "dial_number": record.dial_number,
        "country_code": record.country_code,
        "team_id": record.team_id,
        "auto_login": record.auto_login,
        "language": record.language,
        "e911_acknowledged": record.e911_acknowledged,
        "updated_at": now,
    }


def _attempt_values(record: AttemptRecord) -> dict[str, Any]:
    values: dict[str, Any] = {
        "email": record.email,
        "channel": record.channel,
        "started_at": utc(record.started_at),
        "finished_at": utc(record.finished_at),
        "outcome": record.outcome,
        "reason": record.reason,
        "tracking_id": record.tracking_id,
        "role": record.role,
        "call_preference": record.call_preference,
        "dial_number": record.dial_number,
        "team_id": record.team_id,
        "automatic": record.automatic,
        "duration_ms": record.duration_ms,
    }
    if record.id is not None:
        values["id"] = record.id
    return values


def _to_preferences(row: RowMapping) -> PreferencesRecord:
    return PreferencesRecord(
        email=row["email"],
        role=row["role"],
        call_preference=row["call_preference"],
        extension=row["extension"],
        dial_number=row["dial_number"],
        country_code=row["country_code"],
        team_id=row["team_id"],
        auto_login=bool(row["auto_login"]),
        language=row["language"],
        e911_acknowledged=bool(row["e911_acknowledged"]),
        updated_at=row["updated_at"],
    )


def _to_attempt(row: RowMapping) -> AttemptRecord:
    return AttemptRecord(
        id=row["id"],
        email=row["email"],
        channel=row["channel"],
        outcome=row["outcome"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        reason=row["reason"],
        tracking_id=row["tracking_id"],
        role=row["role"],
        call_preference=row["call_preference"],
        dial_number=row["dial_number"],
        team_id=row["team_id"],
        automatic=bool(row["automatic"]),
        duration_ms=row["duration_ms"],
    )


def _to_session(row: RowMapping) -> ActiveSessionRecord:
    return ActiveSessionRecord(
        email=row["email"],
        key=ConversationKey(row["channel"], row["workspace"], row["user_id"]),
        agent_session_id=row["agent_session_id"],
        started_at=row["started_at"],
    )


def _to_inbound(row: RowMapping) -> InboundRecord:
    return InboundRecord(
        id=row["id"],
        channel=row["channel"],
        workspace=row["workspace"],
        subject=row["subject"],
        delivery_id=row["delivery_id"],
        payload=_load_payload(row["payload"]),
        owner=row["owner"],
        status=row["status"],
        claims=row["claims"],
        received_at=row["received_at"],
        claimed_at=row["claimed_at"],
        finished_at=row["finished_at"],
    )


def _to_outbound(row: RowMapping) -> OutboundRecord:
    return OutboundRecord(
        id=row["id"],
        key=ConversationKey(row["channel"], row["workspace"], row["user_id"]),
        delivery_id=row["delivery_id"],
        payload=_load_payload(row["payload"]),
        owner=row["owner"],
        status=row["status"],
        claims=row["claims"],
        created_at=row["created_at"],
        claimed_at=row["claimed_at"],
        posted_at=row["posted_at"],
    )


def _to_challenge(row: RowMapping) -> EmailChallengeRecord:
    return EmailChallengeRecord(
        channel=row["channel"],
        subject=row["subject"],
        email=row["email"],
        code_hash=row["code_hash"],
        salt=row["salt"],
        expires_at=row["expires_at"],
        tries_left=row["tries_left"],
        created_at=row["created_at"],
    )


class Store:
    """The database, as the rest of loginbot sees it. Thread-safe; one per process is enough.

    Every method either succeeds, raises `VersionConflict` (only `commit_turn`), raises `StorageError`
    for any database failure (cause chained, transaction rolled back), or raises `ValueError` for a
    programming error such as a naive datetime.
    """

    def __init__(self, engine: Engine, *, clock: Clock | None = None) -> None:
        """Wrap an engine whose schema is already at head; `from_url` is the usual way in.

        `clock` supplies the timestamps the store stamps (`updated_at`, `created_at`); tests pass a
        fixed one.
        """
        self._engine = engine
        self._writer = writer(engine)
        self._clock: Clock = clock or _utcnow
        self._upsert = _upsert_factory(engine.dialect.name)
        # Recording a delivery runs before every acknowledgement: built once (see _LOAD_CONVERSATION).
        inbox = delivery_inbox.c
        self._record_inbound = (
            self._upsert(delivery_inbox)
            .values({name: bindparam(f"i_{name}") for name in (*_INBOX_COLUMNS, *_INBOX_STAMPS)})
            .on_conflict_do_nothing(
                index_elements=[inbox.channel, inbox.workspace, inbox.subject, inbox.delivery_id]
            )
            .returning(inbox.id)
        )

    @classmethod
    def from_url(cls, url: str, *, clock: Clock | None = None) -> Store:
        """Connect to `url` (e.g. `sqlite:///loginbot.db`, `postgresql+psycopg://...`) and migrate.

        Migrations run here, once per process, never per call.
        """
        try:
            engine = make_engine(url)
        except ImportError as exc:
            raise StorageError(
                "the database driver is not installed (for PostgreSQL: pip install 'psycopg[binary]')"
            ) from exc
        except (SQLAlchemyError, OSError, ValueError) as exc:
            raise StorageError("the database URL is not usable") from exc
        try:
            upgrade_to_head(engine)
            return cls(engine, clock=clock)
        except Exception as exc:
            engine.dispose()
            if isinstance(exc, StorageError):
                raise
            raise StorageError("could not open and migrate the database") from exc

    # -- plumbing -------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return utc(self._clock())

    @contextmanager
    def _reading(self, what: str) -> Iterator[Connection]:
        try:
            with self._engine.connect() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise StorageError(f"could not {what}") from exc

    @contextmanager
    def _writing(self, what: str) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        try:
            with self._writer.begin() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise StorageError(f"could not {what}") from exc

    def _upsert_preferences(self, connection: Connection, record: PreferencesRecord, now: datetime) -> None:
        values = _preferences_values(record, now)
        statement = (
            self._upsert(preferences)
            .values(values)
            .on_conflict_do_update(
                index_elements=[preferences.c.email],
                set_={name: value for name, value in values.items() if name != "email"},
            )
        )
        connection.execute(statement)

    # -- conversations and turns ----------------------------------------------------------------

    def load_conversation(self, key: ConversationKey) -> StoredConversation | None:
        """The conversation as last committed, or `None` if this user never talked here."""
        key = ConversationKey(*key)
        with self._reading("load the conversation") as connection:
            row = connection.execute(_LOAD_CONVERSATION, _key_params(key)).mappings().first()
        if row is None:
            return None
        try:
            state = json.loads(row["state"])
        except ValueError as exc:
            raise StorageError("the stored conversation state is not valid JSON") from exc
        return StoredConversation(
            key=key,
            state=state,
            step=row["step"],
            language=row["language"],
            version=row["version"],
            updated_at=row["updated_at"],
        )

    def commit_turn(
        self,
        *,
        key: ConversationKey,
        state: Mapping[str, Any],
        step: str | None,
        language: str | None,
        expected_version: int | None,
        preferences: PreferencesRecord | None = None,
        attempts: Sequence[AttemptRecord] = (),
        session: ActiveSessionRecord | Keep | None = KEEP,
        session_email: str | None = None,
        outbox: OutboundRecord | None = None,
    ) -> int:
        """Write everything one turn changed, atomically, and return the conversation's new version.

        * conversation: inserted (version 1) when `expected_version` is None, else updated only if
          it is still at `expected_version`; otherwise `VersionConflict` and nothing is written.
        * `preferences`: upserted (by email) when given.
        * `attempts`: appended.
        * `session`: `KEEP` leaves the active-session rows alone; an `ActiveSessionRecord` upserts
          the row for its email; `None` deletes the row for `session_email` (whichever
          conversation holds it, e.g. signing out from another channel), or, without
          `session_email`, every row held by this conversation `key`.
        * `outbox`: the turn's replies, added to the reply outbox (pending, claimed by its owner),
          so that they outlive a crash between this commit and their posting.
        """
        key = ConversationKey(*key)
        state_json = _dump_json(state, _STATE_NOT_JSON)
        attempt_rows = [_attempt_values(attempt) for attempt in attempts]
        if isinstance(session, ActiveSessionRecord):
            if session_email is not None and session_email != session.email:
                raise ValueError("session_email and session.email disagree")
            session_values = {
                "email": session.email,
                "channel": session.key[0],
                "workspace": session.key[1],
                "user_id": session.key[2],
                "agent_session_id": session.agent_session_id,
                "started_at": utc(session.started_at),
            }
        now = self._now()
        if outbox is not None:
            if tuple(outbox.key) != tuple(key):
                raise ValueError("the outbox record belongs to another conversation")
            outbox_values = {
                "o_channel": key.channel,
                "o_workspace": key.workspace,
                "o_user_id": key.user,
                "o_delivery_id": outbox.delivery_id,
                "o_payload": _dump_json(outbox.payload, _PAYLOAD_NOT_JSON),
                "o_status": "pending",
                "o_owner": outbox.owner,
                "o_claims": 1,
                "o_created_at": now,
                "o_claimed_at": now,
            }

        with self._writing("save the conversation") as connection:
            if expected_version is None:
                inserted = connection.execute(
                    self._upsert(conversations)
                    .values(
                        channel=key.channel,
                        workspace=key.workspace,
                        user_id=key.user,
                        state=state_json,
                        step=step,
                        language=language,
                        version=1,
                        created_at=now,
                        updated_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=list(conversations.primary_key.columns))
                    # RETURNING, not rowcount: drivers need not report a row count for an INSERT.
                    .returning(conversations.c.version)
                )
                if inserted.first() is None:
                    raise VersionConflict(key, expected_version)  # rolls the transaction back
                new_version = 1
            else:
                new_version = expected_version + 1
                updated = connection.execute(
                    _UPDATE_CONVERSATION,
                    {
                        **_key_params(key),
                        "k_version": expected_version,
                        "v_state": state_json,
                        "v_step": step,
                        "v_language": language,
                        "v_version": new_version,
                        "v_updated_at": now,
                    },
                )
                if updated.rowcount != 1:
                    raise VersionConflict(key, expected_version)

            if preferences is not None:
                self._upsert_preferences(connection, preferences, now)
            if attempt_rows:
                connection.execute(insert(signin_attempts), attempt_rows)
            if isinstance(session, ActiveSessionRecord):
                connection.execute(
                    self._upsert(active_sessions)
                    .values(session_values)
                    .on_conflict_do_update(
                        index_elements=[active_sessions.c.email],
                        set_={name: value for name, value in session_values.items() if name != "email"},
                    )
                )
            elif session is None and session_email is not None:
                connection.execute(delete(active_sessions).where(active_sessions.c.email == session_email))
            elif session is None:
                connection.execute(delete(active_sessions).where(_by_key(active_sessions)), _key_params(key))
            if outbox is not None:
                connection.execute(_INSERT_OUTBOX, outbox_values)
        return new_version

    # -- preferences ----------------------------------------------------------------------------

    def load_preferences(self, email: str) -> PreferencesRecord | None:
        with self._reading("load preferences") as connection:
            row = connection.execute(_LOAD_PREFERENCES, {"k_email": email}).mappings().first()
        return None if row is None else _to_preferences(row)

    def save_preferences(self, record: PreferencesRecord) -> None:
        """Upsert preferences outside a turn (admin tools, imports); stamps `updated_at`."""
        now = self._now()
        with self._writing("save preferences") as connection:
            self._upsert_preferences(connection, record, now)

    # -- sign-in attempts -----------------------------------------------------------------------

    def recent_attempts(self, email: str, *, limit: int = 10) -> list[AttemptRecord]:
        """The user's latest attempts, newest first."""
        if limit < 0:
            raise ValueError("limit must not be negative")
        statement = (
            select(signin_attempts)
            .where(signin_attempts.c.email == email)
            .order_by(signin_attempts.c.started_at.desc(), signin_attempts.c.id.desc())
            .limit(limit)
        )
        with self._reading("load sign-in attempts") as connection:
            return [_to_attempt(row) for row in connection.execute(statement).mappings()]

    def attempts_since(self, since: datetime) -> list[AttemptRecord]:
        """Every attempt started at or after `since`, oldest first (reports, metrics)."""
        statement = (
            select(signin_attempts)
            .where(signin_attempts.c.started_at >= utc(since))
            .order_by(signin_attempts.c.started_at, signin_attempts.c.id)
        )
        with self._reading("load sign-in attempts") as connection:
            return [_to_attempt(row) for row in connection.execute(statement).mappings()]

    def attempt_by_tracking_id(self, tracking_id: str) -> AttemptRecord | None:
        """The attempt a contact-center tracking id belongs to (the newest, should it repeat)."""
        statement = (
            select(signin_attempts)
            .where(signin_attempts.c.tracking_id == tracking_id)
            .order_by(signin_attempts.c.started_at.desc(), signin_attempts.c.id.desc())
            .limit(1)
        )
        with self._reading("load the sign-in attempt") as connection:
            row = connection.execute(statement).mappings().first()
        return None if row is None else _to_attempt(row)

    # -- active sessions ------------------------------------------------------------------------

    def active_session(self, email: str) -> ActiveSessionRecord | None:
        with self._reading("load the active session") as connection:
            row = (
                connection.execute(select(active_sessions).where(active_sessions.c.email == email))
                .mappings()
                .first()
            )
        return None if row is None else _to_session(row)

    # -- OAuth tokens (ciphertext only) -----------------------------------------------------------

    def save_tokens(
        self,
        *,
        email: str,
        access_token_encrypted: str,
        refresh_token_encrypted: str | None,
        expires_at: datetime,
        scopes: str = "",
    ) -> None:
        """Upsert a user's tokens (already encrypted by the caller); stamps `updated_at`."""
        values = {
            "email": email,
            "access_token_encrypted": access_token_encrypted,
            "refresh_token_encrypted": refresh_token_encrypted,
            "expires_at": utc(expires_at),
            "scopes": scopes,
            "updated_at": self._now(),
        }
        statement = (
            self._upsert(oauth_tokens)
            .values(values)
            .on_conflict_do_update(
                index_elements=[oauth_tokens.c.email],
                set_={name: value for name, value in values.items() if name != "email"},
            )
        )
        with self._writing("save the tokens") as connection:
            connection.execute(statement)

    def load_tokens(self, *, email: str) -> TokenRecord | None:
        with self._reading("load the tokens") as connection:
            row = (
                connection.execute(select(oauth_tokens).where(oauth_tokens.c.email == email))
                .mappings()
                .first()
            )
        if row is None:
            return None
        return TokenRecord(
            email=row["email"],
            access_token_encrypted=row["access_token_encrypted"],
            refresh_token_encrypted=row["refresh_token_encrypted"],
            expires_at=row["expires_at"],
            scopes=row["scopes"],
            updated_at=row["updated_at"],
        )

    def delete_tokens(self, *, email: str) -> bool:
        """Forget a user's tokens (revoked, or signed out of loginbot); True when there were some."""
        with self._writing("delete the tokens") as connection:
            deleted = connection.execute(delete(oauth_tokens).where(oauth_tokens.c.email == email))
            return bool(deleted.rowcount)

    def save_pending_authorization(self, record: PendingAuthorizationRecord) -> None:
        """Remember an authorization in progress; expired ones are purged on the way.

        `state` must be new (it is a random value): a duplicate raises `StorageError`.
        """
        now = self._now()
        values = {
            "state": record.state,
            "email": record.email,
            "verifier_encrypted": record.verifier_encrypted,
            "redirect_to": record.redirect_to,
            "expires_at": utc(record.expires_at),
            "created_at": now,
        }
        with self._writing("save the pending authorization") as connection:
            connection.execute(
                delete(pending_authorizations).where(pending_authorizations.c.expires_at <= now)
            )
            connection.execute(insert(pending_authorizations).values(values))

    def take_pending_authorization(self, *, state: str) -> PendingAuthorizationRecord | None:
        """The authorization started with `state`, removed as it is read (single use).

        `None` when there is none, or when it has expired (it is removed all the same). The
        DELETE ... RETURNING makes two callbacks racing with the same state get it at most once.
        """
        now = self._now()
        statement = (
            delete(pending_authorizations)
            .where(pending_authorizations.c.state == state)
            .returning(*pending_authorizations.c)
        )
        with self._writing("take the pending authorization") as connection:
            row = connection.execute(statement).mappings().first()
        if row is None or row["expires_at"] <= now:
            return None
        return PendingAuthorizationRecord(
            state=row["state"],
            email=row["email"],
            verifier_encrypted=row["verifier_encrypted"],
            redirect_to=row["redirect_to"],
            expires_at=row["expires_at"],
            created_at=row["created_at"],
        )

    # -- identity proven by an emailed code (S14) ---------------------------------------------------

    def save_email_challenge(self, record: EmailChallengeRecord) -> None:
        """Replace the subject's pending challenge with `record` and log the request (rate limits).

        Stamps `created_at`; expired challenges of every subject are purged on the way.
        """
        now = self._now()
        values = {
            "channel": record.channel,
            "subject": record.subject,
            "email": record.email,
            "code_hash": record.code_hash,
            "salt": record.salt,
            "tries_left": record.tries_left,
            "expires_at": utc(record.expires_at),
            "created_at": now,
        }
        statement = (
            self._upsert(email_challenges)
            .values(values)
            .on_conflict_do_update(
                index_elements=[email_challenges.c.channel, email_challenges.c.subject],
                set_={k: v for k, v in values.items() if k not in ("channel", "subject")},
            )
        )
        request = {"channel": record.channel, "subject": record.subject, "email": record.email}
        with self._writing("save the email challenge") as connection:
            connection.execute(delete(email_challenges).where(email_challenges.c.expires_at <= now))
            connection.execute(statement)
            connection.execute(insert(verification_requests).values(requested_at=now, **request))

    def load_email_challenge(self, *, channel: str, subject: str) -> EmailChallengeRecord | None:
        where = and_(email_challenges.c.channel == channel, email_challenges.c.subject == subject)
        with self._reading("load the email challenge") as connection:
            row = connection.execute(select(email_challenges).where(where)).mappings().first()
        return None if row is None else _to_challenge(row)

    def spend_email_challenge_try(self, *, channel: str, subject: str) -> EmailChallengeRecord | None:
        """Take one try of the subject's challenge, atomically; returns the challenge as it was
        before (so its `tries_left` counts this try), or None when there is none or no try left.
        Two concurrent attempts can never both use the last try."""
        where = and_(
            email_challenges.c.channel == channel,
            email_challenges.c.subject == subject,
            email_challenges.c.tries_left > 0,
        )
        with self._writing("use a try of the email challenge") as connection:
            row = connection.execute(select(email_challenges).where(where)).mappings().first()
            if row is None:
                return None
            updated = connection.execute(
                update(email_challenges)
                .where(where, email_challenges.c.tries_left == row["tries_left"])
                .values(tries_left=row["tries_left"] - 1)
            )
            if updated.rowcount != 1:
                return None
        return _to_challenge(row)

    def delete_email_challenge(self, *, channel: str, subject: str) -> None:
        where = and_(email_challenges.c.channel == channel, email_challenges.c.subject == subject)
        with self._writing("delete the email challenge") as connection:
            connection.execute(delete(email_challenges).where(where))

    def count_verification_requests(
        self,
        *,
        since: datetime,
        channel: str | None = None,
        subject: str | None = None,
        email: str | None = None,
    ) -> int:
        """Codes sent since `since`, for one subject (channel + subject) and/or one email."""
        conditions: list[ColumnElement[bool]] = [verification_requests.c.requested_at >= utc(since)]
        if channel is not None:
            conditions.append(verification_requests.c.channel == channel)
        if subject is not None:
            conditions.append(verification_requests.c.subject == subject)
        if email is not None:
            conditions.append(verification_requests.c.email == email)
        statement = select(func.count()).select_from(verification_requests).where(and_(*conditions))
        with self._reading("count verification requests") as connection:
            return int(connection.execute(statement).scalar_one())

    def bind_identity(self, record: IdentityBindingRecord) -> None:
        """Record that `subject` proved `email` in its workspace (replacing any earlier binding there)
        and drop the challenge."""
        now = self._now()
        values = {
            "channel": record.channel,
            "workspace": record.workspace,
            "subject": record.subject,
            "email": record.email,
            "verified_at": now,
            "last_seen_at": now,
        }
        c = identity_bindings.c
        statement = (
            self._upsert(identity_bindings)
            .values(values)
            .on_conflict_do_update(
                index_elements=[c.channel, c.workspace, c.subject],
                set_={"email": record.email, "verified_at": now, "last_seen_at": now},
            )
        )
        where = and_(
            email_challenges.c.channel == record.channel, email_challenges.c.subject == record.subject
        )
        with self._writing("save the identity") as connection:
            connection.execute(statement)
            connection.execute(delete(email_challenges).where(where))

    def load_identity(
        self, *, channel: str, subject: str, workspace: str = ""
    ) -> IdentityBindingRecord | None:
        c = identity_bindings.c
        where = and_(c.channel == channel, c.workspace == workspace, c.subject == subject)
        with self._reading("load the identity") as connection:
            row = connection.execute(select(identity_bindings).where(where)).mappings().first()
        if row is None:
            return None
        return IdentityBindingRecord(
            row["channel"],
            row["subject"],
            row["email"],
            row["verified_at"],
            row["workspace"],
            row["last_seen_at"],
        )

    def touch_identity(self, *, channel: str, subject: str, workspace: str = "") -> None:
        """The binding was used just now: its idle time starts again."""
        c = identity_bindings.c
        where = and_(c.channel == channel, c.workspace == workspace, c.subject == subject)
        with self._writing("touch the identity") as connection:
            connection.execute(update(identity_bindings).where(where).values(last_seen_at=self._now()))

    def delete_identity(self, *, channel: str, subject: str, workspace: str | None = None) -> bool:
        """Forget the subject's binding (in `workspace`, or in all of them); True when there was one."""
        c = identity_bindings.c
        where = and_(c.channel == channel, c.subject == subject)
        if workspace is not None:
            where = and_(where, c.workspace == workspace)
        with self._writing("delete the identity") as connection:
            return bool(connection.execute(delete(identity_bindings).where(where)).rowcount)

    # -- the encryption key check ------------------------------------------------------------------

    def load_key_check(self, name: str = "secret_key") -> str | None:
        with self._reading("load the key check") as connection:
            value = connection.execute(select(key_checks.c.value).where(key_checks.c.name == name)).first()
        return None if value is None else str(value[0])

    def save_key_check(self, value: str, name: str = "secret_key") -> None:
        values = {"name": name, "value": value, "updated_at": self._now()}
        statement = (
            self._upsert(key_checks)
            .values(values)
            .on_conflict_do_update(
                index_elements=[key_checks.c.name], set_={"value": value, "updated_at": values["updated_at"]}
            )
        )
        with self._writing("save the key check") as connection:
            connection.execute(statement)

    def reencrypt_secrets(self, transform: Callable[[str], str]) -> int:
        """Apply `transform` (decrypt with any key, encrypt with the first) to every stored secret, in
        one transaction: all are re-encrypted, or none (any exception rolls back). Returns how many."""
        count = 0
        with self._writing("re-encrypt the stored secrets") as connection:
            tokens = connection.execute(select(oauth_tokens)).mappings().all()
            for row in tokens:
                refresh = row["refresh_token_encrypted"]
                connection.execute(
                    update(oauth_tokens)
                    .where(oauth_tokens.c.email == row["email"])
                    .values(
                        access_token_encrypted=transform(row["access_token_encrypted"]),
                        refresh_token_encrypted=transform(refresh) if refresh else None,
                    )
                )
                count += 1 + bool(refresh)
            for row in connection.execute(select(pending_authorizations)).mappings().all():
                connection.execute(
                    update(pending_authorizations)
                    .where(pending_authorizations.c.state == row["state"])
                    .values(verifier_encrypted=transform(row["verifier_encrypted"]))
                )
                count += 1
            for row in connection.execute(select(key_checks)).mappings().all():
                connection.execute(
                    update(key_checks)
                    .where(key_checks.c.name == row["name"])
                    .values(value=transform(row["value"]))
                )
        return count

    # -- the durable inbox and the reply outbox (issue 7) ----------------------------------------
    #
    # Every entry is written claimed by the process that wrote it (`owner`, `claimed_at`). Another
    # process takes one over only through `claim_*`, an UPDATE that matches the `claims` count it
    # read: of two processes taking the same entry, exactly one wins. Which entries are worth taking
    # (older than a grace period, not one's own) is the caller's policy.

    def record_inbound(self, record: InboundRecord) -> int | None:
        """Add a delivery to the inbox, pending and claimed by `record.owner`: its id, or None when
        that delivery (channel, workspace, subject, delivery id) is there already (a retry)."""
        return self.record_inbounds([record])[0]

    def record_inbounds(self, records: Sequence[InboundRecord]) -> list[int | None]:
        """`record_inbound` for several deliveries in one transaction, their ids in the same order
        (None for each already there, a later copy in `records` included). A burst of deliveries
        arriving together is then one commit instead of one each. All or nothing: a StorageError
        means none was recorded."""
        now = self._now()
        params = [
            {
                "i_channel": record.channel,
                "i_workspace": record.workspace,
                "i_subject": record.subject,
                "i_delivery_id": record.delivery_id,
                "i_payload": _dump_json(record.payload, _PAYLOAD_NOT_JSON),
                "i_status": "pending",
                "i_owner": record.owner,
                "i_claims": 1,
                "i_received_at": now,
                "i_claimed_at": now,
            }
            for record in records
        ]
        if not params:
            return []
        with self._writing("record the delivery") as connection:
            rows = [connection.execute(self._record_inbound, one).first() for one in params]
        return [None if row is None else int(row[0]) for row in rows]

    def load_inbound(self, inbound_id: int) -> InboundRecord | None:
        with self._reading("load the delivery") as connection:
            row = (
                connection.execute(select(delivery_inbox).where(delivery_inbox.c.id == inbound_id))
                .mappings()
                .first()
            )
        return None if row is None else _to_inbound(row)

    def finish_inbound(self, inbound_id: int) -> None:
        """The delivery was answered, or definitively failed: its entry is done (idempotent)."""
        with self._writing("finish the delivery") as connection:
            connection.execute(_FINISH_INBOUND, {"k_id": inbound_id, "v_at": self._now()})

    def mark_posted(
        self, *, key: ConversationKey, delivery_id: str, owner: str, inbound_id: int | None = None
    ) -> None:
        """The replies `owner` stored for `delivery_id` in conversation `key` reached the user; with
        `inbound_id`, that delivery's inbox entry is done as well. One transaction."""
        key = ConversationKey(*key)
        now = self._now()
        with self._writing("mark the replies posted") as connection:
            connection.execute(
                _MARK_POSTED,
                {**_key_params(key), "k_delivery_id": delivery_id, "k_owner": owner, "v_at": now},
            )
            if inbound_id is not None:
                connection.execute(_FINISH_INBOUND, {"k_id": inbound_id, "v_at": now})

    def mark_outbound_posted(self, outbound_id: int) -> None:
        """These stored replies reached the user, or never will (idempotent)."""
        statement = (
            update(reply_outbox)
            .where(reply_outbox.c.id == outbound_id, reply_outbox.c.status == "pending")
            .values(status="posted", posted_at=self._now())
        )
        with self._writing("mark the replies posted") as connection:
            connection.execute(statement)

    def pending_inbound(
        self,
        *,
        channel: str,
        exclude_owner: str | None = None,
        claimed_before: datetime | None = None,
        limit: int = 500,
    ) -> list[InboundRecord]:
        """Pending inbox entries of `channel`, oldest first: not held by `exclude_owner`, and claimed
        before `claimed_before` when given."""
        return self._pending(
            delivery_inbox,
            _to_inbound,
            "load pending deliveries",
            channel=channel,
            exclude_owner=exclude_owner,
            claimed_before=claimed_before,
            limit=limit,
        )

    def pending_outbound(
        self,
        *,
        channel: str,
        exclude_owner: str | None = None,
        claimed_before: datetime | None = None,
        limit: int = 500,
    ) -> list[OutboundRecord]:
        """Stored replies of `channel` not posted yet, oldest first; the filters of `pending_inbound`."""
        return self._pending(
            reply_outbox,
            _to_outbound,
            "load pending replies",
            channel=channel,
            exclude_owner=exclude_owner,
            claimed_before=claimed_before,
            limit=limit,
        )

    def _pending(
        self,
        table: Table,
        convert: Callable[[RowMapping], _Delivery],
        what: str,
        *,
        channel: str,
        exclude_owner: str | None,
        claimed_before: datetime | None,
        limit: int,
    ) -> list[_Delivery]:
        """The query both `pending_*` share: pending rows of `table` in `channel`, oldest first."""
        conditions: list[ColumnElement[bool]] = [table.c.status == "pending", table.c.channel == channel]
        if exclude_owner is not None:
            conditions.append(table.c.owner != exclude_owner)
        if claimed_before is not None:
            conditions.append(table.c.claimed_at < utc(claimed_before))
        statement = select(table).where(and_(*conditions)).order_by(table.c.id).limit(limit)
        with self._reading(what) as connection:
            return [convert(row) for row in connection.execute(statement).mappings()]

    def claim_inbound(self, record: InboundRecord, *, owner: str) -> InboundRecord | None:
        """Take a pending inbox entry over for `owner`, if nobody did since `record` was read (its
        `claims`); the entry as claimed, or None when another process won it or it is done."""
        return self._claim(delivery_inbox, record, owner, "claim the delivery", "a stored inbox entry")

    def claim_outbound(self, record: OutboundRecord, *, owner: str) -> OutboundRecord | None:
        """Take stored replies over for `owner`, as `claim_inbound` does an inbox entry."""
        return self._claim(reply_outbox, record, owner, "claim the replies", "stored replies")

    def _claim(self, table: Table, record: _Delivery, owner: str, what: str, stored: str) -> _Delivery | None:
        """The optimistic take-over both tables share: the row moves to `owner` only while it is
        pending and still has the `claims` count `record` was read with. `record` as claimed, or
        None if it lost. `stored` names what may be claimed, for the error on an unstored record."""
        if record.id is None:
            raise ValueError(f"only {stored} can be claimed")
        now = self._now()
        statement = (
            update(table)
            .where(table.c.id == record.id, table.c.status == "pending", table.c.claims == record.claims)
            .values(owner=owner, claimed_at=now, claims=record.claims + 1)
        )
        with self._writing(what) as connection:
            if connection.execute(statement).rowcount != 1:
                return None
        return dataclasses.replace(record, owner=owner, claimed_at=now, claims=record.claims + 1)

    def purge_deliveries(self, *, before: datetime) -> int:
        """Delete the done inbox entries and the posted replies last claimed before `before` (a
        bounded table); pending ones are kept whatever their age. How many rows went."""
        cutoff = utc(before)
        with self._writing("purge old deliveries") as connection:
            inbox = connection.execute(
                delete(delivery_inbox).where(
                    delivery_inbox.c.status == "done", delivery_inbox.c.claimed_at < cutoff
                )
            )
            outbox = connection.execute(
                delete(reply_outbox).where(
                    reply_outbox.c.status == "posted", reply_outbox.c.claimed_at < cutoff
                )
            )
            return int(inbox.rowcount or 0) + int(outbox.rowcount or 0)

    # -- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close every pooled connection (on SQLite this also checkpoints the WAL when last out)."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
