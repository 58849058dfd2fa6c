"""Fixtures: a `backend` (a fresh, empty database) per storage implementation, and a `store` on it.

SQLite always runs, on a temp file. PostgreSQL runs when `LOGINBOT_TEST_POSTGRES_URL` names a
server (e.g. `postgresql+psycopg://postgres@/postgres?host=/tmp&port=55432`); each test then gets
its own schema, selected through the connection's `search_path` and dropped afterwards, so tests
start from an empty database and can run in parallel.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from storage import Store
from tests.postgres import POSTGRES_URL_ENV, postgres_schema


@dataclass
class Backend:
    """An empty database of one kind; `open()` starts a `Store` on it (one "process")."""

    name: str
    url: str
    opened: list[Store] = field(default_factory=list)

    def open(self, *, clock: Callable[[], datetime] | None = None) -> Store:
        store = Store.from_url(self.url, clock=clock)
        self.opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self.opened:
            store.close()


class FakeClock:
    """A clock the test moves by hand, so stamped timestamps can be asserted exactly."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def _postgres_backend(base_url: str) -> Iterator[Backend]:
    with postgres_schema(base_url) as url:
        backend = Backend("postgresql", url)
        try:
            yield backend
        finally:
            backend.close_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[Backend]:
    if request.param == "sqlite":
        sqlite_backend = Backend("sqlite", f"sqlite:///{os.fspath(tmp_path)}/loginbot.db")
        yield sqlite_backend
        sqlite_backend.close_all()
        return
    base_url = os.environ.get(POSTGRES_URL_ENV)
    if not base_url:
        pytest.skip(f"PostgreSQL not configured: set {POSTGRES_URL_ENV} to run the contract on PostgreSQL")
    yield from _postgres_backend(base_url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(backend: Backend, clock: FakeClock) -> Store:
    return backend.open(clock=clock)


@pytest.fixture
def sqlite_backend(tmp_path: os.PathLike[str]) -> Iterator[Backend]:
    """A file SQLite backend only, for the SQLite-specific tests."""
    backend = Backend("sqlite", f"sqlite:///{os.fspath(tmp_path)}/loginbot.db")
    yield backend
    backend.close_all()
