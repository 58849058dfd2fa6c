"""`loginbot serve slack --workers 2` as a subprocess: two worker processes behind one port, SQLite
(WAL) shared by both, the contact center served over HTTP by the simulator, the Slack Web API double.
Users sign in at the same time with signed requests; a worker killed in the middle is replaced and
the server keeps serving; SIGTERM to the supervisor stops every process; a worker that cannot start
(a database it cannot open) stops the server with `loginbot`'s configuration-error status."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path

from tests.reliability.support import (
    APOLOGIES,
    PATH_TO_CONFIRM,
    ROOT,
    BotProcess,
    SlackClient,
    authorize_all,
    bot_env,
    dm_posts,
    keys_of,
    load_emails,
    run_threads,
    served_simulator,
    station_logins,
    wait_until,
    write_tenant,
)
from tests.slack.double import SlackDouble

USERS = 12


def children(pid: int) -> list[int]:
    """The living child processes of `pid` (its workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return sorted(found)


def sign_in(client: SlackClient, email: str) -> None:
    for how, value, step in PATH_TO_CONFIRM:
        said = client.turn(email, how, value)
        assert said[-1] == f"ask.{step}", (email, value, said)
    said = client.turn(email, "click", "confirm:yes")
    assert "outcome.login_success" in said, (email, said)


def sign_in_all(url: str, double: SlackDouble, emails: list[str]) -> None:
    def one(email: str) -> None:
        client = SlackClient(double, url)  # a connection of its own: the kernel spreads them over workers
        try:
            sign_in(client, email)
        finally:
            client.close()

    assert run_threads([partial(one, email) for email in emails]) == []


def test_two_workers_sign_everyone_in_once_and_survive_a_worker_crash(tmp_path: Path) -> None:
    if not Path("/proc").is_dir():
        import pytest

        pytest.skip("reads the worker processes from /proc")
    emails = load_emails(USERS)
    tenant = tmp_path / "tenant.yml"
    write_tenant(tenant, USERS)
    double = SlackDouble()
    for email in emails:
        double.add_user(email, "en-US")
    database = f"sqlite:///{tmp_path / 'slack.db'}"
    with double.running(), served_simulator(tenant) as server:
        authorize_all(server, database, emails)
        from tests.reliability.support import wxcc_env

        env = bot_env(database, double, LOGINBOT_LOG_LEVEL="INFO", **wxcc_env(server))
        bot = BotProcess(env, tmp_path, args=("--workers", "2")).launch()
        try:
            wait_until(lambda: "2 workers ready" in bot.log(), timeout=90, what="both workers")
            bot.wait_ready()
            assert bot.process is not None
            supervisor = bot.process.pid
            workers = children(supervisor)
            assert len(workers) == 2, workers

            half = USERS // 2
            sign_in_all(bot.url, double, emails[:half])

            # A worker dies (SIGKILL: an OOM kill, a crash): logged, replaced, the others still served.
            os.kill(workers[0], signal.SIGKILL)
            wait_until(lambda: "while serving: starting another" in bot.log(), what="the crash logged")
            wait_until(
                lambda: len(children(supervisor)) == 2 and workers[0] not in children(supervisor),
                what="a replacement worker",
            )
            replacement = next(pid for pid in children(supervisor) if pid != workers[1])
            wait_until(lambda: f"ready (pid {replacement})" in bot.log(), timeout=90, what="it ready")
            sign_in_all(bot.url, double, emails[half:])

            # SIGTERM to the supervisor alone: it stops the workers and exits cleanly.
            os.kill(supervisor, signal.SIGTERM)
            assert bot.process.wait(timeout=60) == 0, bot.log()[-4000:]
            serving = [pid for pid in (workers[1], replacement) if Path(f"/proc/{pid}").exists()]
            assert serving == [], serving
        finally:
            bot.stop()

        for email in emails:
            said = keys_of(dm_posts(double, email))
            assert said.count("outcome.login_success") == 1, (email, said)
            assert not APOLOGIES & set(said), (email, said)
            assert len(station_logins(server.core.events(email), email)) == 1, email
    log = bot.log()
    assert "database is locked" not in log, log[-4000:]
    assert "Traceback" not in log, log[-4000:]
    errors = [line for line in log.splitlines() if "ERROR" in line and "killed by signal 9" not in line]
    assert errors == [], errors


def test_a_worker_that_cannot_start_stops_the_server(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    double = SlackDouble()
    with double.running():
        env = bot_env(f"sqlite:///{tmp_path / 'a-file' / 'loginbot.db'}", double)
        command = [sys.executable, "-m", "bot.cli", "serve", "slack", "--port", "0", "--workers", "2"]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "LOGINBOT_DATABASE_URL" in done.stderr
    assert "before it was ready: stopping" in done.stderr
