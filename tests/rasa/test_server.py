"""The action server's wire behaviour, as rasa-sdk serves it: health, actions, errors, the token."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest
import yaml

from bot.channels.rasa import RasaSettings
from bot.channels.rasa.actions import ACTIONS
from bot.flow.catalog import Catalog
from bot.identity import IdentitySettings

from .support import DOMAIN_FILE, Conversation, Rig, running_server

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

FIXED_ACTIONS = {
    "validate_login_form",
    "action_station_login",
    "action_station_logout",
    "action_set_availability",
    "action_reset_auto_login",
    "action_show_preferences",
    "action_troubleshoot_login",
}


def test_health_and_the_fixed_actions(rig: Rig) -> None:
    health = rig.client.get("/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    actions = rig.client.get("/actions")
    assert actions.status_code == 200
    assert {a["name"] for a in actions.json()} == FIXED_ACTIONS == {a.action_name for a in ACTIONS}


def test_an_unknown_action_is_404_as_rasa_sdk_answers(rig: Rig) -> None:
    response = rig.call(Conversation().action("action_tell_weather"))
    assert response.status_code == 404
    assert response.json() == {
        "error": "No registered action found for name 'action_tell_weather'.",
        "action_name": "action_tell_weather",
    }


def test_a_missing_domain_is_449_so_that_rasa_sends_it_again(rig: Rig) -> None:
    body = Conversation().action("action_show_preferences")
    del body["domain"]
    response = rig.call(body)
    assert response.status_code == 449
    assert response.json()["action_name"] == "action_show_preferences"
    assert response.json()["error"].startswith("Missing domain context")


def test_no_next_action_is_answered_null(rig: Rig) -> None:
    response = rig.call(
        {"sender_id": "u1", "tracker": {"sender_id": "u1"}, "domain": {}, "version": "3.6.21"}
    )
    assert (response.status_code, response.text) == (200, "null")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"\xff\xfe garbage",
        b"[1, 2, 3]",
        b'"a string"',
        b'{"next_action": 12, "tracker": {}, "domain": {}}',
        b'{"next_action": "action_station_login", "sender_id": "u1", "domain": {}}',
        b'{"next_action": "action_station_login", "tracker": "nope", "domain": {}}',
        b'{"next_action": "action_station_login", "tracker": {"events": {"a": 1}}, "domain": {}}',
        b'{"next_action": "action_station_login", "tracker": {"events": [1, 2]}, "domain": {}}',
        b'{"next_action": "action_station_login", "tracker": {"slots": []}, "domain": {}}',
        b'{"next_action": "action_station_login", "tracker": {}, "domain": []}',
    ],
    ids=repr,
)
def test_malformed_bodies_are_400(rig: Rig, body: bytes) -> None:
    response = rig.call(body)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid body request"}


def test_an_exception_inside_an_action_becomes_a_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A real fault, not a stub: the database loses the table that says who a Rasa sender is."""
    settings = RasaSettings(trust_email_metadata=False)
    identity = IdentitySettings(outbox=tmp_path / "outbox.txt")
    with running_server(tmp_path, rasa=settings, identity=identity) as rig:
        with sqlite3.connect(tmp_path / "rasa.db") as database:
            database.execute("DROP TABLE identity_bindings")
        conversation = Conversation()
        conversation.user("sign me out", "logout")
        for action in ("action_station_logout", "validate_login_form", "action_troubleshoot_login"):
            response = rig.call(conversation.action(action))
            assert response.status_code == 200, action
            body = response.json()
            assert body["events"] == []
            assert [r["text"] for r in body["responses"]] == [Catalog.default().text("en", "error.internal")]
            assert "identity_bindings" not in response.text
    assert "action action_station_logout failed" in caplog.text


def test_the_shared_token_is_required_and_refusals_are_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = RasaSettings(trust_email_metadata=True, token="s3cret-token")
    with running_server(tmp_path, rasa=settings) as rig, caplog.at_level(logging.WARNING):
        body = Conversation().action("action_show_preferences")
        for token in (None, "wrong", ""):
            refused = rig.call(body, token=token)
            assert refused.status_code == 401
            assert "s3cret" not in refused.text
        accepted = rig.call(body, token="s3cret-token")
        assert accepted.status_code == 200
        assert rig.client.get("/health").status_code == 200  # only the webhook is guarded
    refusals = [r for r in caplog.records if "missing or wrong token" in r.getMessage()]
    assert len(refusals) == 3
    assert "s3cret" not in caplog.text


FIXTURES = Path(__file__).parent / "fixtures"


def test_a_request_exactly_as_rasa_3_6_sends_it(rig: Rig) -> None:
    """A hand-checked body in Rasa 3.6.21's shape (every key its tracker state has): Ava answers "both"
    at the role question; the answer and the next question come back in rasa-sdk's own shape. The
    fixture leaves `domain` empty; Rasa sends the whole domain, here the project's own."""
    body = json.loads((FIXTURES / "validate_login_form_role.json").read_text(encoding="utf-8"))
    body["domain"] = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    response = rig.call(body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "events": [
            {"event": "slot", "timestamp": None, "name": "role", "value": "supervisor_agent"},
            {"event": "slot", "timestamp": None, "name": "requested_slot", "value": "call_preference"},
        ],
        "responses": [
            {
                "text": "How do you want to handle calls?",
                "buttons": [
                    {"title": "Desktop (browser, WebRTC)", "payload": '/inform{"call_preference":"desktop"}'},
                    {"title": "Extension", "payload": '/inform{"call_preference":"extension"}'},
                    {"title": "Dial number", "payload": '/inform{"call_preference":"dial_number"}'},
                ],
                "elements": [],
                "custom": {},
                "template": None,
                "response": None,
                "image": None,
                "attachment": None,
            }
        ],
    }
