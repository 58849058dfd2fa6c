"""The action server's wire behaviour, as rasa-sdk serves it: health, actions, errors, the token."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.channels.rasa import RasaSettings
from bot.channels.rasa.actions import ACTIONS

from .support import Conversation, Rig, running_server, texts

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


def test_an_exception_inside_an_action_becomes_a_message(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(rig.services.assistant, "run_flow", broken)
    conversation = Conversation()
    conversation.user("sign me out", "logout")
    response = rig.call(conversation.action("action_station_logout"))
    assert response.status_code == 200
    assert "something went wrong on my side" in texts(response.json())
    assert "boom" not in response.text


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
