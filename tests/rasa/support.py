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
import yaml

from bot.assistant import Assistant
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorBackend, SimulatorCore, load_tenant
from bot.channels.rasa import RasaServices, RasaSettings
from bot.channels.rasa.form import ENTITY_OF_SLOT, REQUIRED_SLOTS
from bot.channels.rasa.server import build_action_server
from bot.flow.engine import FlowEngine
from bot.identity import EmailVerifier, IdentitySettings, OutboxMailer
from bot.troubleshoot import Troubleshooter
from intents.recognizer import Recognizer
from storage import Store

DOMAIN_FILE = Path(__file__).resolve().parents[2] / "intents" / "domain.yml"
ENV_ADMIN = "helpdesk@example.com"  # an administrator by LOGINBOT_ADMINS only (not a tenant user)
_ids = itertools.count(1)


@dataclass
class Rig:
    url: str
    services: RasaServices
    store: Store
    outbox: Path
    client: httpx.Client
    core: SimulatorCore

    def call(self, body: Mapping[str, Any] | bytes | str, *, token: str | None = None) -> httpx.Response:
        params = {"token": token} if token is not None else None
        if isinstance(body, bytes | str):
            return self.client.post("/webhook", content=body, params=params)
        return self.client.post("/webhook", json=body, params=params)


@contextmanager
def running_server(
    tmp_path: Path,
    *,
    rasa: RasaSettings | None = None,
    identity: IdentitySettings | None = None,
    admins: frozenset[str] = frozenset({ENV_ADMIN}),
    backend: SimulatorBackend | None = None,
) -> Iterator[Rig]:
    store = Store.from_url(f"sqlite:///{tmp_path / 'rasa.db'}")
    backend = backend or SimulatorBackend(SimulatorCore(load_tenant(DEMO_TENANT_FILE)))
    core = backend.core
    assistant = Assistant(engine=FlowEngine(Recognizer.default()), store=store, backend=backend)
    outbox = tmp_path / "outbox.txt"
    identity = identity or IdentitySettings(outbox=outbox)
    verifier = EmailVerifier(store, OutboxMailer(identity.outbox), identity)
    troubleshooter = Troubleshooter(backend, store, admins=admins)
    services = RasaServices(
        assistant, verifier, rasa or RasaSettings(trust_email_metadata=True), troubleshooter
    )
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
            yield Rig(url, services, store, identity.outbox, client, core)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


def _domain() -> dict[str, Any]:
    loaded = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _action(name: str, policy: str | None = None) -> dict[str, Any]:
    return {
        "event": "action",
        "timestamp": time.time(),
        "name": name,
        "policy": policy,
        "confidence": 1.0 if policy else None,
        "action_text": None,
        "hide_rule_turn": False,
    }


@dataclass
class Conversation:
    """Builds Rasa's requests for one user, in Rasa 3.6's shape: a session start, then events that
    grow as Rasa's tracker would, every domain slot in `slots`, and the domain itself."""

    sender_id: str = "U061F7AUR"
    email: str | None = "ava.lead@example.com"  # in the metadata (trusted channel) or None
    locale: str | None = None  # the channel's locale in the metadata ("fr-FR"), when it sends one
    domain: dict[str, Any] = field(default_factory=_domain)
    slots: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(
        default_factory=lambda: [
            _action("action_session_start"),
            {"event": "session_started", "timestamp": time.time()},
        ]
    )
    latest: dict[str, Any] = field(default_factory=dict)
    active_loop: dict[str, Any] = field(default_factory=dict)
    pending: dict[str, Any] | None = None  # the candidates of the validation call under way

    def __post_init__(self) -> None:
        every = dict.fromkeys(self.domain.get("slots") or {}, None)
        self.slots = {**every, "requested_slot": None, "session_started_metadata": None, **self.slots}

    def user(self, text: str, intent: str = "inform", entities: list[dict[str, Any]] | None = None) -> None:
        metadata: dict[str, Any] = {"email": self.email} if self.email else {}
        if self.locale:
            metadata["locale"] = self.locale
        parse = {
            "intent": {"name": intent, "confidence": 0.95},
            "entities": entities or [],
            "text": text,
            "message_id": None,
            "metadata": metadata,
            "intent_ranking": [{"name": intent, "confidence": 0.95}],
        }
        self.latest = parse
        self.events.append(_action("action_listen", "RulePolicy"))
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
        self.events.append(
            {"event": "user_featurization", "timestamp": time.time(), "use_text_for_featurization": False}
        )

    def start_form(self) -> None:
        self.events.append(_action("login_form", "RulePolicy"))
        self.events.append({"event": "active_loop", "timestamp": time.time(), "name": "login_form"})
        self.active_loop = {
            "name": "login_form",
            "is_interrupted": False,
            "rejected": False,
            "trigger_message": self.latest,
        }

    def activate(self) -> dict[str, Any]:
        """`validate_login_form` at activation: Rasa validates the required slots already set."""
        prefilled = {name: self.slots[name] for name in REQUIRED_SLOTS if self.slots.get(name) is not None}
        return self._validate(prefilled, extracted=False)

    def validate(self, **candidates: Any) -> dict[str, Any]:
        """`validate_login_form` after a message: `action_extract_slots` set the candidates, then the
        temporary tracker repeats them after the form's action (only that trailing run counts)."""
        return self._validate(candidates, extracted=True)

    def _validate(self, candidates: dict[str, Any], *, extracted: bool) -> dict[str, Any]:
        events = list(self.events)
        if extracted:
            events.extend(_slot(name, value) for name, value in candidates.items())
        events.append(_slot("requested_slot", self.slots.get("requested_slot")))
        events.append(_action("login_form"))
        events.extend(_slot(name, value) for name, value in candidates.items())
        slots = {**self.slots, **candidates}
        self.pending = dict(candidates)
        return self.request("validate_login_form", slots, events)

    def action(self, name: str) -> dict[str, Any]:
        return self.request(name, dict(self.slots), list(self.events))

    def request(self, name: str, slots: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
        latest_action = next((e["name"] for e in reversed(events) if e["event"] == "action"), None)
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
                "latest_action": {"action_name": latest_action},
                "latest_action_name": latest_action,
            },
            "domain": self.domain,
            "version": "3.6.21",
        }

    def apply(self, response: Mapping[str, Any]) -> None:
        """What Rasa does with the answer: the returned events join the tracker; after a validation,
        candidates the action did not answer for count as valid, and `requested_slot: null` ends the
        form (`active_loop: null`)."""
        returned = {e["name"] for e in response["events"] if e["event"] == "slot"}
        for name, value in (self.pending or {}).items():
            if name not in returned:
                self.events.append(_slot(name, value))
                self.slots[name] = value
        for event in response["events"]:
            self.events.append(event)
            if event["event"] == "slot":
                self.slots[event["name"]] = event["value"]
        if self.pending is not None and "requested_slot" in returned and self.slots["requested_slot"] is None:
            self.events.append({"event": "active_loop", "name": None})
            self.active_loop = {}
        self.pending = None


def _slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "timestamp": time.time(), "name": name, "value": value}


def texts(response: Mapping[str, Any]) -> str:
    return "\n".join(r.get("text") or "" for r in response["responses"])


def slot_events(response: Mapping[str, Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in response["events"] if e["event"] == "slot"}


# --- one exchange of a conversation, as Rasa runs it ------------------------------------------------


def step(rig: Rig, conversation: Conversation, text: str, **candidates: Any) -> dict[str, Any]:
    """The user answers; Rasa maps the answer to candidates and calls validate_login_form."""
    conversation.user(text)
    response = rig.call(conversation.validate(**candidates))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    conversation.apply(body)
    return body


def start(rig: Rig, conversation: Conversation, text: str = "log me in", **candidates: Any) -> dict[str, Any]:
    """ "log me in": the rule starts the form; Rasa validates at activation what `action_extract_slots`
    took from the message's entities (`candidates`)."""
    entities = [
        {"entity": ENTITY_OF_SLOT.get(name, name), "value": value, "start": 0, "end": len(text)}
        for name, value in candidates.items()
    ]
    conversation.user(text, "login", entities)
    conversation.start_form()
    response = rig.call(conversation.validate(**candidates))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    conversation.apply(body)
    return body


def reopen(rig: Rig, conversation: Conversation) -> dict[str, Any]:
    """An action's `FollowupAction(login_form)`: the form activates again with the slots still set."""
    conversation.start_form()
    response = rig.call(conversation.activate())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    conversation.apply(body)
    return body


def run_action(rig: Rig, conversation: Conversation, name: str) -> dict[str, Any]:
    response = rig.call(conversation.action(name))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    conversation.apply(body)
    return body


def buttons(response: Mapping[str, Any]) -> list[str]:
    return [b["payload"] for r in response["responses"] for b in r.get("buttons") or []]
