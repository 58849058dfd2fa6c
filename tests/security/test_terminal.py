"""The terminal channel's identity and input (findings of the security review, each a test):

* the proof of an email is keyed by the operating-system account, not by `$USER`;
* an email line that is not one valid address (bytes that are not UTF-8, a NUL after it) is refused
  and creates no conversation;
* with two windows on one conversation, a confirmation applies only to the summary that window
  showed, and the window is told what happened meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.channels.terminal.identity import prove_email, terminal_subject
from bot.flow.catalog import Catalog
from bot.identity import EmailVerifier, IdentitySettings, OutboxMailer
from storage import Store
from tests.channels.processes import Process, clean_environment

from .support import AVA

TIMEOUT = 120
CATALOG = Catalog.default()


def test_the_proof_is_keyed_by_the_account_id_not_by_environment_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "someone-else")
    monkeypatch.setenv("LOGNAME", "someone-else")
    as_someone_else = terminal_subject()
    monkeypatch.setenv("USER", "victim")
    monkeypatch.setenv("LOGNAME", "victim")
    monkeypatch.delenv("LNAME", raising=False)
    assert terminal_subject() == as_someone_else
    assert str(os.geteuid()) in as_someone_else
    assert "victim" not in as_someone_else


def test_a_proof_made_under_another_user_name_is_not_borrowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: the victim proved their email from this host; the attacker sets USER=victim."""
    store = Store.from_url(f"sqlite:///{tmp_path / 'loginbot.db'}")
    verifier = EmailVerifier(store, OutboxMailer(tmp_path / "outbox.txt"), IdentitySettings())
    from bot.identity import verification

    store.bind_identity(verification.IdentityBindingRecord("terminal", "victim@" + os.uname().nodename, AVA))
    monkeypatch.setenv("USER", "victim")
    monkeypatch.setenv("LOGNAME", "victim")
    said: list[str] = []

    async def no_code() -> str | None:
        return None

    assert not asyncio.run(prove_email(verifier, AVA, "en", ask=no_code, say=said.append))
    assert said == [verifier.text("en", "identity.code_sent", email=AVA, minutes=10)]
    store.close()


def _chat(directory: Path, data: bytes) -> subprocess.CompletedProcess[bytes]:
    env = clean_environment(
        LOGINBOT_DATABASE_URL=f"sqlite:///{directory / 'x.db'}",
        LOGINBOT_SIMULATOR_STATE=str(directory / "sim.json"),
        LC_ALL="C.UTF-8",
    )
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"],
        input=data,
        cwd=directory,
        env=env,
        capture_output=True,
        timeout=TIMEOUT,
    )


@pytest.mark.parametrize(
    "line", [b"ava.lead@example.com\xff", b"ava.lead@example.com\x00", b"ava\x01@example.com"]
)
def test_an_email_line_that_is_not_a_valid_address_is_refused(tmp_path: Path, line: bytes) -> None:
    result = _chat(tmp_path, line + b"\nhello\n1\n")
    out = result.stdout.decode("utf-8")
    assert result.returncode == 2, out
    assert "not an email address" in out
    assert CATALOG.text("en", "error.internal") not in out
    assert "Traceback" not in result.stderr.decode("utf-8", "replace")
    with sqlite3.connect(tmp_path / "x.db") as database:
        assert database.execute("SELECT count(*) FROM conversations").fetchone() == (0,)


def test_the_same_address_with_a_nul_is_not_a_second_conversation(tmp_path: Path) -> None:
    good = _chat(tmp_path, b"ava.lead@example.com\n")
    assert good.returncode == 0
    _chat(tmp_path, b"ava.lead@example.com\x00\n")
    with sqlite3.connect(tmp_path / "x.db") as database:
        users = [row[0] for row in database.execute("SELECT user_id FROM conversations")]
    assert users == [AVA]


# -- two windows ------------------------------------------------------------------------------------

# Sign in, Supervisor and Agent, Dial number, +12125550102, Billing, no auto-login: the summary.
TO_SUMMARY = ["1", "2", "3", "2", "Billing", "2"]


def _other_window(said: str) -> str:
    from bot.channels.terminal.window import terminal_catalog

    return terminal_catalog().text("en", "other_window", said=said)


def _window(directory: Path) -> Process:
    env = clean_environment(
        LOGINBOT_DATABASE_URL=f"sqlite:///{directory / 'x.db'}",
        LOGINBOT_SIMULATOR_STATE=str(directory / "sim.json"),
    )
    return Process(["chat", "--user", AVA], env=env, cwd=directory)


def test_a_confirmation_applies_only_to_the_summary_that_window_showed(tmp_path: Path) -> None:
    with _window(tmp_path) as first, _window(tmp_path) as second:
        first.read_turn()
        second.read_turn()
        for line in TO_SUMMARY:
            first.send(line)
            shown = first.read_turn()
        assert any("Team: Billing" in line for line in shown), shown
        # The second window is told the conversation moved on, and shown the same summary.
        second.send("hello")
        moved = second.read_turn()
        assert moved[0] == _other_window("hello")
        assert any("Team: Billing" in line for line in moved), moved
        # It changes the team: its own summary now says Sales EMEA.
        for line in ("2", "4", "Sales EMEA"):
            second.send(line)
            changed = second.read_turn()
        assert any("Team: Sales EMEA" in line for line in changed), changed
        # "Save and continue" in the first window, which showed Billing, is not applied to Sales EMEA.
        first.send("1")
        refused = first.read_turn()
        assert refused[0] == _other_window("1")
        assert any("Team: Sales EMEA" in line for line in refused), refused
        assert not any("signed in" in line.casefold() for line in refused), refused
        # Now that it has shown this summary, the first window may confirm it.
        first.send("1")
        confirmed = first.read_turn()
        assert any("Sales EMEA" in line or "signed in" in line.casefold() for line in confirmed), confirmed
