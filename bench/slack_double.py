"""A Slack Web API double for the storm: an asyncio ASGI app under uvicorn, in the driver's event loop.

Why not `tests/slack/double.py`: that one is a threaded `http.server` read back by polling, right for
tests; a thousand users waiting on it from one event loop want a double on the same loop that hands
each post to the user waiting for it. It answers what the Slack app calls (`auth.test`,
`users.info`, `chat.postMessage`, `chat.update`, `chat.postEphemeral`, `conversations.open`,
`views.publish`) and the `response_url`s, as Slack does, and records nothing it does not need.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import uvicorn

TEAM = "T0BENCH"
BOT_USER = "U0BOT"


def im_of(user_id: str) -> str:
    """The bot's DM channel with a user (what `conversations.open` answers)."""
    return "D" + user_id.removeprefix("U")


@dataclass(frozen=True)
class Post:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    at: float  # time.perf_counter() when the double received it


class SlackDouble:
    def __init__(self, emails: dict[str, str] | None = None) -> None:
        self.emails: dict[str, str] = dict(emails or {})  # Slack user id -> email
        self.calls: Counter[str] = Counter()
        self.errors: list[str] = []
        self.port = 0
        self._queues: dict[str, asyncio.Queue[Post]] = {}
        self._ts = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    # --- for the driver ---------------------------------------------------------------------------

    def posts(self, channel: str) -> asyncio.Queue[Post]:
        """The messages posted in `channel`, in order, as they arrive."""
        return self._queues.setdefault(channel, asyncio.Queue())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self, log_level="warning", lifespan="off", access_log=False, backlog=4096, timeout_keep_alive=60
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        deadline = time.monotonic() + 10
        while not self._server.started:
            if self._task.done() or time.monotonic() > deadline:
                raise RuntimeError("the Slack double did not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await asyncio.wait_for(self._task, 10)
            self._server = self._task = None

    # --- the ASGI app -----------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path: str = scope["path"]
        headers = dict(scope.get("headers") or [])
        args: dict[str, Any] = dict(parse_qsl(scope.get("query_string", b"").decode()))
        if body and b"json" in headers.get(b"content-type", b""):
            args.update(json.loads(body))
        elif body:
            args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        if path.startswith("/respond/"):
            self.calls["respond"] += 1
            await _send(send, 200, b"ok", b"text/plain")
            return
        method = path.removeprefix("/api/")
        self.calls[method] += 1
        answer = self._answer(method, args)
        if not answer.get("ok"):
            self.errors.append(f"{method}: {answer.get('error')}")
        await _send(send, 200, json.dumps(answer).encode(), b"application/json")

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "B0BOT", "team_id": TEAM, "user": "loginbot"}
        if method == "users.info":
            uid = str(args.get("user"))
            email = self.emails.get(uid)
            if email is None:
                return {"ok": False, "error": "user_not_found"}
            profile = {"real_name": uid, "email": email}
            return {"ok": True, "user": {"id": uid, "team_id": TEAM, "locale": "en-US", "profile": profile}}
        if method == "chat.postMessage":
            ts = f"{1_700_000_000 + next(self._ts)}.000100"
            blocks = args.get("blocks") or []
            if isinstance(blocks, str):
                blocks = json.loads(blocks)
            channel = str(args.get("channel"))
            self.posts(channel).put_nowait(
                Post(channel, ts, str(args.get("text") or ""), blocks, time.perf_counter())
            )
            return {"ok": True, "channel": channel, "ts": ts, "message": {"text": args.get("text")}}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{1_700_000_000 + next(self._ts)}.000200"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": im_of(str(args.get("users", "")))}}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V1"}}
        return {"ok": False, "error": "unknown_method"}


async def _send(send: Any, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
