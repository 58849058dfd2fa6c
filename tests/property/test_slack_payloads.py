"""Whatever reaches `/slack/events` (events, `block_actions`, slash commands, broken JSON, missing or
mistyped fields, huge strings, bad signatures), the Slack app answers a clean 2xx/4xx, never a 5xx,
and no listener raises.

Each example runs the real ASGI application (`build_asgi(build_app(...))`: the body guard, Bolt's
signature check, the listeners, the assistant on SQLite and the in-process simulator) in its own
event loop through httpx's ASGI transport, then waits for the listeners Bolt started after
acknowledging, so that an exception in one is caught in the example that caused it. Replies go to
the Slack Web API double of `tests/slack`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx
import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from bot.assistant import Assistant
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorBackend, SimulatorCore, load_tenant
from bot.channels.slack import blocks as kit
from bot.channels.slack import build_app, make_client
from bot.channels.slack.home import HOME_ACTIONS
from bot.channels.slack.server import EVENTS_PATH, MAX_BODY_BYTES, _parses, build_asgi
from bot.flow.engine import FlowEngine
from intents.recognizer import Recognizer
from storage import Store
from tests.slack.double import TEAM, SlackDouble, user_id_for
from tests.slack.support import SECRET, TOKEN, sign

from .profile import PROPERTY

# A value of the wrong type saved in the conversation makes it unreadable at the next turn.
pytestmark = pytest.mark.filterwarnings("error:Pydantic serializer warnings:UserWarning")

CLEAN = {200, 400, 401, 404, 413}
GUARDED = "Bolt could not read a request"
KNOWN_USER = user_id_for("ava.lead@example.com")
RESPONSE_URL = "http://127.0.0.1:1/respond/placeholder"  # replaced by the double's, request by request

# --- strategies ------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
texts = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["sign me in", "log me out", "help", "cancel", "2", "+1 212 555 0102", "Billing", ""]),
    st.just("x" * 5000),  # longer than a message may be
)
user_ids = st.one_of(st.just(KNOWN_USER), st.just("UNOBODY"), st.text(max_size=12), json_values)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field as Slack sends it, or any other JSON value in its place."""
    return st.one_of(strategy, json_values)


events = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "app_mention", "app_home_opened", "reaction_added", ""])},
    optional={
        "user": user_ids,
        "text": maybe(texts),
        "channel": maybe(st.sampled_from(["DAVALEAD", "C0GENERAL", ""])),
        "channel_type": maybe(st.sampled_from(["im", "channel"])),
        "subtype": maybe(st.sampled_from(["bot_message", "message_changed"])),
        "bot_id": maybe(st.just("B0BOT")),
        "tab": maybe(st.sampled_from(["messages", "home"])),
        "team": maybe(st.just(TEAM)),
        "ts": maybe(st.just("1700000000.000100")),
    },
)
envelopes = st.fixed_dictionaries(
    {"type": st.sampled_from(["event_callback", "url_verification", "app_rate_limited", "other"])},
    optional={
        "team_id": maybe(st.just(TEAM)),
        "api_app_id": st.just("A0LOGINBOT"),
        "event_id": maybe(st.text(min_size=1, max_size=16)),
        "event": maybe(events),
        "challenge": maybe(st.text(max_size=20)),
        "authorizations": json_values,
    },
)
action_ids = st.sampled_from(
    [
        f"{kit.CHOOSE}.0.0",
        f"{kit.SELECT}.0",
        f"{kit.TEAM_SEARCH}.0",
        kit.AUTO_CONTINUE,
        kit.AUTO_CHECK,
        *HOME_ACTIONS,
    ]
)
actions = st.fixed_dictionaries(
    {"action_id": st.one_of(action_ids, st.text(max_size=20))},
    optional={
        "type": maybe(st.sampled_from(["button", "static_select", "external_select", "checkboxes"])),
        "block_id": maybe(st.sampled_from(["lb:ask.role:0.0", "lb:ask.auto_login:0.1", "x"])),
        "value": maybe(
            st.sampled_from(["role:supervisor", "confirm:yes", "cmd:login", "cmd:logout", "#3", "auto:yes"])
        ),
        "selected_option": maybe(st.fixed_dictionaries({"value": maybe(st.text(max_size=20))})),
        "text": maybe(st.fixed_dictionaries({"type": st.just("plain_text"), "text": maybe(texts)})),
        "action_ts": maybe(st.text(min_size=1, max_size=20)),
    },
)
interactions = st.fixed_dictionaries(
    {"type": st.sampled_from(["block_actions", "block_suggestion", "view_submission", "shortcut", "other"])},
    optional={
        "user": maybe(st.fixed_dictionaries({"id": user_ids}, optional={"team_id": maybe(st.just(TEAM))})),
        "team": maybe(st.fixed_dictionaries({"id": maybe(st.just(TEAM))})),
        "actions": maybe(st.lists(maybe(actions), max_size=3)),
        "action_id": maybe(action_ids),
        "value": maybe(texts),
        "container": maybe(
            st.fixed_dictionaries(
                {},
                optional={
                    "type": st.just("message"),
                    "channel_id": maybe(st.just("DAVALEAD")),
                    "is_ephemeral": maybe(st.booleans()),
                    "message_ts": maybe(st.just("1.1")),
                },
            )
        ),
        "channel": maybe(st.fixed_dictionaries({"id": maybe(st.just("DAVALEAD"))})),
        "state": maybe(st.fixed_dictionaries({"values": json_values})),
        "message": maybe(st.fixed_dictionaries({"ts": maybe(st.just("1.1")), "blocks": json_values})),
        "response_url": maybe(st.sampled_from(["", "not a url", "ftp://example.com/x"])),
        "trigger_id": maybe(st.text(max_size=10)),
    },
)
commands = st.fixed_dictionaries(
    {"command": st.sampled_from(["/login", "/logout", "/other", ""])},
    optional={
        "text": texts,
        "user_id": st.one_of(st.just(KNOWN_USER), st.text(max_size=12)),
        "team_id": st.sampled_from([TEAM, ""]),
        "channel_id": st.sampled_from(["DAVALEAD", "C0GENERAL", ""]),
        "response_url": st.sampled_from(["", "not a url"]),
        "trigger_id": st.text(max_size=20),
    },
)


# Well-formed requests (each field mostly right, sometimes anything else): these reach the listeners,
# the assistant and the Web API.
USERS = [
    user_id_for(e) for e in ("ava.lead@example.com", "alex.agent@example.com", "dana.digital@example.com")
]


def mostly(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy, strategy, json_values)


BUTTON_VALUES = [
    "cmd:login",
    "cmd:logout",
    "role:supervisor_agent",
    "call:extension",
    "confirm:yes",
    "auto:no",
    "#2",
]
good_messages = st.builds(
    lambda user, text, event_id, im: {
        "type": "event_callback",
        "team_id": TEAM,
        "event_id": event_id,
        "event": {
            "type": "message",
            "channel_type": im,
            "user": user,
            "text": text,
            "channel": "D" + str(user)[1:] if isinstance(user, str) else user,
            "ts": "1700000000.000100",
        },
    },
    mostly(st.sampled_from(USERS)),
    mostly(texts),
    mostly(st.uuids().map(str)),
    mostly(st.just("im")),
)
good_clicks = st.builds(
    lambda user, value, action_id, action_ts, ephemeral: {
        "type": "block_actions",
        "user": {"id": user, "team_id": TEAM},
        "team": {"id": TEAM},
        "container": {"type": "message", "channel_id": "D" + str(user)[1:], "is_ephemeral": ephemeral},
        "channel": {"id": "D" + str(user)[1:]},
        "response_url": RESPONSE_URL,
        "state": {"values": {}},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "lb:ask.role:0.0",
                "value": value,
                "action_ts": action_ts,
            }
        ],
    },
    mostly(st.sampled_from(USERS)),
    mostly(st.sampled_from(BUTTON_VALUES)),
    st.one_of(action_ids, st.text(max_size=20)),
    mostly(st.uuids().map(str)),
    mostly(st.booleans()),
)
good_commands = st.builds(
    lambda user, command, text, trigger: {
        "team_id": TEAM,
        "user_id": user,
        "command": command,
        "text": text,
        "channel_id": "C0GENERAL",
        "response_url": RESPONSE_URL,
        "trigger_id": trigger,
    },
    st.sampled_from(USERS),
    st.sampled_from(["/login", "/logout"]),
    texts,
    st.uuids().map(str),
)


@dataclass(frozen=True)
class Request:
    body: bytes
    content_type: str
    signed: bool = True


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


requests = st.one_of(
    good_messages.map(lambda e: Request(json.dumps(e).encode(), "application/json")),
    good_clicks.map(lambda p: Request(form(payload=json.dumps(p)), "application/x-www-form-urlencoded")),
    good_commands.map(lambda c: Request(urlencode(c).encode(), "application/x-www-form-urlencoded")),
    envelopes.map(lambda e: Request(json.dumps(e).encode(), "application/json")),
    interactions.map(lambda p: Request(form(payload=json.dumps(p)), "application/x-www-form-urlencoded")),
    commands.map(lambda c: Request(urlencode(c).encode(), "application/x-www-form-urlencoded")),
    # Broken bodies: not JSON, not UTF-8, a payload that is not JSON, JSON that is not an object.
    st.binary(max_size=300).map(lambda b: Request(b, "application/json")),
    st.binary(max_size=300).map(lambda b: Request(b, "application/x-www-form-urlencoded")),
    st.text(max_size=200).map(lambda t: Request(form(payload=t), "application/x-www-form-urlencoded")),
    json_values.map(lambda v: Request(json.dumps(v).encode(), "application/json")),
    json_values.map(lambda v: Request(form(payload=json.dumps(v)), "application/x-www-form-urlencoded")),
    st.sampled_from(["text/plain", "", "multipart/form-data; boundary=x"]).map(lambda t: Request(b"{}", t)),
    # A forged request: the right shape, no valid signature.
    envelopes.map(lambda e: Request(json.dumps(e).encode(), "application/json", signed=False)),
)

# --- the app, one event loop per example --------------------------------------------------------------


class FailedListeners(logging.Handler):
    """Collects what the app logs when a listener raises (its error handler, or Bolt's own)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message == GUARDED:
            return  # the body guard's own net: Bolt raised while reading the body, answered 400
        if record.exc_info or "listener failed" in message or "Failed to run" in message:
            self.records.append(record)


@dataclass
class Rig:
    assistant: Assistant
    double: SlackDouble
    failures: FailedListeners


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    double = SlackDouble()
    failures = FailedListeners()
    loggers = [logging.getLogger(name) for name in ("bot", "slack_bolt", "slack_sdk", "asyncio")]
    for logger in loggers:
        logger.addHandler(failures)
    store = Store.from_url(f"sqlite:///{tmp_path_factory.mktemp('slack-props') / 'slack.db'}")
    assistant = Assistant(
        engine=FlowEngine(Recognizer.default()),
        store=store,
        backend=SimulatorBackend(SimulatorCore(load_tenant(DEMO_TENANT_FILE))),
    )
    try:
        with double.running():
            yield Rig(assistant, double, failures)
    finally:
        for logger in loggers:
            logger.removeHandler(failures)
        store.close()


async def deliver(rig: Rig, request: Request) -> int:
    """Send one request through the whole app; wait for the listeners it started; its status."""
    app = build_app(rig.assistant, signing_secret=SECRET, client=make_client(TOKEN, api_url=rig.double.url))
    body = request.body.replace(RESPONSE_URL.encode(), rig.double.response_url().encode())
    body = body.replace(quote_plus(RESPONSE_URL).encode(), quote_plus(rig.double.response_url()).encode())
    request = Request(body, request.content_type, request.signed)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": request.content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(request.body, timestamp) if request.signed else "v0=" + "0" * 64,
    }
    transport = httpx.ASGITransport(app=build_asgi(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://slack.test") as client:
        response = await client.post(EVENTS_PATH, content=request.body, headers=headers)
    started = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    if started:
        await asyncio.wait(started, timeout=20)
    return response.status_code


@settings(PROPERTY, max_examples=200)
@given(request=requests)
# Found by this test (each was a 500): ids Bolt passes to `auth.test` that are not strings.
@example(request=Request(b'{"type": "event_callback", "team_id": [null]}', "application/json"))
@example(
    request=Request(
        form(payload=json.dumps({"type": "block_actions", "user": {"id": KNOWN_USER, "team_id": [None]}})),
        "application/x-www-form-urlencoded",
    )
)
def test_any_request_gets_a_clean_answer_and_no_listener_raises(rig: Rig, request: Request) -> None:
    before = len(rig.failures.records)
    calls = rig.double.mark()
    status = asyncio.run(deliver(rig, request))
    said = {c.method for c in rig.double.since(calls)} & {"chat.postMessage", "chat.postEphemeral", "respond"}
    event(f"HTTP {status}" + (", answered" if said else ""))
    assert status in CLEAN, (status, request)
    if not request.signed:
        assert status in (400, 401), status
    failed = rig.failures.records[before:]
    assert not failed, [r.getMessage() for r in failed]


def test_a_body_over_the_limit_is_413(rig: Rig) -> None:
    body = json.dumps({"type": "event_callback", "event": {"text": "x" * (MAX_BODY_BYTES + 10)}}).encode()
    assert asyncio.run(deliver(rig, Request(body, "application/json"))) == 413


@PROPERTY
@given(
    body=st.binary(max_size=400),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""]),
)
def test_the_body_check_never_raises(body: bytes, content_type: str) -> None:
    assert isinstance(_parses(body, content_type), bool)


@PROPERTY
@given(value=json_values)
def test_the_body_check_refuses_json_that_is_not_an_object(value: Any) -> None:
    if not isinstance(value, dict):
        assert _parses(json.dumps(value).encode(), "application/json") is False


@PROPERTY
@given(action=maybe(actions), values=json_values)
# Found by this test (each raised in the listener): a label or an option that is not an object.
@example(action={"type": "button", "value": "role:agent", "text": "Agent"}, values={})
@example(action={"type": "static_select", "selected_option": "role:agent"}, values={})
@example(action={"action_id": kit.AUTO_CONTINUE}, values={"b": {kit.AUTO_CHECK: {"selected_options": 3}}})
def test_reading_a_clicked_control_never_raises(action: Any, values: Any) -> None:
    if not isinstance(action, dict):
        return
    picked = kit.picked(action, values if isinstance(values, dict) else {})
    assert picked is None or isinstance(picked.choice, str | None)
