"""Two hosts, one database: two `loginbot serve slack` servers, each in a network namespace of its
own, on one PostgreSQL at a third address, behind nginx (Debian's package) balancing Slack's
deliveries over both. The contact center (the simulator over HTTP) and the Slack Web API double
live on the front network with nginx and the test, which plays Slack: it retries a delivery that
was not acknowledged, as Slack does, and users click again when a click went unanswered.

Mid-storm one host is killed with SIGKILL while it holds acknowledged deliveries: every user ends
signed in (or told why), nobody is signed in twice, every acknowledged delivery is answered, and
the survivor takes the dead host's pending entries over.

Skipped, saying why, where namespaces cannot be made (not root, no iproute2, a sandbox refusing
`ip netns add`) or where nginx or PostgreSQL's binaries are missing (`.ci/run` installs them).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
import sqlalchemy

from bot.backend.simulator import SimulatorCore, load_tenant
from bot.backend.simulator.faults import Faults
from bot.backend.simulator.server import SimulatorServer
from bot.flow.state import FlowState
from storage import Store
from tests.reliability.support import (
    APOLOGIES,
    PATH_TO_CONFIRM,
    ROOT,
    SlackClient,
    authorize_all,
    bot_env,
    dm_posts,
    keys_of,
    load_emails,
    run_threads,
    slack_key,
    station_logins,
    wait_until,
    write_tenant,
    wxcc_env,
)
from tests.slack.double import SlackDouble

from .netns import Network, network, run_in, unavailable

USERS = 12
SLACK_PORT = 3000
LB_PORT = 8080
PG_PORT = 5432


def _missing() -> str | None:
    if not sys.platform.startswith("linux"):
        return "network namespaces are Linux's"
    reason = unavailable()
    if reason:
        return reason
    if shutil.which("nginx") is None:
        return "nginx is not installed (apt-get install nginx)"
    if not glob.glob("/usr/lib/postgresql/*/bin/postgres"):
        return "PostgreSQL's server binaries are not installed (apt-get install postgresql)"
    with contextlib.suppress(KeyError):
        import pwd

        pwd.getpwnam("postgres")
        return None
    return "no postgres user to run PostgreSQL as"


pytestmark = pytest.mark.skipif(bool(reason := _missing()), reason=reason or "")


# --- the third host: PostgreSQL ---------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_on(net: Network, host: str) -> Iterator[str]:
    """A throw-away PostgreSQL listening on `host`'s address; its URL."""
    bindir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))[-1]).parent
    directory = Path(tempfile.mkdtemp(prefix="loginbot-hosts-pg-"))
    shutil.chown(directory, "postgres")
    as_postgres = ["runuser", "-u", "postgres", "--"]
    data = directory / "data"
    subprocess.run(
        [*as_postgres, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"],
        check=True,
        capture_output=True,
    )
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write(f"host all all {net.address('front').rsplit('.', 1)[0]}.0/24 trust\n")
    log = (directory / "postgres.log").open("wb")
    server = subprocess.Popen(
        net.command(
            host,
            *as_postgres,
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(PG_PORT),
            "-c",
            f"listen_addresses={net.address(host)}",
            "-c",
            f"unix_socket_directories={directory}",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"postgresql+psycopg://postgres@{net.address(host)}:{PG_PORT}/postgres"
    try:

        def accepting() -> bool:
            assert server.poll() is None, (directory / "postgres.log").read_text()
            engine = sqlalchemy.create_engine(url)
            try:
                with engine.connect():
                    return True
            except sqlalchemy.exc.OperationalError:
                return False
            finally:
                engine.dispose()

        wait_until(accepting, timeout=60, what="PostgreSQL")
        yield url
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(15)
        if server.poll() is None:
            server.kill()
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


# --- the front: nginx balancing over the two hosts --------------------------------------------------------


@contextlib.contextmanager
def nginx_in_front(net: Network, backends: list[str], directory: Path) -> Iterator[str]:
    """nginx on the front address, passing `/` to the hosts; its URL. Run from inside the front
    namespace (the process inherits it)."""
    (directory / "tmp").mkdir(parents=True, exist_ok=True)
    upstreams = "\n".join(f"    server {b}:{SLACK_PORT} max_fails=1 fail_timeout=60s;" for b in backends)
    temp = " ".join(
        f"{kind}_temp_path {directory / 'tmp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (directory / "nginx.conf").write_text(
        f"""daemon off;
worker_processes 1;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  {temp}
  upstream loginbot {{
{upstreams}
  }}
  server {{
    listen {net.address("front")}:{LB_PORT};
    location / {{
      proxy_pass http://loginbot;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout;
      proxy_connect_timeout 2s;
      proxy_read_timeout 30s;
    }}
  }}
}}
"""
    )
    server = subprocess.Popen(
        [
            "nginx",
            "-p",
            str(directory),
            "-c",
            str(directory / "nginx.conf"),
            "-e",
            str(directory / "error.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://{net.address('front')}:{LB_PORT}"
    try:

        def listening() -> bool:
            assert server.poll() is None, (directory / "error.log").read_text()
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                return True
            except httpx.HTTPError:
                return False

        wait_until(listening, timeout=30, what="nginx")
        yield url
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(10)
        if server.poll() is None:
            server.kill()


# --- a loginbot host --------------------------------------------------------------------------------------


class Host:
    def __init__(self, net: Network, name: str, env: dict[str, str], directory: Path) -> None:
        self.name = name
        self.url = f"http://{net.address(name)}:{SLACK_PORT}"
        self.log_path = directory / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                net.command(
                    name,
                    sys.executable,
                    "-m",
                    "bot.cli",
                    "serve",
                    "slack",
                    "--host",
                    net.address(name),
                    "--port",
                    str(SLACK_PORT),
                ),
                cwd=directory,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        def ready() -> bool:
            assert self.process.poll() is None, f"{self.name} exited:\n{self.log()[-3000:]}"
            try:
                return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=180, what=f"{self.name} ready")

    def serving_pid(self) -> int:
        """The pid of `loginbot` itself (under `ip netns exec`, which execs it: the same process)."""
        return self.process.pid

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


# --- Slack's side ----------------------------------------------------------------------------------------

CONFIRM = ("click", "confirm:yes", "")
ACCEPTED_OUTCOMES = ("outcome.login_success",)


class Slack:
    """What Slack does for one user's deliveries: a delivery not acknowledged (an error, a 5xx,
    no answer) is delivered again with `X-Slack-Retry-Num`; a click that was not acknowledged is
    clicked again by the user. Acknowledged delivery ids are kept, to check none was lost."""

    def __init__(self, double: SlackDouble, url: str) -> None:
        self.double = double
        self.url = url
        self.acknowledged: dict[str, list[str]] = {}
        self.lock = threading.Lock()

    def _acked(self, email: str, delivery_id: str) -> None:
        with self.lock:
            self.acknowledged.setdefault(email, []).append(delivery_id)

    def converse(self, email: str) -> None:
        client = SlackClient(self.double, self.url)
        try:
            for how, value, step in (*PATH_TO_CONFIRM, CONFIRM):
                expected = f"ask.{step}" if step else None
                client = self._step(client, email, how, value, expected)
        finally:
            client.close()

    def _step(
        self, client: SlackClient, email: str, how: str, value: str, expected: str | None
    ) -> SlackClient:
        """One answer, delivered until acknowledged and answered; the client to go on with (a new
        connection after a failed one)."""
        mark = self.double.mark()

        def answered() -> bool:
            said = keys_of(dm_posts(self.double, email, mark))
            if expected is None:
                return any(k in ACCEPTED_OUTCOMES or k.startswith("failure.") for k in said)
            return expected in said

        envelope = client.message_event(email, value) if how == "text" else None
        for attempt in range(6):
            if how == "text":
                assert envelope is not None
                delivery_id = envelope["event_id"]
                send = partial(client.deliver, envelope, retry=attempt)
            else:
                payload = client.click_payload(email, value)
                delivery_id = payload["actions"][0]["action_ts"]
                send = partial(client.interact, payload)
            try:
                acknowledged = send().status_code == 200
            except httpx.HTTPError:
                acknowledged = False
            if acknowledged:
                self._acked(email, delivery_id)
                wait_until(answered, timeout=120, what=f"{email}: {expected or 'the outcome'}")
                return client
            # Not acknowledged: maybe a dead host took it before dying (the survivor then answers
            # it after the recovery grace), else Slack sends it again / the user clicks again.
            with contextlib.suppress(AssertionError):
                wait_until(answered, timeout=12, what="")
                return client
            client.close()
            client = SlackClient(self.double, self.url)
        raise AssertionError(f"{email}: {value!r} never acknowledged")


# --- the test --------------------------------------------------------------------------------------------


def pending_owned_by(database: str, pid: int) -> list[int]:
    engine = sqlalchemy.create_engine(database)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sqlalchemy.text("SELECT id, owner FROM delivery_inbox WHERE status = 'pending'")
            ).all()
    finally:
        engine.dispose()
    return [row.id for row in rows if row.owner.split("/")[1] == str(pid)]


def inbox_rows(database: str, ids: list[int]) -> list[tuple[str, str, int]]:
    engine = sqlalchemy.create_engine(database)
    try:
        with engine.connect() as connection:
            query = sqlalchemy.text("SELECT status, owner, claims FROM delivery_inbox WHERE id = ANY(:ids)")
            return [tuple(row) for row in connection.execute(query, {"ids": ids}).all()]  # type: ignore[misc]
    finally:
        engine.dispose()


def test_two_hosts_one_postgres_one_killed_mid_storm(tmp_path: Path) -> None:
    with network("a", "b", "db") as net:
        run_in(net.name("front"), partial(_storm, net, tmp_path))


def _storm(net: Network, directory: Path) -> None:
    emails = load_emails(USERS)
    tenant = directory / "tenant.yml"
    write_tenant(tenant, USERS)
    double = SlackDouble(host=net.address("front"))
    for email in emails:
        double.add_user(email, "en-US")
    simulator = SimulatorServer(SimulatorCore(load_tenant(tenant)), host=net.address("front"))
    with postgres_on(net, "db") as database, double.running(), simulator as server:
        authorize_all(server, database, emails)
        env = bot_env(
            database,
            double,
            LOGINBOT_LOG_LEVEL="INFO",
            LOGINBOT_SLACK_RECOVERY_GRACE="3",
            LOGINBOT_IN_FLIGHT_GRACE="5",
            PYTHONPATH=str(ROOT),
            **wxcc_env(server),
        )
        hosts = [Host(net, name, env, directory) for name in ("a", "b")]
        try:
            for host in hosts:
                host.wait_ready()
            with nginx_in_front(net, [net.address("a"), net.address("b")], directory / "nginx") as url:
                # Slow answers from the contact center: turns are in flight when the host dies.
                server.faults = Faults(latency_ms=300)
                slack = Slack(double, url)
                victim, survivor = hosts
                taken: list[int] = []

                def kill_mid_storm() -> None:
                    # Once the victim holds acknowledged deliveries it has not finished: SIGKILL.
                    pid = victim.serving_pid()
                    found = wait_until(lambda: pending_owned_by(database, pid), timeout=120, what="work on a")
                    taken.extend(found)
                    victim.kill()

                errors = run_threads([partial(slack.converse, email) for email in emails] + [kill_mid_storm])
                assert errors == [], [repr(e) for e in errors] + [survivor.log()[-3000:]]
                assert victim.process.poll() is not None
                assert taken, "the victim held no pending delivery when it was killed"

                # The survivor took the dead host's pending entries over and finished them.
                def finished() -> bool:
                    return all(status == "done" for status, _, _ in inbox_rows(database, taken))

                wait_until(finished, timeout=60, what="the dead host's entries finished")
                survivor_pid = str(survivor.serving_pid())
                owners = {owner.split("/")[1] for _, owner, claims in inbox_rows(database, taken) if claims}
                assert survivor_pid in owners, (owners, survivor_pid)
        finally:
            for host in hosts:
                host.stop()

        store = Store.from_url(database)
        try:
            for email in emails:
                said = keys_of(dm_posts(double, email))
                assert not APOLOGIES & set(said), (email, said)
                logins = station_logins(server.core.events(email), email)
                assert len(logins) <= 1, (email, logins)  # nobody signed in twice
                assert len(logins) == 1 or any(k.startswith("failure.") for k in said), (email, said)
                if logins:
                    assert "outcome.login_success" in said, (email, said)  # and told so
                stored = store.load_conversation(slack_key(email))
                assert stored is not None
                state = FlowState.model_validate(stored.state)
                # No acknowledged delivery lost: each was run, by one host or the other.
                assert set(slack.acknowledged[email]) <= set(state.deliveries), email
            assert pending_owned_by(database, hosts[0].serving_pid()) == []
        finally:
            store.close()
        logs = "".join(host.log() for host in hosts)
        assert "Traceback" not in logs, logs[-4000:]
