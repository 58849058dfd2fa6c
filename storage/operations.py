"""What an operator's probes ask the database: is it reachable, is its schema at this code's head,
and how much work is waiting (the readiness check and the metrics of `bot/ops`). Read-only."""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from storage.migrate import head_revision
from storage.models import conversations, delivery_inbox, reply_outbox
from storage.records import StorageError, utc
from storage.store import Store


@functools.cache
def _head() -> str | None:
    return head_revision()


def ping(store: Store) -> None:
    """A round trip to the database; `StorageError` when it cannot be made."""
    with store._reading("reach the database") as connection:
        connection.execute(text("SELECT 1"))


def schema_at_head(store: Store) -> tuple[bool, str | None, str | None]:
    """Whether the database's schema is the newest this code ships: (at head, current, head)."""
    try:
        with store._engine.connect() as connection:
            # Alembic's own table, read directly: its MigrationContext logs at every probe.
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as error:
        raise StorageError("could not read the schema revision") from error
    head = _head()
    return current == head, current, head


def pending_depths(store: Store) -> dict[str, tuple[int, int]]:
    """Per channel: (inbox entries pending, stored replies not posted)."""
    depths: dict[str, list[int]] = {}
    with store._reading("count the pending deliveries") as connection:
        for index, table in enumerate((delivery_inbox, reply_outbox)):
            statement = (
                select(table.c.channel, func.count())
                .where(table.c.status == "pending")
                .group_by(table.c.channel)
            )
            for channel, count in connection.execute(statement):
                depths.setdefault(str(channel), [0, 0])[index] = int(count)
    return {channel: (counts[0], counts[1]) for channel, counts in depths.items()}


def live_conversations(store: Store, *, since: datetime) -> int:
    """Conversations that had a turn since `since`."""
    statement = (
        select(func.count()).select_from(conversations).where(conversations.c.updated_at >= utc(since))
    )
    with store._reading("count the live conversations") as connection:
        return int(connection.execute(statement).scalar_one())
