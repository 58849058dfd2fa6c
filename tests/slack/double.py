"""A local Slack Web API double: a real HTTP server on loopback that records every call.

It answers the methods the Slack channel uses (`auth.test`, `users.info`, `chat.postMessage`,
`chat.update`, `chat.postEphemeral`, `views.publish`, `conversations.open`), the `response_url`
endpoint behind `respond()`, and the three steps of slack-sdk's `files_upload_v2`, the way Slack does:
`files.getUploadURLExternal` (filename and length required) answers an `upload_url` and a `file_id`;
a POST of the raw bytes to that URL answers 200 "OK - <size>" (a size other than the announced
length is refused); `files.completeUploadExternal` shares uploaded files once (`files` as JSON,
`channel_id`), and refuses an id that was never uploaded or already completed. The files are kept in
`files` (bytes, name, title, channel) for tests to read; `fail_next` makes the next calls answer 429 with
Retry-After, or 500, to exercise the client's retry handlers; `hang` makes the next calls of a method
wait, unanswered, until `release` (then the connection closes without an answer and nothing is
recorded, as if the request never reached Slack, or, with `release(answer=True)`, they are answered
late), so a test can kill the bot while it waits. Tests
read back what the bot said from `calls` and wait for it with `wait_for` (a deadline, never a fixed
sleep).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

TEAM = "T0LOGINBOT"
BOT_USER = "U0BOT"
BOT_ID = "B0BOT"
T = TypeVar("T")

# The demo tenant's users as Slack knows them (bot/backend/simulator/demo_tenant.yml).
DEMO_USERS = {
    "sam.supervisor@example.com": "en-US",
    "ava.lead@example.com": "en-US",
    "alex.agent@example.com": "en-GB",
    "dana.digital@example.com": "en-US",
    "pat.provisioned@example.com": "en-US",
    "ines.martin@example.com": "fr-FR",
    "busy.agent@example.com": "en-US",
    "root.admin@example.com": "en-US",
    "carl.closed@example.com": "en-US",
    "sid.specific@example.com": "en-US",
    "nobody@example.com": "en-US",  # a Slack user the contact center does not know
}


def poll(
    predicate: Callable[[], T | None], *, timeout: float, interval: float, failure: Callable[[], str]
) -> T:
    """Call `predicate` every `interval` seconds until it returns something truthy (returned); after
    `timeout` seconds, fail with the message `failure()` makes."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(failure())
        time.sleep(interval)


def user_id_for(email: str) -> str:
    return "U" + email.split("@")[0].replace(".", "").upper()[:10]


@dataclass
class Call:
    method: str  # "chat.postMessage", ..., or "respond" for a response_url
    args: dict[str, Any]
    path: str = ""
    answer: dict[str, Any] = field(default_factory=dict)


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    alt_txt: str | None = None
    data: bytes | None = None  # None until the bytes were posted to the upload URL
    title: str | None = None
    channel: str | None = None
    completed: bool = False


@dataclass
class SlackUser:
    id: str
    email: str | None
    locale: str
    is_bot: bool = False


class SlackDouble:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host  # where it listens (an address inside a network namespace, in tests/hosts)
        self.users: dict[str, SlackUser] = {}
        for email, locale in DEMO_USERS.items():
            self.add_user(email, locale)
        self.calls: list[Call] = []
        self.failed: list[Call] = []
        self._faults: list[tuple[int, int, str | None]] = []  # (status, retry_after, method)
        self._hangs: list[str] = []  # methods whose next call hangs, one entry per call
        self._released = threading.Event()
        self._answer_released = False
        self.hung: list[Call] = []  # calls that hung (never answered, never in `calls`)
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._file_ids = itertools.count(1)
        self.files: dict[str, UploadedFile] = {}
        self._server: ThreadingHTTPServer | None = None

    # --- set-up -------------------------------------------------------------------------------

    def add_user(self, email: str | None, locale: str = "en-US", *, user_id: str | None = None) -> str:
        uid = user_id or user_id_for(email or "noemail@example.com")
        self.users[uid] = SlackUser(uid, email, locale)
        return uid

    def set_locale(self, user_id: str, locale: str) -> None:
        self.users[user_id].locale = locale

    def fail_next(
        self, count: int, *, status: int = 429, retry_after: int = 0, method: str | None = None
    ) -> None:
        with self._lock:
            self._faults.extend([(status, retry_after, method)] * count)

    def hang(self, method: str, count: int = 1) -> None:
        """The next `count` calls of `method` hang until `release`, then get no answer at all."""
        with self._lock:
            self._released.clear()
            self._answer_released = False
            self._hangs.extend([method] * count)

    def release(self, *, answer: bool = False) -> None:
        """Let the hung calls go: unanswered, or with `answer` answered (and recorded) as usual."""
        with self._lock:
            self._hangs.clear()
            self._answer_released = answer
        self._released.set()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{self.host}:{self._server.server_address[1]}/api/"

    def response_url(self, name: str = "r") -> str:
        assert self._server is not None
        return f"http://{self.host}:{self._server.server_address[1]}/respond/{name}"

    # --- reading back ---------------------------------------------------------------------------

    def snapshot(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if method is None or c.method == method]

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    def since(self, mark: int, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls[mark:] if method is None or c.method == method]

    def wait_for(self, predicate: Callable[[], Any], *, timeout: float = 15.0, what: str = "") -> Any:
        return poll(
            predicate,
            timeout=timeout,
            interval=0.01,
            failure=lambda: f"timed out waiting for {what or predicate}; calls: {self.methods()}",
        )

    def methods(self) -> list[str]:
        with self._lock:
            return [c.method for c in self.calls]

    # --- the server -----------------------------------------------------------------------------

    @contextmanager
    def running(self) -> Iterator[SlackDouble]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                double._handle(self)

            def do_POST(self) -> None:
                double._handle(self)

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(5)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        if parts.path.startswith("/upload/v1/"):
            self._upload(request, parts.path.removeprefix("/upload/v1/"), raw)
            return
        args: dict[str, Any] = dict(parse_qsl(parts.query))
        content_type = request.headers.get("Content-Type", "")
        if raw and "json" in content_type:
            args.update(json.loads(raw))
        elif raw:
            args.update(dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
        for name in ("blocks", "view"):
            if isinstance(args.get(name), str):
                args[name] = json.loads(args[name])
        if parts.path.startswith("/respond/"):
            self._record(Call("respond", args, parts.path))
            self._send(request, 200, b"ok", "text/plain")
            return
        method = parts.path.removeprefix("/api/")
        if self._hangs_now(method, args, parts.path):
            self._released.wait(120)
            if not self._answer_released:
                return  # no answer: the handler closes the connection
        fault = self._fault(method)
        if fault is not None:
            status, retry_after = fault
            with self._lock:
                self.failed.append(Call(method, args, parts.path))
            headers = {"Retry-After": str(retry_after)} if status == 429 else {}
            body = {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
            self._send(request, status, json.dumps(body).encode(), "application/json", headers)
            return
        answer = self._answer(method, args)
        self._record(Call(method, args, parts.path, answer))
        self._send(request, 200, json.dumps(answer).encode(), "application/json")

    def _hangs_now(self, method: str, args: dict[str, Any], path: str) -> bool:
        with self._lock:
            if method not in self._hangs:
                return False
            self._hangs.remove(method)
            self.hung.append(Call(method, args, path))
            return True

    def _fault(self, method: str) -> tuple[int, int] | None:
        with self._lock:
            for index, (status, retry_after, only) in enumerate(self._faults):
                if only is None or only == method:
                    del self._faults[index]
                    return status, retry_after
        return None

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID, "team_id": TEAM, "user": "loginbot"}
        if method == "users.info":
            user = self.users.get(str(args.get("user")))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            profile = {"email": user.email} if user.email else {}
            return {
                "ok": True,
                "user": {
                    "id": user.id,
                    "team_id": TEAM,
                    "is_bot": user.is_bot,
                    "locale": user.locale,
                    "profile": {"real_name": user.id, **profile},
                },
            }
        if method in ("chat.postMessage", "chat.update"):
            ts = str(args.get("ts") or f"{1700000000 + next(self._ts)}.000100")
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text")},
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{1700000000 + next(self._ts)}.000200"}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V1", **(args.get("view") or {})}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "")).lstrip("U")}}
        if method == "files.getUploadURLExternal":
            return self._upload_url(args)
        if method == "files.completeUploadExternal":
            return self._complete_upload(args)
        return {"ok": False, "error": "unknown_method"}

    # --- files_upload_v2 ----------------------------------------------------------------------------

    def _upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        filename, length = args.get("filename"), str(args.get("length") or "")
        if not filename or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_ids):010d}"
        with self._lock:
            self.files[file_id] = UploadedFile(file_id, str(filename), int(length), args.get("alt_txt"))
        assert self._server is not None
        url = f"http://127.0.0.1:{self._server.server_address[1]}/upload/v1/{file_id}"
        return {"ok": True, "upload_url": url, "file_id": file_id}

    def _upload(self, request: BaseHTTPRequestHandler, file_id: str, raw: bytes) -> None:
        with self._lock:
            uploaded = self.files.get(file_id)
            accepted = uploaded is not None and uploaded.data is None and len(raw) == uploaded.length
            if accepted and uploaded is not None:
                uploaded.data = raw
        self._record(Call("upload", {"file_id": file_id, "size": len(raw)}, request.path))
        if not accepted:
            self._send(request, 400, b"upload refused", "text/plain")
            return
        self._send(request, 200, f"OK - {len(raw)}".encode(), "text/plain")

    def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        try:
            wanted = json.loads(str(args.get("files") or ""))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(wanted, list) or not wanted:
            return {"ok": False, "error": "invalid_arguments"}
        shared = []
        with self._lock:
            for item in wanted:
                uploaded = self.files.get(str(item.get("id"))) if isinstance(item, dict) else None
                if uploaded is None or uploaded.data is None or uploaded.completed:
                    return {"ok": False, "error": "file_not_found"}
            for item in wanted:
                uploaded = self.files[str(item["id"])]
                uploaded.completed = True
                uploaded.title = item.get("title") or uploaded.filename
                uploaded.channel = args.get("channel_id")
                shared.append(
                    {
                        "id": uploaded.id,
                        "name": uploaded.filename,
                        "title": uploaded.title,
                        "size": uploaded.length,
                        "channels": [uploaded.channel] if uploaded.channel else [],
                    }
                )
        return {"ok": True, "files": shared}

    def shared_files(self, channel: str | None = None) -> list[UploadedFile]:
        """Files completed (shared), in `channel` when given."""
        with self._lock:
            return [
                f for f in self.files.values() if f.completed and (channel is None or f.channel == channel)
            ]

    @staticmethod
    def _send(
        request: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(body)
