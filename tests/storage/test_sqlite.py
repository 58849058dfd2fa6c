"""SQLite specifics: connection settings, write locking, in-memory use, real multi-process access."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from storage import ConversationKey, StorageError, Store
from storage.engine import SQLITE_BUSY_TIMEOUT_MS
from tests.storage import _workers
from tests.storage.conftest import Backend

KEY = ConversationKey("webex:room-1", "org-1", "user-a")
REPO_ROOT = Path(__file__).resolve().parents[2]


def _db_path(backend: Backend) -> str:
    return backend.url.removeprefix("sqlite:///")


def test_file_database_is_in_wal_mode(sqlite_backend: Backend) -> None:
    sqlite_backend.open()
    with sqlite3.connect(_db_path(sqlite_backend)) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_every_connection_gets_the_pragmas(sqlite_backend: Backend) -> None:
    store = sqlite_backend.open()
    with store._engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS == 5000
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert pragma("PRAGMA journal_mode").scalar() == "wal"


def test_writes_begin_immediate_and_reads_do_not(sqlite_backend: Backend) -> None:
    store = sqlite_backend.open()
    statements: list[str] = []

    @event.listens_for(store._engine, "before_cursor_execute")
    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.strip().split()[0] + (" IMMEDIATE" if "IMMEDIATE" in statement else ""))

    store.commit_turn(key=KEY, state={}, step=None, language=None, expected_version=None)
    assert statements[0] == "BEGIN IMMEDIATE"
    statements.clear()
    store.load_conversation(KEY)
    assert statements[0] == "BEGIN"


def test_a_locked_database_is_waited_for_not_failed(sqlite_backend: Backend) -> None:
    """Another process holding the write lock delays a turn (busy_timeout) instead of failing it."""
    store = sqlite_backend.open()
    version = store.commit_turn(key=KEY, state={"n": 0}, step=None, language=None, expected_version=None)
    other = sqlite3.connect(_db_path(sqlite_backend), isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, other.execute, args=("COMMIT",)).start()

    started = time.perf_counter()
    store.commit_turn(key=KEY, state={"n": 1}, step=None, language=None, expected_version=version)
    assert time.perf_counter() - started >= 0.25
    other.close()


def test_readers_are_not_blocked_by_a_writer(sqlite_backend: Backend) -> None:
    store = sqlite_backend.open()
    store.commit_turn(key=KEY, state={"n": 0}, step=None, language=None, expected_version=None)
    other = sqlite3.connect(_db_path(sqlite_backend), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE conversations SET state = '{\"n\": 99}', version = 2")
        started = time.perf_counter()
        loaded = store.load_conversation(KEY)
        assert time.perf_counter() - started < 1.0
        assert loaded is not None and loaded.state == {"n": 0}  # the uncommitted write is invisible
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_in_memory_database_works() -> None:
    with Store.from_url("sqlite:///:memory:") as store:
        version = store.commit_turn(key=KEY, state={"n": 0}, step=None, language=None, expected_version=None)
        store.commit_turn(key=KEY, state={"n": 1}, step=None, language=None, expected_version=version)
        loaded = store.load_conversation(KEY)
        assert loaded is not None and loaded.state == {"n": 1}
        with store._engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_missing_parent_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / ".loginbot" / "nested" / "loginbot.db"
    with Store.from_url(f"sqlite:///{path}") as store:
        store.commit_turn(key=KEY, state={}, step=None, language=None, expected_version=None)
    assert path.is_file()


def test_an_unusable_database_raises_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as failure:
        Store.from_url(f"sqlite:///{tmp_path}")  # a directory, not a database file
    assert failure.value.__cause__ is not None
    not_a_db = tmp_path / "garbage.db"
    not_a_db.write_bytes(b"this is not an SQLite file" * 100)
    with pytest.raises(StorageError):
        Store.from_url(f"sqlite:///{not_a_db}")


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=60
    )


def test_sqlite_never_imports_a_postgres_driver(tmp_path: Path) -> None:
    result = _run_python(
        "import sys\n"
        "from storage import Store, ConversationKey\n"
        f"s = Store.from_url('sqlite:///{tmp_path}/x.db')\n"
        "s.commit_turn(key=ConversationKey('c', 'w', 'u'), state={}, step=None, language=None,"
        " expected_version=None)\n"
        "s.close()\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'psycopg', 'psycopg2', 'asyncpg'})\n"
        "assert not loaded, loaded\n"
    )
    assert result.returncode == 0, result.stderr


def test_postgres_without_its_driver_is_a_clear_storage_error() -> None:
    result = _run_python(
        "import sys\n"
        "sys.modules['psycopg'] = None  # as if psycopg were not installed\n"
        "from storage import Store, StorageError\n"
        "try:\n"
        "    Store.from_url('postgresql://user@localhost:1/db')\n"
        "except StorageError as exc:\n"
        "    assert 'psycopg' in str(exc), exc\n"
        "    assert isinstance(exc.__cause__, ImportError)\n"
        "else:\n"
        "    raise SystemExit('no StorageError')\n"
    )
    assert result.returncode == 0, result.stderr


def test_two_processes_increment_one_conversation_without_losing_updates(sqlite_backend: Backend) -> None:
    """Real OS processes (not threads) writing one conversation serialize and retry cleanly."""
    seed = sqlite_backend.open()
    seed.commit_turn(key=KEY, state={"n": 0}, step=None, language=None, expected_version=None)
    processes, increments = 2, 40
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        conflicts = pool.starmap(
            _workers.increment, [(sqlite_backend.url, tuple(KEY), increments)] * processes
        )

    final = seed.load_conversation(KEY)
    assert final is not None
    assert final.state == {"n": processes * increments}
    assert final.version == 1 + processes * increments
    assert all(count >= 0 for count in conflicts)
