"""The Slack app under uvicorn on loopback, driven by signed requests built as Slack builds them.

`SlackRig` runs the real assistant (flow, recognizer, SQLite in tmp_path, the in-process simulator)
behind `build_app` + `build_asgi`, points its Web API client at the `SlackDouble`, and sends events
(JSON), slash commands (form) and interactivity (form-encoded `payload=`), each signed
``v0=HMAC_SHA256(secret, "v0:<ts>:<body>")``. `restart()` rebuilds everything on the same files.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn

from bot.assistant import Assistant
from bot.backend.port import ContactCenter
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorBackend, SimulatorCore, Tenant, load_tenant
from bot.channels.slack import blocks as kit
from bot.channels.slack import build_app, conversation_key, make_client
from bot.channels.slack.app import SlackChannel
from bot.channels.slack.identity import Identities
from bot.channels.slack.server import build_asgi
from bot.flow.engine import FlowEngine
from intents.recognizer import Recognizer
from storage import ConversationKey, Store

from .double import TEAM, Call, SlackDouble, user_id_for

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
# "Signing you in…" only where a test asks for it: on a loaded machine even the in-process
# simulator may take a second, and what a test reads must not depend on timing.
QUIET = 60.0
TOKEN = "xoxb-test-token"


def im_of(user_id: str) -> str:
    return "D" + user_id.lstrip("U")


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def im_message(email: str, text: str, ts: str) -> dict[str, Any]:
    """A direct message to the bot, as the `event` of an Events API delivery."""
    uid = user_id_for(email)
    return {
        "client_msg_id": f"m-{ts}",
        "type": "message",
        "text": text,
        "user": uid,
        "ts": ts,
        "team": TEAM,
        "channel": im_of(uid),
        "event_ts": ts,
        "channel_type": "im",
    }


def event_envelope(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    """The Events API's `event_callback` around `event`, as Slack delivers it."""
    return {
        "token": "verification_token",
        "team_id": TEAM,
        "api_app_id": "A0LOGINBOT",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authed_users": ["U0BOT"],
    }


class SlackRig:
    def __init__(
        self,
        directory: Path,
        double: SlackDouble,
        tenant: Tenant | None = None,
        *,
        backend: ContactCenter | None = None,
        progress_after: float = QUIET,
        identity_ttl: float | None = None,
    ) -> None:
        self.double = double
        self.backend = backend  # None: the in-process simulator on `core`
        self.progress_after = progress_after
        self.identity_ttl = identity_ttl  # seconds users.info answers are kept (None: the app's default)
        self.database = f"sqlite:///{directory / 'slack.db'}"
        self.simulator_state = directory / "simulator.json"
        self.tenant = tenant or load_tenant(DEMO_TENANT_FILE)
        self._ids = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.build()

    # --- life cycle -----------------------------------------------------------------------------

    def build(self) -> None:
        self.core = SimulatorCore(self.tenant, self.simulator_state)
        self.store = Store.from_url(self.database)
        self.assistant = Assistant(
            engine=FlowEngine(Recognizer.default()),
            store=self.store,
            backend=self.backend or SimulatorBackend(self.core),
            progress_after=self.progress_after,
        )
        channel = None
        if self.identity_ttl is not None:
            channel = SlackChannel(self.assistant, Identities(ttl=self.identity_ttl))
        app = build_app(
            self.assistant,
            signing_secret=SECRET,
            client=make_client(TOKEN, api_url=self.double.url),
            channel=channel,
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(build_asgi(app), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        self.double.wait_for(lambda: self._server is not None and self._server.started, what="uvicorn")
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self.http.close()
        self.store.close()

    def restart(self) -> None:
        self.stop()
        self.build()

    # --- requests -------------------------------------------------------------------------------

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: str | None = None,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
        signature: str | None = None,
    ) -> httpx.Response:
        ts = timestamp or str(int(time.time()))
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature if signature is not None else sign(body, ts, secret),
            **(headers or {}),
        }
        return self.http.post("/slack/events", content=body, headers=sent)

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> httpx.Response:
        envelope = event_envelope(event, event_id or f"Ev{next(self._ids):08d}")
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post(json.dumps(envelope).encode(), "application/json", headers=headers)

    def dm(self, email: str, text: str, *, event_id: str | None = None, **extra: Any) -> httpx.Response:
        event = im_message(email, text, f"{int(time.time())}.{next(self._ids):06d}")
        return self.event({**event, **extra}, event_id=event_id)

    def open_dm(self, email: str) -> httpx.Response:
        uid = user_id_for(email)
        return self.event(
            {
                "type": "app_home_opened",
                "user": uid,
                "channel": im_of(uid),
                "tab": "messages",
                "event_ts": "1.1",
            }
        )

    def open_home(self, email: str) -> httpx.Response:
        uid = user_id_for(email)
        return self.event(
            {"type": "app_home_opened", "user": uid, "channel": im_of(uid), "tab": "home", "event_ts": "1.1"}
        )

    def command(
        self, email: str, command: str, text: str = "", *, channel: str | None = None
    ) -> httpx.Response:
        uid = user_id_for(email)
        form = {
            "token": "verification_token",
            "team_id": TEAM,
            "team_domain": "loginbot-test",
            "channel_id": channel or im_of(uid),
            "channel_name": "directmessage" if channel is None else "general",
            "user_id": uid,
            "user_name": email.split("@")[0],
            "command": command,
            "text": text,
            "response_url": self.double.response_url("command"),
            "trigger_id": f"{next(self._ids)}.1.trigger",
        }
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")

    def interact(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def action_payload(
        self,
        email: str,
        action: dict[str, Any],
        *,
        message: dict[str, Any] | None = None,
        channel: str | None = None,
        state: dict[str, Any] | None = None,
        ephemeral: bool = False,
        view: bool = False,
    ) -> dict[str, Any]:
        uid = user_id_for(email)
        container: dict[str, Any] = (
            {"type": "view", "view_id": "V1"}
            if view
            else {
                "type": "message",
                "message_ts": (message or {}).get("ts", "1.1"),
                "channel_id": channel or im_of(uid),
                "is_ephemeral": ephemeral,
            }
        )
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": uid, "username": uid, "name": uid, "team_id": TEAM},
            "api_app_id": "A0LOGINBOT",
            "token": "verification_token",
            "container": container,
            "trigger_id": f"{next(self._ids)}.2.trigger",
            "team": {"id": TEAM, "domain": "loginbot-test"},
            "response_url": self.double.response_url("action"),
            "state": {"values": state or {}},
            "actions": [action],
        }
        if not view:
            payload["channel"] = {"id": channel or im_of(uid), "name": "directmessage"}
        if message is not None and not ephemeral:
            payload["message"] = message
        return payload

    # --- reading back ---------------------------------------------------------------------------

    def key(self, email: str) -> ConversationKey:
        return conversation_key(TEAM, email)

    def state(self, email: str) -> dict[str, Any]:
        stored = self.store.load_conversation(self.key(email))
        return stored.state if stored else {}

    def posts(self, email: str, mark: int = 0) -> list[Call]:
        channel = im_of(user_id_for(email))
        return [c for c in self.double.since(mark, "chat.postMessage") if c.args.get("channel") == channel]

    def wait_posts(self, email: str, mark: int, *, keys: int = 1) -> list[Call]:
        def enough() -> list[Call] | None:
            posts = self.posts(email, mark)
            said = [k for p in posts for k in kit.reply_keys(p.args.get("blocks") or [])]
            return posts if posts and len(said) >= keys else None

        result: list[Call] = self.double.wait_for(enough, what=f"replies to {email}")
        return result

    def current_messages(self, email: str) -> list[dict[str, Any]]:
        """The DM's messages as the user sees them now: posts with their later updates applied."""
        channel = im_of(user_id_for(email))
        messages: dict[str, dict[str, Any]] = {}
        for call in self.double.snapshot():
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

    def click(self, email: str, value: str) -> httpx.Response:
        """Do what a user does to answer `value`: press its button, pick it in a select, or tick (or
        not) "Don't show again" and press Continue. A value shown nowhere is a stale or forged click
        on the last message."""
        messages = self.current_messages(email)
        action_ts = f"{int(time.time())}.{next(self._ids):06d}"
        for message in reversed(messages):
            found = kit.click_for(message["blocks"], value)
            if found is not None:
                action, state = found
                action["action_ts"] = action_ts
                return self.interact(self.action_payload(email, action, message=message, state=state))
        message = messages[-1] if messages else {"ts": "1.1", "blocks": [], "text": ""}
        action = {
            "type": "button",
            "action_id": "lb.choose.0.0",
            "block_id": "lb:stale:0.0",
            "text": {"type": "plain_text", "text": "?"},
            "value": value,
            "action_ts": action_ts,
        }
        return self.interact(self.action_payload(email, action, message=message))


def offered(blocks: list[dict[str, Any]]) -> list[str] | None:
    """The choice values of the last block offering any (the auto-login box counts as yes/no)."""
    for block in reversed(blocks):
        if block.get("type") != "actions":
            continue
        elements = block["elements"]
        if any(e.get("action_id") == kit.AUTO_CONTINUE for e in elements):
            return [kit.AUTO_YES, kit.AUTO_NO]
        values: list[str] = []
        for element in elements:
            if element["type"] == "button":
                values.append(element["value"])
            elif element["type"] == "static_select":
                values.extend(o["value"] for o in element["options"])
        return values
    return None


def texts_of(blocks: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for block in blocks:
        if "text" in block and isinstance(block["text"], dict):
            lines.append(kit.unescape(block["text"]["text"]))
        for item in block.get("fields") or []:
            label, _, value = item["text"].partition("\n")
            lines.append(f"  {kit.unescape(label.strip('*'))}: {kit.unescape(value)}")
        for element in block.get("elements") or []:  # choice labels, as the golden `says` expect them
            if element.get("type") == "button":
                lines.append("  - " + element["text"]["text"])
            for option in element.get("options") or []:
                lines.append("  - " + option["text"]["text"])
            if element.get("type") == "mrkdwn":
                lines.append(kit.unescape(element["text"]))
            if element.get("type") == "plain_text":  # a context's plain text (a checklist's evidence)
                lines.append(element["text"])
    return "\n".join(lines)


def fields_of(blocks: list[dict[str, Any]]) -> dict[str, str]:
    shown: dict[str, str] = {}
    for block in blocks:
        for item in block.get("fields") or []:
            label, _, value = item["text"].partition("\n")
            shown[kit.unescape(label.strip("*"))] = kit.unescape(value)
    return shown
