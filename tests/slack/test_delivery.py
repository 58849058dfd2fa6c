"""The inbox's group commit: deliveries acknowledged together are recorded in one transaction."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from bot.channels.slack.delivery import Deliveries, Destination, Inbound
from bot.flow.engine import UserMessage
from storage import StorageError, Store


def dm(n: int, *, user: str = "U1", delivery_id: str | None = "") -> Inbound:
    message = UserMessage(text=f"message {n}", delivery_id=f"Ev{n}" if delivery_id == "" else delivery_id)
    return Inbound(team_id="T1", user_id=user, message=message, destination=Destination(channel="D1"))


@pytest.fixture
def database(tmp_path: Path) -> str:
    return str(tmp_path / "inbox.db")


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    opened = Store.from_url(f"sqlite:///{database}")
    yield opened
    opened.close()


@pytest.fixture
def commits() -> Iterator[list[int]]:
    """Every transaction committed by any engine while the test runs."""
    seen: list[int] = []

    def committed(_: Connection) -> None:
        seen.append(1)

    event.listen(Engine, "commit", committed)
    yield seen
    event.remove(Engine, "commit", committed)


def test_deliveries_arriving_together_are_one_transaction(store: Store, commits: list[int]) -> None:
    deliveries = Deliveries(store, owner="proc-a")

    async def burst() -> list[int | None]:
        together = [deliveries.record(dm(n, user=f"U{n}")) for n in range(50)]
        return await asyncio.gather(*together, deliveries.record(dm(7, user="U7")))

    ids = asyncio.run(burst())
    assert len(commits) == 1
    assert None not in ids[:50] and len(set(ids[:50])) == 50
    assert ids[50] is None  # Slack's retry, in the same burst as the original
    pending = store.pending_inbound(channel="slack")
    assert [(e.id, e.subject, e.owner) for e in pending] == [(ids[n], f"U{n}", "proc-a") for n in range(50)]


def test_deliveries_apart_are_recorded_each_at_once(store: Store, commits: list[int]) -> None:
    deliveries = Deliveries(store, owner="proc-a")

    async def one_by_one() -> list[int | None]:
        return [await deliveries.record(dm(n)) for n in range(3)]

    ids = asyncio.run(one_by_one())
    assert len(commits) == 3 and None not in ids
    assert asyncio.run(deliveries.record(dm(9, delivery_id=None))) is None  # nothing to replay it by
    assert len(commits) == 3


def test_a_burst_the_database_refuses_fails_every_delivery_in_it_and_the_next_one_is_recorded(
    store: Store, database: str
) -> None:
    deliveries = Deliveries(store, owner="proc-a")
    with closing(sqlite3.connect(database, isolation_level=None)) as db:
        db.execute("ALTER TABLE delivery_inbox RENAME TO delivery_inbox_away")

    async def burst() -> list[int | BaseException | None]:
        return await asyncio.gather(*(deliveries.record(dm(n)) for n in range(5)), return_exceptions=True)

    outcomes = asyncio.run(burst())
    assert all(isinstance(o, StorageError) for o in outcomes), outcomes
    assert len({id(o) for o in outcomes}) == 5  # each request raises its own error
    with closing(sqlite3.connect(database, isolation_level=None)) as db:
        db.execute("ALTER TABLE delivery_inbox_away RENAME TO delivery_inbox")
    assert store.pending_inbound(channel="slack") == []
    entry = asyncio.run(deliveries.record(dm(1)))
    assert entry is not None
    assert [e.id for e in store.pending_inbound(channel="slack")] == [entry]
