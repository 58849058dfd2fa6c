"""`loginbot serve slack` in Socket Mode, as a subprocess, against Slack's Socket Mode protocol.

With `SLACK_APP_TOKEN` set, the app asks the Web API (`apps.connections.open`, answered by the
double) for a websocket URL, connects to it, and receives each event, slash command and click as an
envelope it must acknowledge with the envelope's id (Slack's Socket Mode protocol: a `hello` first,
then `events_api` / `slash_commands` / `interactive` envelopes). The socket here is a real
websocket server on loopback playing Slack's side.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from bot.channels.slack import blocks as kit
from bot.channels.slack.blocks import click_for

from .double import TEAM, SlackDouble, user_id_for
from .support import SECRET, TOKEN, event_envelope, im_message, im_of

APP_TOKEN = "xapp-1-A0LOGINBOT-socket-mode-test"
ALEX = "alex.agent@example.com"


class SocketModeSlack:
    """Slack's end of Socket Mode: one websocket server, envelopes out, acknowledgements in."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._connection: ServerConnection | None = None
        self._connected = threading.Event()
        self.acks: queue.Queue[dict[str, Any]] = queue.Queue()
        self.port = 0
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link/?ticket=socket-mode-test"

    def start(self) -> None:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _serve(self) -> Any:
        return await serve(self._handle, "127.0.0.1", 0)

    async def _close(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, connection: ServerConnection) -> None:
        await connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "loginbot-test", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": "A0LOGINBOT"},
                }
            )
        )
        self._connection = connection
        self._connected.set()
        async for raw in connection:
            message = json.loads(raw)
            if "envelope_id" in message:
                self.acks.put(message)

    def wait_connected(self, timeout: float = 30) -> None:
        assert self._connected.wait(timeout), "the app never opened its Socket Mode connection"

    def expect_reconnection(self) -> None:
        """The app is gone: `wait_connected` waits for the next one."""
        self._connected.clear()
        self._connection = None

    def send(self, kind: str, payload: dict[str, Any], *, retry: int = 0) -> str:
        envelope_id = f"env-{next(self._ids)}"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            envelope["retry_attempt"] = retry
            envelope["retry_reason"] = "timeout" if retry else ""
        assert self._connection is not None
        connection = self._connection
        asyncio.run_coroutine_threadsafe(connection.send(json.dumps(envelope)), self._loop).result(10)
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 3.0) -> dict[str, Any]:
        """Slack wants every envelope acknowledged within 3 seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"envelope {envelope_id} was not acknowledged within {timeout} s"
            try:
                ack = self.acks.get(timeout=left)
            except queue.Empty:
                continue
            if ack["envelope_id"] == envelope_id:
                return ack


class SocketModeDouble(SlackDouble):
    """The Web API double, plus `apps.connections.open` handing out the socket's URL."""

    def __init__(self, socket_url: str) -> None:
        super().__init__()
        self.socket_url = socket_url

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        return super()._answer(method, args)


@pytest.fixture
def socket_slack() -> Iterator[SocketModeSlack]:
    slack = SocketModeSlack()
    slack.start()
    try:
        yield slack
    finally:
        slack.stop()


def serve_socket_mode(tmp_path: Path, double: SocketModeDouble, **extra: str) -> subprocess.Popen[bytes]:
    """`loginbot serve slack` in Socket Mode on the files of `tmp_path` (the same ones each time)."""
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": double.url,
        "LOGINBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'socket.db'}",
        "LOGINBOT_SIMULATOR_STATE": str(tmp_path / "simulator.json"),
        "LOGINBOT_BACKEND": "simulator",
        **extra,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "slack"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )


@pytest.fixture
def served(tmp_path: Path, socket_slack: SocketModeSlack) -> Iterator[SocketModeDouble]:
    double = SocketModeDouble(socket_slack.url)
    with double.running():
        process = serve_socket_mode(tmp_path, double)
        try:
            socket_slack.wait_connected()
            yield double
        finally:
            process.kill()
            process.wait(10)


def dm_event(email: str, text: str, n: int) -> dict[str, Any]:
    return event_envelope(im_message(email, text, f"{int(time.time())}.{n:06d}"), f"EvSOCKET{n:06d}")


def said(double: SlackDouble, email: str, mark: int) -> list[str]:
    channel = im_of(user_id_for(email))
    return [
        key
        for call in double.since(mark)
        if call.method in ("chat.postMessage", "chat.update") and call.args.get("channel") == channel
        for key in kit.reply_keys(call.args.get("blocks") or [])
    ]


def wait_said(double: SlackDouble, email: str, mark: int, key: str) -> None:
    double.wait_for(lambda: key in said(double, email, mark), what=f"{key} said to {email}")


def last_message(double: SlackDouble, email: str) -> dict[str, Any]:
    channel = im_of(user_id_for(email))
    posts = [c for c in double.snapshot("chat.postMessage") if c.args.get("channel") == channel]
    call = posts[-1]
    blocks = call.args["blocks"]
    return {"type": "message", "ts": call.answer["ts"], "text": call.args.get("text"), "blocks": blocks}


def test_socket_mode_signs_in_with_messages_and_a_click(
    served: SocketModeDouble, socket_slack: SocketModeSlack
) -> None:
    mark = served.mark()
    envelope = socket_slack.send("events_api", dm_event(ALEX, "log me in on extension 2001", 1))
    assert socket_slack.wait_ack(envelope) == {"envelope_id": envelope}
    wait_said(served, ALEX, mark, "ask.team")

    # A redelivery of the same event (Slack's retry after a missed ack) is acknowledged, not replayed.
    mark = served.mark()
    retried = socket_slack.send("events_api", dm_event(ALEX, "log me in on extension 2001", 1), retry=1)
    socket_slack.wait_ack(retried)

    envelope = socket_slack.send("events_api", dm_event(ALEX, "technical support", 2))
    socket_slack.wait_ack(envelope)
    wait_said(served, ALEX, mark, "ask.auto_login")
    assert said(served, ALEX, mark).count("ask.team") == 0, "the retried event was answered twice"

    envelope = socket_slack.send("events_api", dm_event(ALEX, "no", 3))
    socket_slack.wait_ack(envelope)
    wait_said(served, ALEX, mark, "ask.confirm")

    # "Save and continue" is a button: the click arrives as an `interactive` envelope.
    message = last_message(served, ALEX)
    found = click_for(message["blocks"], "confirm:yes")
    assert found is not None, f"no Save and continue button in {message['blocks']}"
    action, state = found
    action["action_ts"] = f"{int(time.time())}.000009"
    uid = user_id_for(ALEX)
    click = {
        "type": "block_actions",
        "user": {"id": uid, "username": uid, "name": uid, "team_id": TEAM},
        "api_app_id": "A0LOGINBOT",
        "token": "verification_token",
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": im_of(uid)},
        "trigger_id": "9.9.trigger",
        "team": {"id": TEAM, "domain": "loginbot-test"},
        "channel": {"id": im_of(uid), "name": "directmessage"},
        "message": message,
        "state": {"values": state},
        "response_url": served.response_url("action"),
        "actions": [action],
    }
    mark = served.mark()
    envelope = socket_slack.send("interactive", click)
    socket_slack.wait_ack(envelope)
    wait_said(served, ALEX, mark, "outcome.login_success")


def test_socket_mode_slash_command_is_acknowledged_and_answered(
    served: SocketModeDouble, socket_slack: SocketModeSlack
) -> None:
    uid = user_id_for(ALEX)
    mark = served.mark()
    command = {
        "token": "verification_token",
        "team_id": TEAM,
        "team_domain": "loginbot-test",
        "channel_id": im_of(uid),
        "channel_name": "directmessage",
        "user_id": uid,
        "user_name": "alex.agent",
        "command": "/login",
        "text": "",
        "api_app_id": "A0LOGINBOT",
        "response_url": served.response_url("command"),
        "trigger_id": "1.1.trigger",
    }
    envelope = socket_slack.send("slash_commands", command)
    assert socket_slack.wait_ack(envelope)["envelope_id"] == envelope
    served.wait_for(
        lambda: any(
            key.startswith("ask.")
            for call in served.since(mark)
            for key in kit.reply_keys(call.args.get("blocks") or [])
        ),
        what="the first question after /login",
    )


def test_socket_mode_answers_after_a_restart_an_event_it_acknowledged_before_a_kill(
    tmp_path: Path, socket_slack: SocketModeSlack
) -> None:
    """The envelope is acknowledged (so Slack will not send it again), then the process is killed
    before the turn ran (the identity look-up hangs): the restarted app runs it from the inbox."""
    double = SocketModeDouble(socket_slack.url)
    with double.running():
        grace = {"LOGINBOT_SLACK_RECOVERY_GRACE": "1"}
        process = serve_socket_mode(tmp_path, double, **grace)
        try:
            socket_slack.wait_connected()
            double.hang("users.info")
            envelope = socket_slack.send("events_api", dm_event(ALEX, "log me in on extension 2001", 1))
            socket_slack.wait_ack(envelope)
            double.wait_for(lambda: double.hung, what="the turn to start")
            process.kill()
            process.wait(10)
            double.release()
            mark = double.mark()
            assert said(double, ALEX, 0) == []

            socket_slack.expect_reconnection()
            process = serve_socket_mode(tmp_path, double, **grace)
            socket_slack.wait_connected()
            wait_said(double, ALEX, mark, "ask.team")
            assert said(double, ALEX, mark).count("ask.team") == 1
        finally:
            process.kill()
            process.wait(10)
