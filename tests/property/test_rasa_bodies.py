"""Whatever Rasa (or anyone) posts to the action server's `/webhook` (broken JSON, bytes that are not
UTF-8, a deflate body that is not deflate, JSON that is not an action call, action calls with
mistyped or missing fields, random slots and events), the answer is a clean 4xx or a normal answer,
never a 500; a body the guard refuses gets rasa-sdk's own 400.

The server is the real one (rasa-sdk's Sanic app with loginbot's guards and actions, over the
assistant, SQLite and the in-process simulator), under uvicorn on loopback, as `tests/rasa` runs it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from bot.channels.rasa.form import REQUIRED_SLOTS
from bot.channels.rasa.server import INVALID_BODY, problem
from tests.rasa.support import Conversation, Rig, running_server

from .profile import PROPERTY

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CLEAN = {200, 400, 404, 449}
ACTIONS = [
    "action_station_login",
    "action_station_logout",
    "action_show_preferences",
    "action_set_availability",
    "action_reset_auto_login",
    "action_troubleshoot_login",
    "validate_login_form",
    "action_nonexistent",
]
EMAILS = [
    "ava.lead@example.com",
    "alex.agent@example.com",
    "busy.agent@example.com",
    "nobody@example.com",
    None,
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field as Rasa sends it, or any other JSON value in its place."""
    return st.one_of(strategy, strategy, json_values)


slot_values = st.dictionaries(
    st.sampled_from([*REQUIRED_SLOTS, "requested_slot", "email", "unknown_slot"]),
    maybe(
        st.sampled_from(
            ["supervisor_agent", "extension", "1001", "Billing", "yes", True, False, "+1 212 555 0102"]
        )
    ),
    max_size=6,
)
trackers = st.fixed_dictionaries(
    {},
    optional={
        "sender_id": maybe(st.text(max_size=12)),
        "slots": maybe(slot_values),
        "latest_message": maybe(
            st.fixed_dictionaries(
                {},
                optional={
                    "text": maybe(st.text(max_size=40)),
                    "intent": maybe(
                        st.fixed_dictionaries({"name": maybe(st.sampled_from(["inform", "logout"]))})
                    ),
                    "entities": maybe(st.lists(json_values, max_size=2)),
                    "metadata": maybe(st.fixed_dictionaries({"email": maybe(st.sampled_from(EMAILS))})),
                },
            )
        ),
        "events": maybe(
            st.lists(
                maybe(st.fixed_dictionaries({"event": maybe(st.sampled_from(["user", "slot", "action"]))})),
                max_size=4,
            )
        ),
        "active_loop": maybe(st.fixed_dictionaries({}, optional={"name": maybe(st.just("login_form"))})),
    },
)
action_calls = st.fixed_dictionaries(
    {"next_action": maybe(st.sampled_from(ACTIONS))},
    optional={
        "sender_id": maybe(st.text(max_size=12)),
        "tracker": maybe(trackers),
        "domain": maybe(st.just({})),
        "version": st.just("3.6.21"),
    },
)


@st.composite
def conversations(draw: st.DrawFn) -> dict[str, Any]:
    """A call as Rasa builds it for a real conversation, with its slots (sometimes) disturbed."""
    conversation = Conversation(
        sender_id=draw(st.sampled_from(["U1", "U2", "U3"])), email=draw(st.sampled_from(EMAILS))
    )
    conversation.user(draw(st.sampled_from(["log me in", "sign me out", "show my preferences", "hello"])))
    call = conversation.action(draw(st.sampled_from(ACTIONS)))
    call["tracker"]["slots"].update(draw(slot_values))
    return call


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    kind = draw(st.sampled_from(["bytes", "json", "call", "conversation", "deflate"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300)), {}
    if kind == "json":
        return json.dumps(draw(json_values)).encode(), {"Content-Type": "application/json"}
    if kind == "deflate":
        raw = draw(
            st.one_of(
                st.binary(max_size=100), action_calls.map(lambda c: zlib.compress(json.dumps(c).encode()))
            )
        )
        return raw, {"Content-Type": "application/json", "Content-Encoding": "deflate"}
    call = draw(action_calls if kind == "call" else conversations())
    return json.dumps(call).encode(), {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    with running_server(tmp_path_factory.mktemp("rasa-props")) as running:
        yield running


@settings(PROPERTY, max_examples=150)
@given(body=bodies())
# Found by this test (each was a 500): an empty deflate body; a tracker without its sender_id; a
# tracker whose latest_message is null (rasa-sdk read it after the action had run).
@example(body=(b"", {"Content-Type": "application/json", "Content-Encoding": "deflate"}))
@example(body=(b'{"next_action": "action_station_login", "domain": {}, "tracker": {}}', {}))
@example(
    body=(
        b'{"next_action": "action_station_login", "sender_id": "u", "domain": {}, '
        b'"tracker": {"sender_id": "u", "latest_message": null}}',
        {"Content-Type": "application/json"},
    )
)
def test_any_webhook_body_gets_a_clean_answer(rig: Rig, body: tuple[bytes, dict[str, str]]) -> None:
    content, headers = body
    response = rig.client.post("/webhook", content=content, headers=headers)
    event(f"HTTP {response.status_code}")
    assert response.status_code in CLEAN, (response.status_code, response.text[:300])
    try:
        decoded = json.loads(
            zlib.decompress(content) if headers.get("Content-Encoding") == "deflate" else content
        )
    except (ValueError, zlib.error):
        decoded = None
        assert response.status_code == 400, response.text[:300]
    if decoded is not None and problem(decoded) is not None:
        assert (response.status_code, response.json()) == (400, INVALID_BODY)


@PROPERTY
@given(value=json_values)
def test_the_body_check_never_raises(value: Any) -> None:
    assert problem(value) is None or isinstance(problem(value), str)
