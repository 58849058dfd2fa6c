"""Engine construction: one place that knows the per-backend connection settings.

SQLite (the default) is tuned for a single small deployment where a few bot processes share one
file:

* WAL, so readers never block the writer and the writer never blocks readers;
* `busy_timeout` 5 s, so a process that finds the file locked waits instead of failing at once;
* `synchronous=NORMAL`, which in WAL mode is crash-safe for the database (a power cut can lose the
  last commits, never corrupt the file) and makes a commit cost microseconds instead of an fsync;
* `foreign_keys=ON`, which SQLite otherwise leaves off per connection;
* write transactions start with `BEGIN IMMEDIATE`, taking the write lock up front. With the
  driver's default deferred `BEGIN`, two processes that both read and then write the same
  conversation can deadlock on the lock upgrade and one gets `SQLITE_BUSY` immediately, which
  busy_timeout cannot help; with IMMEDIATE the second simply waits its turn and then sees the
  first one's version.

pysqlite issues its own `BEGIN` behind SQLAlchemy's back, so we switch that off
(`isolation_level = None`) and emit the `BEGIN` ourselves from the engine's "begin" event — the
recipe documented in SQLAlchemy's SQLite dialect notes ("Serializable isolation / Savepoints /
Transactional DDL").

PostgreSQL needs nothing special; its driver is imported by SQLAlchemy only when a postgres URL is
used, so SQLite deployments do not need psycopg installed.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any, Final

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from storage.files import create_private, warn_if_shared

SQLITE_BUSY_TIMEOUT_MS: Final = 5000

WRITE_OPTION: Final = "loginbot_write"
"""Execution option marking a connection that will write: on SQLite it begins `BEGIN IMMEDIATE`."""


def normalize_url(url: str | URL) -> URL:
    """Parse `url`, mapping bare `postgres://` / `postgresql://` to the psycopg (3) driver.

    SQLAlchemy would otherwise pick psycopg2 for a bare postgres URL, and the project installs
    psycopg 3 (`psycopg[binary]`) when it runs on PostgreSQL.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite_memory(url: URL) -> bool:
    """True for an in-memory SQLite URL, which must share one connection to share one database."""
    database = url.database or ""
    return database in ("", ":memory:") or url.query.get("mode") == "memory"


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create the engine for `url` with this project's connection settings applied."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _make_sqlite_engine(parsed, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)  # survive server restarts and idle-connection reaping
    return create_engine(parsed, **kwargs)


def _make_sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
    # The engine is shared between the bot's threads; the pool hands a connection to one at a time.
    connect_args.setdefault("check_same_thread", False)
    if is_sqlite_memory(url):
        kwargs.setdefault("poolclass", StaticPool)
    elif url.database:
        # `sqlite:///.loginbot/loginbot.db` on a fresh checkout: create the folder, not just the file.
        database = Path(url.database).expanduser()
        database.parent.mkdir(parents=True, exist_ok=True)
        # Private from the start: SQLite gives its -wal and -shm files the database file's mode.
        create_private(database)
        for companion in ("-wal", "-shm"):
            warn_if_shared(database.with_name(database.name + companion))
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    memory = is_sqlite_memory(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see the module docstring
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                _enable_wal(cursor)
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _enable_wal(cursor: Any) -> None:
    """`PRAGMA journal_mode=WAL`, tried again for up to the busy timeout: while another connection
    creates the database or switches it to WAL (concurrent start-ups), SQLite answers "database is
    locked" at once, without waiting on the busy handler."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def writer(engine: Engine) -> Engine:
    """A view of `engine` (same pool) whose transactions are write transactions."""
    return engine.execution_options(**{WRITE_OPTION: True})
