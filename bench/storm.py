"""The login storm (issue 7): N users (1,000 by default) each complete a full interactive sign-in at
the same time through the Slack HTTP endpoint, with the simulator served over HTTP.

What runs, all on loopback:

* `loginbot simulator --tenant FILE` (a subprocess): the generated tenant (`bench/tenant.py`),
  served as the Webex Contact Center API (REST, notification websockets, OAuth);
* `loginbot serve slack` (a subprocess; `--workers N` for several processes) with
  `LOGINBOT_BACKEND=wxcc` pointed at it, SQLite on a temporary file shared by the workers,
  `SLACK_API_URL` pointed at the Slack Web API double;
* in this process: the double (`bench/slack_double.py`) and the driver, one asyncio task per user.

Before the storm every user authorizes loginbot once, through the simulator's OAuth server and the
adapter's own code (`OAuth.authorize_url`, the simulator's `/v1/authorize` redirect with a code,
`OAuth.complete_authorization`, which exchanges it and stores the encrypted tokens), as the Slack
server's `/oauth/callback` route would. The storm itself starts from a Slack server that has not
served anyone yet.

Warm-up events go first (the bot's own message, which the app ignores), each on a new connection
until every worker has answered one, because Bolt asks `auth.test` lazily at the first request it
authorizes -- and at every request that arrives before that first answer, which would be a thousand
calls at once.

Then every user starts at the same instant (`ramp` spreads the starts over that many seconds) and
does what a person does in Slack, with no time to think: DM "log me in", then click Supervisor and
Agent, Extension, their second extension, their third team, Continue (without "don't show again")
and Save and continue, each click a signed `block_actions` built from the buttons the bot posted.
Measured: the acknowledgement latency of every request, as Slack would time it: from the request
sent (its headers written to the socket, an aiohttp trace hook) to the HTTP answer to the signed
POST; step 0 is the first burst of a thousand simultaneous DMs. Also reported, not targeted: the
latency from when the simulated user acted, which adds the time the request waited for the driver
itself to send it (one event loop sending a thousand requests at once takes ~0.2 s); each user's
completion (when the double receives "You're signed in"), errors of any kind (failed users, Web API
calls the double refused, unexpected posts, ERROR lines in either server's log), double sign-ins
(the simulator's event log: more than one `StationLogin ok` for a user), the Slack server's memory
(VmRSS of gunicorn's arbiter and every worker sampled every 0.25 s, and their VmHWM: the peak of each
process and the peak of their sum) and every process's CPU time.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import httpx

from bench.cli import loginbot_command
from bench.procs import Child, clean_env, cpu_seconds, free_port, installed_script, memory_kb
from bench.results import BenchResult, percentile, summary_ms
from bench.slack_double import TEAM, Post, SlackDouble, im_of
from bench.tenant import ORG_ID, BenchUser, bench_users, write_tenant
from bot.channels.slack.blocks import click_for, reply_keys
from bot.heap import settle_startup_heap

ACK_P99_TARGET_MS = 300.0
ALL_DONE_TARGET_S = 30.0
RSS_TARGET_MB = 200.0
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-bench-token"
CLIENT_ID = "loginbot-simulator"  # `loginbot simulator`'s registered OAuth client
CLIENT_SECRET = "simulator-secret"
SECRET_KEY = "loginbot benchmark secret key, not a real one"
SUCCESS = "outcome.login_success"
_LOGIN_OK = re.compile(r"StationLogin ok (\S+)")
_TRACKING_ID = re.compile(r"LOGINBOT-[0-9a-f-]+")


@dataclass
class UserRun:
    email: str
    # Of each request, in seconds: from the request sent (its headers written to the socket) to
    # its answer, the acknowledgement as Slack times it; and from when the user acted, which adds
    # the time the request waited for the driver itself (a thousand tasks of one event loop).
    wire: list[float] = field(default_factory=list)
    acks: list[float] = field(default_factory=list)
    started: float = 0.0
    done: float | None = None  # perf_counter when the success message reached the double
    error: str | None = None


def steps(user: BenchUser) -> list[tuple[str, str]]:
    """(the value clicked, the reply key expected next) after the first message."""
    return [
        ("role:supervisor_agent", "ask.call_preference"),
        ("call:extension", "ask.extension"),
        (f"ext:{user.extension}", "ask.team"),
        (f"team:{user.team_id}", "ask.auto_login"),
        ("auto:no", "ask.confirm"),
        ("confirm:yes", SUCCESS),
    ]


def sign(body: bytes, timestamp: str) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


def _sent_at() -> aiohttp.TraceConfig:
    """Notes in each request's `trace_request_ctx` when its headers went out: the acknowledgement
    "on the wire" leaves out the time a request waited in the driver's own event loop."""

    async def headers_sent(_: aiohttp.ClientSession, context: Any, __: Any) -> None:
        if isinstance(context.trace_request_ctx, dict):
            context.trace_request_ctx["at"] = time.perf_counter()

    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(headers_sent)
    return trace


class Driver:
    """Sends what Slack sends for each user and waits for the bot's answers at the double."""

    def __init__(
        self, http: aiohttp.ClientSession, url: str, double: SlackDouble, step_timeout: float
    ) -> None:
        self.http = http
        self.url = url
        self.double = double
        self.step_timeout = step_timeout
        self._ids = itertools.count(1)

    async def _post(
        self, run: UserRun, body: bytes, content_type: str, http: aiohttp.ClientSession | None = None
    ) -> None:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(body, timestamp),
        }
        started = time.perf_counter()
        sent: dict[str, float] = {}
        async with (http or self.http).post(
            self.url, data=body, headers=headers, trace_request_ctx=sent
        ) as response:
            text = await response.text()
        answered = time.perf_counter()
        run.acks.append(answered - started)
        run.wire.append(answered - sent.get("at", started))
        if response.status != 200:
            raise AssertionError(f"HTTP {response.status} {text[:200]}")

    async def message(self, run: UserRun, user: BenchUser, text: str) -> None:
        n = next(self._ids)
        ts = f"{int(time.time())}.{n:06d}"
        event = {
            "client_msg_id": f"m-{n}",
            "type": "message",
            "text": text,
            "user": user.slack_id,
            "ts": ts,
            "team": TEAM,
            "channel": im_of(user.slack_id),
            "event_ts": ts,
            "channel_type": "im",
        }
        envelope = {
            "token": "unused",
            "team_id": TEAM,
            "api_app_id": "A0BENCH",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{n:010d}",
            "event_time": int(time.time()),
            "authed_users": ["U0BOT"],
        }
        await self._post(run, json.dumps(envelope).encode(), "application/json")

    async def click(self, run: UserRun, user: BenchUser, post: Post, value: str) -> None:
        found = click_for(post.blocks, value)
        if found is None:
            raise AssertionError(f"no control for {value} in {reply_keys(post.blocks)}")
        action, state = found
        n = next(self._ids)
        action["action_ts"] = f"{int(time.time())}.{n:06d}"
        channel = im_of(user.slack_id)
        payload = {
            "type": "block_actions",
            "user": {"id": user.slack_id, "username": user.slack_id, "name": user.slack_id, "team_id": TEAM},
            "api_app_id": "A0BENCH",
            "token": "unused",
            "container": {
                "type": "message",
                "message_ts": post.ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": f"{n}.1.trigger",
            "team": {"id": TEAM, "domain": "bench"},
            "channel": {"id": channel, "name": "directmessage"},
            "message": {"type": "message", "ts": post.ts, "text": post.text, "blocks": post.blocks},
            "response_url": f"http://127.0.0.1:{self.double.port}/respond/{n}",
            "state": {"values": state},
            "actions": [action],
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        await self._post(run, body, "application/x-www-form-urlencoded")

    async def expect(self, user: BenchUser, key: str) -> Post:
        """The next post to this user that says `key`; anything else said first is an error."""
        queue = self.double.posts(im_of(user.slack_id))
        while True:
            post = await asyncio.wait_for(queue.get(), self.step_timeout)
            said = reply_keys(post.blocks)
            if key in said:
                return post
            raise AssertionError(f"expected {key}, the bot said {said}: {post.text[:200]}")

    async def warm_up(self, workers: int = 1) -> None:
        """Events Bolt authorizes and the app ignores (the bot's own message), until each of the
        server's `workers` processes has asked `auth.test`: Bolt asks it at the first request it
        authorizes, and at every request that arrives before the first answer; a server that has been
        up has asked already. Each goes on a new connection (the kernel spreads connections over
        the workers' sockets)."""
        for attempt in range(64):
            if attempt and self.double.calls["auth.test"] >= workers:
                return
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
                await self._warm_up_once(http, attempt)
        raise AssertionError(f"{workers} workers, {self.double.calls['auth.test']} auth.test calls")

    async def _warm_up_once(self, http: aiohttp.ClientSession, attempt: int) -> None:
        event = {
            "type": "message",
            "text": "hi",
            "user": "U0BOT",
            "bot_id": "B0BOT",
            "channel": "D0BOT",
            "channel_type": "im",
            "ts": "1.000001",
            "event_ts": "1.000001",
        }
        envelope = {
            "team_id": TEAM,
            "api_app_id": "A0BENCH",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev0WARMUP{attempt}",
            "event_time": int(time.time()),
        }
        await self._post(UserRun("warm-up"), json.dumps(envelope).encode(), "application/json", http)

    async def sign_in(self, user: BenchUser, start_at: float) -> UserRun:
        run = UserRun(user.email)
        await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
        run.started = time.perf_counter()
        try:
            await self.message(run, user, "log me in")
            post = await self.expect(user, "ask.role")
            for value, key in steps(user):
                await self.click(run, user, post, value)
                post = await self.expect(user, key)
            run.done = post.at
        except TimeoutError:
            run.error = f"no answer within {self.step_timeout:.0f} s"
        except Exception as error:
            run.error = f"{type(error).__name__}: {error}"[:300]
        return run


async def authorize(users: list[BenchUser], settings_kwargs: dict[str, Any], concurrency: int = 20) -> float:
    """Every user authorizes loginbot once, through the simulator's OAuth server (see the docstring)."""
    from bot.backend.wxcc.adapter import WxccBackend
    from bot.settings import Settings
    from storage import Store

    settings = Settings(**settings_kwargs)
    store = Store.from_url(settings.database_url)
    backend = WxccBackend.from_settings(settings, store=store, redirect_uri=settings.oauth_redirect_uri)
    started = time.perf_counter()
    gate = asyncio.Semaphore(concurrency)
    try:
        async with httpx.AsyncClient(timeout=30) as http:

            async def one(user: BenchUser) -> None:
                async with gate:
                    link = backend.oauth.authorize_url(user.email)
                    answer = await http.get(link)
                    if answer.status_code != 302:
                        raise RuntimeError(
                            f"authorize {user.email}: HTTP {answer.status_code} {answer.text[:200]}"
                        )
                    query = parse_qs(urlsplit(answer.headers["location"]).query)
                    if "code" not in query:
                        raise RuntimeError(f"authorize {user.email}: {query}")
                    await backend.oauth.complete_authorization(query["code"][0], query["state"][0], http=http)

            await asyncio.gather(*(one(u) for u in users))
    finally:
        await backend.aclose()
        store.close()
    return time.perf_counter() - started


def _is_error(line: str) -> bool:
    """An error in loginbot's log format ("... ERROR name: ...") or uvicorn's ("ERROR:    ...")."""
    return " ERROR " in line or " CRITICAL " in line or line.startswith(("ERROR:", "CRITICAL:"))


def _profilers(targets: list[tuple[str, int]], directory: Path) -> list[subprocess.Popen[bytes]]:
    """`py-spy record` on each (name, pid), collapsed stacks into `directory` (when py-spy is installed)."""
    spy = installed_script("py-spy")
    if spy is None:
        return []
    return [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--format",
                "raw",
                "--rate",
                "200",
                "--nonblocking",
                "-o",
                str(directory / f"{name}.pyspy.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in targets
    ]


async def _storm(
    count: int, ramp: float, step_timeout: float, directory: Path, profile: bool = False, workers: int = 1
) -> BenchResult:
    result = BenchResult("storm")
    users = bench_users(count)
    tenant = write_tenant(directory / "tenant.yml", users)
    sim_port, slack_port = free_port(), free_port()
    database = f"sqlite:///{directory / 'slack.db'}"
    redirect = f"http://127.0.0.1:{slack_port}/oauth/callback"
    double = SlackDouble({u.slack_id: u.email for u in users})
    await double.start()
    command = loginbot_command()
    simulator = Child(
        "simulator",
        [
            *command,
            "simulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(sim_port),
            "--tenant",
            str(tenant),
            "--no-access-log",  # 20,000 lines the benchmark never reads
        ],
        clean_env({"LOGINBOT_LOG_LEVEL": "INFO"}),  # INFO: the core's event log, read for double sign-ins
        directory,
    )
    server: Child | None = None
    try:
        simulator.wait_listening(sim_port)
        settings = {
            "database_url": database,
            "backend": "wxcc",
            "secret_key": SECRET_KEY,
            "wxcc_api_url": f"http://127.0.0.1:{sim_port}",
            "wxcc_oauth_url": f"http://127.0.0.1:{sim_port}/v1",
            "wxcc_org_id": ORG_ID,
            "wxcc_client_id": CLIENT_ID,
            "wxcc_client_secret": CLIENT_SECRET,
            "oauth_redirect_uri": redirect,
        }
        authorized_s = await authorize(users, settings)
        env = clean_env(
            {
                "LOGINBOT_DATABASE_URL": database,
                "LOGINBOT_BACKEND": "wxcc",
                "LOGINBOT_SECRET_KEY": SECRET_KEY,
                "LOGINBOT_OAUTH_REDIRECT_URI": redirect,
                "WXCC_API_URL": settings["wxcc_api_url"],
                "WXCC_OAUTH_URL": settings["wxcc_oauth_url"],
                "WXCC_ORG_ID": ORG_ID,
                "WXCC_CLIENT_ID": CLIENT_ID,
                "WXCC_CLIENT_SECRET": CLIENT_SECRET,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": double.url,
                "LOGINBOT_LOG_LEVEL": "WARNING",
            }
        )
        launched = time.perf_counter()
        server = Child(
            "slack",
            [*command, "serve", "slack", "--port", str(slack_port), "--workers", str(workers)],
            env,
            directory,
        )
        if workers > 1:  # gunicorn's arbiter listens at once; each worker says when it serves
            await asyncio.to_thread(server.wait_output, "loginbot worker ready", workers)
        else:
            await asyncio.to_thread(server.wait_listening, slack_port)
        ready_s = time.perf_counter() - launched
        server_pids = server.pids()
        idle = {pid: memory_kb(pid) for pid in server_pids}
        samples: list[int] = []  # the sum over the server's processes
        rss_max: dict[int, int] = {}  # per process
        sampling = True

        async def sample() -> None:
            while sampling:
                total = 0
                for pid in server.pids() if server else []:
                    rss = memory_kb(pid).get("VmRSS", 0)
                    rss_max[pid] = max(rss_max.get(pid, 0), rss)
                    total += rss
                samples.append(total)
                await asyncio.sleep(0.25)

        sampler = asyncio.create_task(sample())
        targets = [(f"slack-{pid}", pid) for pid in server_pids[1:] or server_pids]
        profilers = _profilers([*targets, ("simulator", simulator.pid)], directory) if profile else []
        # Idle connections closed before the server's own keep-alive timeout (uvicorn: 5 s) closes them.
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=2.0)
        async with aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=step_timeout),
            trace_configs=[_sent_at()],
        ) as http:
            driver = Driver(http, f"http://127.0.0.1:{slack_port}/slack/events", double, step_timeout)
            cpu_before_each = {pid: cpu_seconds(pid) for pid in server_pids}
            cpu_before = {
                "slack_server": sum(cpu_before_each.values()),
                "simulator": simulator.cpu_seconds(),
                "driver_and_double": cpu_seconds(os.getpid()),
            }
            await driver.warm_up(workers)
            # The driver's own garbage collections would delay reading the answers (and count
            # against the server): the same settings as the servers'.
            settle_startup_heap()
            t0 = time.perf_counter() + 0.2
            runs = await asyncio.gather(
                *(driver.sign_in(u, t0 + ramp * i / max(1, count)) for i, u in enumerate(users))
            )
            finished = time.perf_counter()
            cpu_each = {pid: cpu_seconds(pid) - before for pid, before in cpu_before_each.items()}
            cpu_used = {
                "slack_server": sum(cpu_each.values()),
                "simulator": simulator.cpu_seconds() - cpu_before["simulator"],
                "driver_and_double": cpu_seconds(os.getpid()) - cpu_before["driver_and_double"],
            }
        await asyncio.sleep(0.5)  # anything the server still posts after the last success
        for spy in profilers:
            spy.send_signal(signal.SIGINT)
            spy.wait(30)
        sampling = False
        await sampler
        peak = {pid: memory_kb(pid) for pid in server.pids()}
        simulator_log = simulator.stderr()
        logins = Counter(_LOGIN_OK.findall(simulator_log))
        server_log = server.stderr()
    finally:
        if server is not None:
            server.stop()
        simulator.stop()
        await double.stop()

    failed = [r for r in runs if r.done is None]
    acks = [a for r in runs for a in r.acks]
    completions = [r.done - t0 for r in runs if r.done is not None]
    durations = [r.done - r.started for r in runs if r.done is not None]
    doubles = {agent: n for agent, n in logins.items() if n > 1}
    logged = server_log.splitlines()
    warnings = [line for line in logged if " WARNING " in line]
    logged_errors = [line for line in logged if _is_error(line)]
    logged_errors += [f"simulator: {line}" for line in simulator_log.splitlines() if _is_error(line)]
    leftovers = sum(double.posts(im_of(u.slack_id)).qsize() for u in users)
    errors = len(failed) + len(double.errors) + len(doubles) + leftovers + len(logged_errors)
    ack_ms = summary_ms([w for r in runs for w in r.wire])
    ack_with_driver_ms = summary_ms(acks)
    makespan = max(completions) if completions and not failed else float("nan")
    # Per process: its own high-water mark (VmHWM) or the highest sample; in all: the highest sum of
    # simultaneous samples (the processes' high-water marks need not fall at the same moment).
    per_process_kb = {pid: max(peak.get(pid, {}).get("VmHWM", 0), rss_max.get(pid, 0)) for pid in rss_max}
    process_peak_mb = max(per_process_kb.values(), default=0) / 1024
    total_peak_mb = max(samples, default=0) / 1024
    if len(server_pids) == 1:
        total_peak_mb = max(total_peak_mb, process_peak_mb)

    result.add("users signed in", len(runs) - len(failed), "count", target=count, comparison=">=")
    result.add("all signed in after", makespan, "s", target=ALL_DONE_TARGET_S)
    result.add("ack p50", ack_ms["p50"], "ms", note="request sent -> its answer")
    result.add("ack p99", ack_ms["p99"], "ms", target=ACK_P99_TARGET_MS, note="request sent -> its answer")
    result.add("ack max", ack_ms["max"], "ms")
    result.add(
        "ack p99 incl. the driver's queue",
        ack_with_driver_ms["p99"],
        "ms",
        note="from when the simulated user acts: also the driver's own time to send",
    )
    result.add("errors", errors, "count", target=0)
    result.add("double sign-ins", len(doubles), "count", target=0)
    result.add("server RSS peak, all processes", total_peak_mb, "MB", target=RSS_TARGET_MB)
    result.add("server RSS peak, largest process", process_peak_mb, "MB")
    result.add("server RSS idle, all processes", sum(m.get("VmRSS", 0) for m in idle.values()) / 1024, "MB")
    result.details = {
        "users": count,
        "requests": len(acks),
        "ramp_seconds": ramp,
        "ack_ms": ack_ms,
        "ack_with_driver_queue_ms": ack_with_driver_ms,
        "ack_ms_by_step": {
            str(step): summary_ms([r.wire[step] for r in runs if len(r.wire) > step]) for step in range(7)
        },
        "ack_with_driver_queue_ms_by_step": {
            str(step): summary_ms([r.acks[step] for r in runs if len(r.acks) > step]) for step in range(7)
        },
        "completion_from_start_s": {
            "p50": percentile(completions, 50),
            "p90": percentile(completions, 90),
            "p99": percentile(completions, 99),
            "max": max(completions, default=float("nan")),
        },
        "sign_in_duration_s": {
            "p50": percentile(durations, 50),
            "p99": percentile(durations, 99),
            "max": max(durations, default=float("nan")),
        },
        "storm_wall_s": finished - t0,
        "cpu_seconds_during_storm": cpu_used,
        "failed_users": len(failed),
        "failures": Counter(_TRACKING_ID.sub("<id>", r.error) for r in failed if r.error).most_common(10),
        "double_sign_ins": doubles,
        "station_logins_in_simulator_log": sum(logins.values()),
        "unexpected_posts_left": leftovers,
        "slack_double_errors": double.errors[:20],
        "slack_api_calls": dict(double.calls),
        "server_log_errors": len(logged_errors),
        "server_log_warnings": len(warnings),
        "server_log_sample": (logged_errors + warnings)[:10],
        "server_ready_s": ready_s,
        "authorization_s": authorized_s,
        "server_workers": workers,
        "server_pids": server_pids,
        "server_memory_kb": {
            "idle": {str(pid): m for pid, m in idle.items()},
            "end": {str(pid): m for pid, m in peak.items()},
            "peak_per_process": {str(pid): kb for pid, kb in per_process_kb.items()},
            "samples_max_sum": max(samples, default=0),
        },
        "cpu_seconds_per_server_process": {str(pid): cpu for pid, cpu in cpu_each.items()},
        "python": sys.version.split()[0],
    }
    return result


def run(
    users: int = 1000,
    ramp: float = 0.0,
    step_timeout: float = 60.0,
    keep: Path | None = None,
    profile: bool = False,
    workers: int = 1,
) -> BenchResult:
    """`keep`: run in this directory and leave the servers' logs, database and tenant there;
    `profile`: also record both servers with py-spy (collapsed stacks, `*.pyspy.txt` in `keep`);
    `workers`: `loginbot serve slack --workers`."""
    started = time.perf_counter()
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        result = asyncio.run(_storm(users, ramp, step_timeout, keep, profile, workers))
    else:
        with tempfile.TemporaryDirectory(prefix="loginbot-bench-storm-") as tmp:
            result = asyncio.run(_storm(users, ramp, step_timeout, Path(tmp), profile, workers))
    result.seconds = time.perf_counter() - started
    return result
