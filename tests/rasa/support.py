"""A real action server on loopback (uvicorn in a thread) over the simulator and a SQLite store, and
webhook bodies in the shape Rasa 3.6 sends (`next_action`, `sender_id`, `tracker`, `domain`, `version`)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bot.assistant import Assistant
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorBackend, SimulatorCore, load_tenant
from bot.channels.rasa import RasaServices, RasaSettings
from bot.channels.rasa.server import build_action_server
from bot.flow.engine import FlowEngine
from bot.identity import EmailVerifier, IdentitySettings, OutboxMailer
from intents.recognizer import Recognizer
from storage import Store

DOMAIN_FILE = Path(__file__).resolve().parents[2] / "intents" / "domain.yml"
_ids = itertools.count(1)


@dataclass
class Rig:
    url: str
    services: RasaServices
    store: Store
    outbox: Path
    client: httpx.Client

    def call(self, body: Mapping[str, Any] | bytes | str, *, token: str | None = None) -> httpx.Response:
        params = {"token": token} if token is not None else None
        if isinstance(body, bytes | str):
            return self.client.post("/webhook", content=body, params=params)
        return self.client.post("/webhook", json=body, params=params)


@contextmanager
def running_server(
    tmp_path: Path, *, rasa: RasaSettings | None = None, identity: IdentitySettings | None = None
) -> Iterator[Rig]:
    store = Store.from_url(f"sqlite:///{tmp_path / 'rasa.db'}")
    backend = SimulatorBackend(SimulatorCore(load_tenant(DEMO_TENANT_FILE)))
    assistant = Assistant(engine=FlowEngine(Recognizer.default()), store=store, backend=backend)
    outbox = tmp_path / "outbox.txt"
    identity = identity or IdentitySettings(outbox=outbox)
    verifier = EmailVerifier(store, OutboxMailer(identity.outbox), identity)
    services = RasaServices(assistant, verifier, rasa or RasaSettings(trust_email_metadata=True))
    config = uvicorn.Config(
        build_action_server(services), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the action server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            yield Rig(url, services, store, identity.outbox, client)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


@dataclass
class Conversation:
    """Builds Rasa's requests for one user: its events grow as Rasa's tracker would."""

    sender_id: str = "U061F7AUR"
    email: str | None = "ava.lead@example.com"  # in the metadata (trusted channel) or None
    domain: dict[str, Any] = field(default_factory=dict)
    slots: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    latest: dict[str, Any] = field(default_factory=dict)
    active_loop: dict[str, Any] = field(default_factory=dict)

    def user(self, text: str, intent: str = "inform", entities: list[dict[str, Any]] | None = None) -> None:
        metadata = {"email": self.email} if self.email else {}
        parse = {
            "intent": {"name": intent, "confidence": 0.95},
            "entities": entities or [],
            "text": text,
            "message_id": None,
            "metadata": metadata,
            "intent_ranking": [{"name": intent, "confidence": 0.95}],
        }
        self.latest = parse
        self.events.append({"event": "action", "name": "action_listen", "policy": None, "confidence": None})
        self.events.append(
            {
                "event": "user",
                "timestamp": time.time(),
                "text": text,
                "parse_data": parse,
                "input_channel": "rest",
                "message_id": f"m{next(_ids)}",
                "metadata": metadata,
            }
        )

    def start_form(self) -> None:
        self.events.append({"event": "action", "name": "login_form", "policy": "RulePolicy", "confidence": 1})
        self.events.append({"event": "active_loop", "name": "login_form"})
        self.active_loop = {"name": "login_form", "is_interrupted": False, "rejected": False}

    def validate(self, **candidates: Any) -> dict[str, Any]:
        """`validate_login_form`: the candidate SlotSets trail the form's action, as Rasa sends them."""
        events = list(self.events)
        if self.slots.get("requested_slot") is not None:
            events.append(_slot("requested_slot", self.slots["requested_slot"]))
        events.append({"event": "action", "name": "login_form", "policy": None, "confidence": None})
        events.extend(_slot(name, value) for name, value in candidates.items())
        slots = {**self.slots, **candidates}
        return self.request("validate_login_form", slots, events)

    def action(self, name: str) -> dict[str, Any]:
        return self.request(name, dict(self.slots), list(self.events))

    def request(self, name: str, slots: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "next_action": name,
            "sender_id": self.sender_id,
            "tracker": {
                "sender_id": self.sender_id,
                "slots": slots,
                "latest_message": self.latest,
                "latest_event_time": time.time(),
                "followup_action": None,
                "paused": False,
                "events": events,
                "latest_input_channel": "rest",
                "active_loop": self.active_loop,
                "latest_action": {"action_name": name},
                "latest_action_name": name,
            },
            "domain": self.domain,
            "version": "3.6.21",
        }

    def apply(self, response: Mapping[str, Any]) -> None:
        """What Rasa does with the answer: the returned events join the tracker."""
        for event in response["events"]:
            self.events.append(event)
            if event["event"] == "slot":
                self.slots[event["name"]] = event["value"]


def _slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "timestamp": time.time(), "name": name, "value": value}


def texts(response: Mapping[str, Any]) -> str:
    return "\n".join(r.get("text") or "" for r in response["responses"])


def slot_events(response: Mapping[str, Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in response["events"] if e["event"] == "slot"}
