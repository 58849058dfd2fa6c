"""Helpers for the reliability tests: a tenant with many users, a Slack client that signs requests as
Slack does, `loginbot serve slack` as a real subprocess (killed with SIGKILL), and the served
simulator with every user authorized through its OAuth flow.

Everything outside loginbot speaks its real protocol: the Slack Web API double of `tests/slack`
records what the bot posts, requests to `/slack/events` are signed with the signing secret, and the
contact center is `SimulatorServer` (REST, websocket, OAuth) on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import yaml

from bot.backend.simulator import DEMO_TENANT_FILE, SimEvent
from bot.backend.simulator.faults import Faults
from bot.backend.simulator.server import SimulatorServer
from bot.backend.wxcc.oauth import OAuth
from bot.channels.slack import blocks as kit
from bot.channels.slack import conversation_key
from bot.channels.slack.blocks import click_for
from bot.secrets import Cipher
from storage import ConversationKey, Store
from tests.channels.processes import free_port
from tests.slack.double import TEAM, Call, SlackDouble, poll, user_id_for
from tests.slack.support import SECRET, TOKEN, event_envelope, im_message, im_of, sign
from tests.wxcc.simulated import authorize, wxcc_config

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "reliability tests: a secret key for the tokens at rest"
CLIENT_ID = "loginbot-reliability"
CLIENT_SECRET = "reliability-client-secret"
APOLOGIES = frozenset({"error.internal", "error.storage", "error.conflict"})
START_TIMEOUT = 90.0  # the recognizer trains at start-up: a few seconds, more on a loaded machine

# --- a tenant with many users ------------------------------------------------------------------------

# Every generated user is asked every question: both roles, all three call options (one extension,
# filled in automatically), three teams, "don't show again", then the summary.
PATH_TO_CONFIRM: tuple[tuple[str, str, str], ...] = (
    # (how the user answers, the answer, the step the answer leads to)
    ("text", "sign me in", "role"),
    ("click", "role:supervisor_agent", "call_preference"),
    ("click", "call:extension", "team"),
    ("click", "team:t-billing", "auto_login"),
    ("click", "auto:no", "confirm"),
)


def load_emails(count: int) -> list[str]:
    return [f"load{n:02d}.user@example.com" for n in range(1, count + 1)]


def write_tenant(path: Path, count: int) -> list[str]:
    """The demo tenant plus `count` users who go through every step; returns their emails."""
    document = yaml.safe_load(DEMO_TENANT_FILE.read_text(encoding="utf-8"))
    emails = load_emails(count)
    for n, email in enumerate(emails, start=1):
        document["users"].append(
            {
                "ciUserId": f"ci-load-{n:02d}",
                "email": email,
                "firstName": f"Load{n:02d}",
                "lastName": "User",
                "agentProfileId": "ap-all-options",
                "siteId": "site-sf",
                "teamIds": ["t-billing", "t-sales-emea", "t-tech-support"],
                "simulator": {
                    "allowedRoles": "both",
                    "extensions": [str(3000 + n)],
                    "dialNumbers": [f"+1415555{300 + n:04d}"],
                    "language": "en",
                },
            }
        )
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return emails


# --- waiting -----------------------------------------------------------------------------------------


def wait_until(predicate: Callable[[], T | None], *, timeout: float = 30.0, what: str = "") -> T:
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout` seconds."""
    return poll(
        predicate,
        timeout=timeout,
        interval=0.02,
        failure=lambda: f"timed out after {timeout:.0f} s waiting for {what or predicate}",
    )


# --- Slack's side: signed requests and what the bot posted --------------------------------------------


def keys_of(posts: Sequence[Call]) -> list[str]:
    return [k for p in posts for k in kit.reply_keys(p.args.get("blocks") or [])]


class SlackClient:
    """Sends what Slack sends to one loginbot HTTP endpoint, and reads back what the bot posted to
    the Web API double. Several clients may point at different processes sharing one double."""

    _ids = itertools.count(1)  # shared by every client: event ids and timestamps never repeat

    def __init__(self, double: SlackDouble, base_url: str) -> None:
        self.double = double
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def close(self) -> None:
        self.http.close()

    # --- requests -----------------------------------------------------------------------------

    def post(self, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> httpx.Response:
        ts = str(int(time.time()))
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(body, ts),
            **(headers or {}),
        }
        return self.http.post("/slack/events", content=body, headers=sent)

    def message_event(self, email: str, text: str, *, event_id: str | None = None) -> dict[str, Any]:
        """The envelope of a direct message, as Slack delivers it (keep it to deliver it again)."""
        n = next(self._ids)
        message = im_message(email, text, f"{int(time.time())}.{n:06d}")
        return event_envelope(message, event_id or f"EvRel{n:08d}")

    def deliver(self, envelope: dict[str, Any], *, retry: int = 0) -> httpx.Response:
        """Deliver an event envelope; `retry` > 0 is Slack's redelivery of the same event id."""
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post(json.dumps(envelope).encode(), "application/json", headers)

    def dm(self, email: str, text: str) -> httpx.Response:
        return self.deliver(self.message_event(email, text))

    def open_dm(self, email: str) -> httpx.Response:
        uid = user_id_for(email)
        envelope = self.message_event(email, "")
        envelope["event"] = {"type": "app_home_opened", "user": uid, "channel": im_of(uid), "tab": "messages"}
        return self.deliver(envelope)

    def click_payload(self, email: str, value: str) -> dict[str, Any]:
        """The `block_actions` payload of pressing the control answering `value` in the DM as it
        stands (the latest message offering it), with a fresh `action_ts`."""
        uid = user_id_for(email)
        for message in reversed(current_messages(self.double, email)):
            found = click_for(message["blocks"], value)
            if found is None:
                continue
            action, state = found
            action["action_ts"] = f"{int(time.time())}.{next(self._ids):06d}"
            return {
                "type": "block_actions",
                "user": {"id": uid, "username": uid, "name": uid, "team_id": TEAM},
                "api_app_id": "A0LOGINBOT",
                "token": "verification_token",
                "container": {
                    "type": "message",
                    "message_ts": message["ts"],
                    "channel_id": im_of(uid),
                    "is_ephemeral": False,
                },
                "trigger_id": f"{next(self._ids)}.2.trigger",
                "team": {"id": TEAM, "domain": "loginbot-test"},
                "channel": {"id": im_of(uid), "name": "directmessage"},
                "response_url": self.double.response_url("action"),
                "state": {"values": state},
                "message": message,
                "actions": [action],
            }
        raise AssertionError(f"{email} was never offered {value!r}")

    def interact(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def click(self, email: str, value: str) -> httpx.Response:
        return self.interact(self.click_payload(email, value))

    def answer(self, email: str, how: str, value: str) -> httpx.Response:
        return self.dm(email, value) if how == "text" else self.click(email, value)

    # --- turns: send, then wait for the replies ------------------------------------------------

    def turn(self, email: str, how: str, value: str, *, timeout: float = 30.0) -> list[str]:
        """Answer and wait for the bot's replies: the catalog keys of what it posted."""
        mark = self.double.mark()
        response = self.answer(email, how, value)
        assert response.status_code == 200, (response.status_code, response.text)
        return keys_of(wait_posts(self.double, email, mark, timeout=timeout))


def dm_posts(double: SlackDouble, email: str, mark: int = 0) -> list[Call]:
    channel = im_of(user_id_for(email))
    return [c for c in double.since(mark, "chat.postMessage") if c.args.get("channel") == channel]


def wait_posts(double: SlackDouble, email: str, mark: int, *, timeout: float = 30.0) -> list[Call]:
    """The bot's posts in the user's DM since `mark`, once there is one that asks, answers or says
    something final (a turn's replies arrive in one post)."""
    return wait_until(lambda: dm_posts(double, email, mark), timeout=timeout, what=f"a reply to {email}")


def current_messages(double: SlackDouble, email: str) -> list[dict[str, Any]]:
    """The DM's messages as the user sees them now: posts with their later updates applied."""
    channel = im_of(user_id_for(email))
    messages: dict[str, dict[str, Any]] = {}
    for call in double.snapshot():
        if call.args.get("channel") != channel:
            continue
        if call.method == "chat.postMessage":
            ts = call.answer["ts"]
            messages[ts] = {
                "type": "message",
                "ts": ts,
                "text": call.args.get("text"),
                "blocks": call.args["blocks"],
            }
        elif call.method == "chat.update" and call.args.get("ts") in messages:
            messages[call.args["ts"]]["blocks"] = call.args["blocks"]
    return list(messages.values())


def slack_key(email: str) -> ConversationKey:
    return conversation_key(TEAM, email)


# --- loginbot serve slack, as a process ---------------------------------------------------------------


@dataclass
class BotProcess:
    """`loginbot serve slack` in a subprocess of its own (its own process group), on a free port."""

    env: dict[str, str]
    cwd: Path
    name: str = "bot"
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    args: Sequence[str] = ()  # more options for `serve slack` (`--workers 2`)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BotProcess:
        return self.launch().wait_ready()

    def launch(self) -> BotProcess:
        """Start the process without waiting for it to listen (to start several at once)."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.port = free_port()
        log = (self.cwd / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "slack", "--port", str(self.port), *self.args],
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    def wait_ready(self) -> BotProcess:
        def listening() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log()[-4000:]}"
                )
            with contextlib.suppress(httpx.HTTPError):
                # Starlette answers 405 to a GET on the POST-only route: the server is up.
                return httpx.get(f"{self.url}/slack/events", timeout=1).status_code == 405
            return False

        wait_until(listening, timeout=START_TIMEOUT, what=f"{self.name} to listen")
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill: no clean-up runs."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        path = self.cwd / f"{self.name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def restart(bot: BotProcess, slack: SlackClient) -> SlackClient:
    """Start `bot` again (after a kill) and a new client to it in place of `slack`, which is closed."""
    bot.start()
    slack.close()
    return SlackClient(slack.double, bot.url)


def bot_env(database_url: str, double: SlackDouble, **extra: str) -> dict[str, str]:
    """The environment of a `serve slack` process: nothing inherited from LOGINBOT_/SLACK_/WXCC_."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGINBOT_", "SLACK_", "WXCC_"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "LOGINBOT_DATABASE_URL": database_url,
            "LOGINBOT_LOG_LEVEL": "WARNING",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_API_URL": double.url,
            # No "Signing you in…" message (the contact center is made slow here on purpose): these
            # tests count the bot's posts, and the outcome would replace it instead of being posted.
            "LOGINBOT_PROGRESS_AFTER": "60",
        }
    )
    env.update(extra)
    return env


def wxcc_env(server: SimulatorServer) -> dict[str, str]:
    """What points a loginbot process at the served simulator (`LOGINBOT_BACKEND=wxcc`)."""
    return {
        "LOGINBOT_BACKEND": "wxcc",
        "LOGINBOT_SECRET_KEY": SECRET_KEY,
        "WXCC_API_URL": server.base_url,
        "WXCC_OAUTH_URL": f"{server.base_url}/v1",
        "WXCC_ORG_ID": "demo-org",
        "WXCC_CLIENT_ID": CLIENT_ID,
        "WXCC_CLIENT_SECRET": CLIENT_SECRET,
    }


def authorize_all(server: SimulatorServer, database_url: str, emails: Sequence[str]) -> None:
    """Each user's consent, through the simulator's real OAuth flow; the tokens land encrypted in the
    database the loginbot processes use (what a user does once, before chatting)."""
    config = wxcc_config(server.base_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    store = Store.from_url(database_url)
    try:
        auth = OAuth(config, store=store, cipher=Cipher(SECRET_KEY))

        async def all_of_them() -> None:
            for email in emails:
                await authorize(auth, email)

        asyncio.run(all_of_them())
    finally:
        store.close()


@contextlib.contextmanager
def served_simulator(tenant_file: Path, faults: Faults | None = None) -> Iterator[SimulatorServer]:
    from bot.backend.simulator import SimulatorCore, load_tenant

    with SimulatorServer(SimulatorCore(load_tenant(tenant_file)), faults=faults) as server:
        yield server


def station_logins(events: Sequence[SimEvent], email: str) -> list[SimEvent]:
    """The sign-ins the contact center accepted for `email`."""
    return [e for e in events if e.kind == "StationLogin" and e.ok and e.email == email]


def run_threads(jobs: Sequence[Callable[[], object]]) -> list[BaseException]:
    """Run the jobs at once on threads; the errors they raised (none when all went well)."""
    errors: list[BaseException] = []
    lock = threading.Lock()

    def guarded(job: Callable[[], object]) -> None:
        try:
            job()
        except BaseException as error:
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=guarded, args=(job,), daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def at_once(*jobs: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Send all at the same moment (one thread and connection each); the answers, in order."""
    answers: dict[int, httpx.Response] = {}

    def send(index: int, job: Callable[[], httpx.Response]) -> None:
        answers[index] = job()

    assert run_threads([partial(send, i, j) for i, j in enumerate(jobs)]) == []
    return [answers[i] for i in range(len(jobs))]
