"""`loginbot serve slack --workers 2` as a subprocess: gunicorn's arbiter and two uvicorn workers
behind one port, SQLite (WAL) shared by both, the contact center served over HTTP by the simulator,
the Slack Web API double. Users sign in at the same time with signed requests; a worker killed in
the middle is replaced and the server keeps serving; `/metrics` adds up both workers' counts
(prometheus-client's multiprocess mode); SIGTERM to the arbiter stops every process after the turns
in flight finished; a database that cannot be opened stops the server before any worker starts,
with `loginbot`'s configuration-error status."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path

import httpx

from tests.reliability.support import (
    APOLOGIES,
    PATH_TO_CONFIRM,
    ROOT,
    BotProcess,
    SlackClient,
    at_once,
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


READY = "loginbot worker ready (pid "


def ready_workers(log: str) -> list[int]:
    """The pids of the workers that said they serve, in order."""
    return [int(line.split(READY)[1].rstrip(")")) for line in log.splitlines() if READY in line]


def metric(text: str, name: str, **labels: str) -> float:
    """One sample's value in Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        series, value = line.rsplit(" ", 1)
        sample, _, rest = series.partition("{")
        if sample == name and ",".join(sorted(rest.rstrip("}").split(","))) == wanted:
            return float(value)
    return 0.0


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

        metrics_dir = tmp_path / "metrics"
        env = bot_env(
            database,
            double,
            LOGINBOT_LOG_LEVEL="INFO",
            PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
            **wxcc_env(server),
        )
        bot = BotProcess(env, tmp_path, args=("--workers", "2")).launch()
        try:
            wait_until(lambda: len(ready_workers(bot.log())) == 2, timeout=120, what="both workers")
            bot.wait_ready()
            assert bot.process is not None
            arbiter = bot.process.pid
            workers = children(arbiter)
            assert sorted(workers) == sorted(ready_workers(bot.log())), (workers, bot.log()[-3000:])

            half = USERS // 2
            sign_in_all(bot.url, double, emails[:half])

            # A worker dies (SIGKILL: an OOM kill, a crash): logged, replaced, the others still served.
            os.kill(workers[0], signal.SIGKILL)
            wait_until(lambda: f"Worker (pid:{workers[0]}) was sent SIGKILL" in bot.log(), what="the crash")
            wait_until(lambda: len(ready_workers(bot.log())) == 3, timeout=120, what="a replacement worker")
            replacement = ready_workers(bot.log())[-1]
            assert sorted(children(arbiter)) == sorted([workers[1], replacement])
            sign_in_all(bot.url, double, emails[half:])

            # Every worker's counts, whichever worker answers the scrape (the dead one's included).
            turns = USERS * (len(PATH_TO_CONFIRM) + 1)

            def scrape() -> str:
                return httpx.get(f"{bot.url}/metrics", timeout=10).text

            # An entry is done just after its replies reach Slack: the last ones may lag the client.
            wait_until(
                lambda: metric(scrape(), "loginbot_inbox_depth", channel="slack") == 0, what="0 pending"
            )
            for _ in range(4):  # new connections: the scrape lands on either worker
                scraped = scrape()
                assert metric(scraped, "loginbot_turn_seconds_count", channel="slack") == turns, scraped
                assert metric(scraped, "loginbot_signins_total", outcome="success", reason="") == USERS
                assert metric(scraped, "loginbot_ack_seconds_count") == turns
                assert metric(scraped, "loginbot_inbox_depth", channel="slack") == 0
            # Both workers (and the replacement) really served: each wrote inbox entries as its owner.
            owners = inbox_owners(database)
            assert {workers[0], workers[1], replacement} <= owners, (owners, workers, replacement)

            # SIGTERM to the arbiter alone: it stops the workers and exits cleanly.
            os.kill(arbiter, signal.SIGTERM)
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
    errors = [line for line in log.splitlines() if "ERROR" in line and "was sent SIGKILL" not in line]
    assert errors == [], errors


def inbox_owners(database: str) -> set[int]:
    """The pids that recorded inbox entries (an owner is `host/pid/nonce`)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(database)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sqlalchemy.text("SELECT DISTINCT owner FROM delivery_inbox")).scalars()
            return {int(owner.split("/")[1]) for owner in rows}
    finally:
        engine.dispose()


def test_a_worker_that_cannot_start_stops_the_server(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    double = SlackDouble()
    with double.running():
        env = bot_env(f"sqlite:///{tmp_path / 'a-file' / 'loginbot.db'}", double)
        command = [sys.executable, "-m", "bot.cli", "serve", "slack", "--port", "0", "--workers", "2"]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "LOGINBOT_DATABASE_URL" in done.stderr
    assert "Booting worker" not in done.stderr  # found before any worker started


def test_sigterm_lets_the_acknowledged_sign_ins_finish(tmp_path: Path) -> None:
    """SIGTERM while every user's "Save and continue" is acknowledged and its sign-in is on the wire
    (the contact center answers slowly): the workers stop taking connections, finish those turns and
    post their outcomes, then exit; nothing is left pending for a recovery."""
    from bot.backend.simulator.faults import Faults
    from tests.reliability.support import wxcc_env

    users = 6
    emails = load_emails(users)
    tenant = tmp_path / "tenant.yml"
    write_tenant(tenant, users)
    double = SlackDouble()
    for email in emails:
        double.add_user(email, "en-US")
    database = f"sqlite:///{tmp_path / 'slack.db'}"
    with double.running(), served_simulator(tenant) as server:
        authorize_all(server, database, emails)
        env = bot_env(database, double, LOGINBOT_LOG_LEVEL="INFO", **wxcc_env(server))
        bot = BotProcess(env, tmp_path, args=("--workers", "2")).launch()
        try:
            wait_until(lambda: len(ready_workers(bot.log())) == 2, timeout=120, what="both workers")
            bot.wait_ready()
            clients = {email: SlackClient(double, bot.url) for email in emails}
            for email, client in clients.items():
                for how, value, step in PATH_TO_CONFIRM:
                    assert client.turn(email, how, value)[-1] == f"ask.{step}"
            server.faults = Faults(latency_ms=2500)  # every contact-center answer takes 2.5 s
            mark = double.mark()
            clicks = [partial(client.click, email, "confirm:yes") for email, client in clients.items()]
            assert [answer.status_code for answer in at_once(*clicks)] == [200] * users
            assert bot.process is not None
            os.kill(bot.process.pid, signal.SIGTERM)  # the sign-ins are in flight
            assert bot.process.wait(timeout=60) == 0, bot.log()[-4000:]
            for client in clients.values():
                client.close()
        finally:
            bot.stop()
        for email in emails:
            said = keys_of(dm_posts(double, email, mark))
            assert "outcome.login_success" in said, (email, said, bot.log()[-3000:])
            assert len(station_logins(server.core.events(email), email)) == 1, email
    assert pending_inbox(database) == 0
    assert "still running" not in bot.log()


def pending_inbox(database: str) -> int:
    import sqlalchemy

    engine = sqlalchemy.create_engine(database)
    try:
        with engine.connect() as connection:
            query = "SELECT COUNT(*) FROM delivery_inbox WHERE status = 'pending'"
            return int(connection.execute(sqlalchemy.text(query)).scalar_one())
    finally:
        engine.dispose()
