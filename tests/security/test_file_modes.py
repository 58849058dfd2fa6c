"""Every file loginbot creates is private to its owner, whatever the umask (finding: the database and
the outbox were created 0644); an existing file others can read is named in a warning."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.backend.simulator.state_file import load_state, save_state
from bot.identity import OutboxMailer
from storage import ConversationKey, Store


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the usual default: files 0644 unless created otherwise
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_and_its_wal_and_shm_files_are_private(tmp_path: Path) -> None:
    database = tmp_path / "loginbot.db"
    store = Store.from_url(f"sqlite:///{database}")
    store.commit_turn(
        key=ConversationKey("terminal", "local", "ava.lead@example.com"),
        state={"step": None},
        step=None,
        language="en",
        expected_version=None,
    )
    created = [p for p in tmp_path.iterdir() if p.name.startswith("loginbot.db")]
    assert {p.name for p in created} >= {"loginbot.db", "loginbot.db-wal", "loginbot.db-shm"}
    for path in created:
        assert _mode(path) == 0o600, path
    store.close()


def test_the_outbox_is_private(tmp_path: Path) -> None:
    outbox = tmp_path / "loginbot-outbox.txt"
    message = EmailMessage()
    message["To"] = "ava.lead@example.com"
    message.set_content("Your code is 123456.")
    asyncio.run(OutboxMailer(outbox).send(message))
    assert _mode(outbox) == 0o600


def test_the_simulator_state_is_private(tmp_path: Path) -> None:
    state = tmp_path / "loginbot-simulator.json"
    save_state(state, [], [])
    assert _mode(state) == 0o600


def test_an_existing_file_others_can_read_is_named(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    database, outbox, state = tmp_path / "old.db", tmp_path / "old-outbox.txt", tmp_path / "old-sim.json"
    for path in (database, outbox, state):
        path.touch(mode=0o644)
        path.chmod(0o644)
    save_state(state, [], [])  # replaced atomically by a new, private file
    state.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        Store.from_url(f"sqlite:///{database}").close()
        message = EmailMessage()
        message.set_content("x")
        asyncio.run(OutboxMailer(outbox).send(message))
        load_state(state)
    for path in (database, outbox, state):
        named = [r.getMessage() for r in caplog.records if str(path) in r.getMessage()]
        assert any("chmod 600" in line for line in named), path
    assert _mode(database) == 0o644  # named, not changed behind the operator's back
