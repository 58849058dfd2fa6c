"""`loginbot serve actions` as a real process: loopback and port options, rasa-sdk's endpoints, the
shared token (refusals logged, the token never), and the settings every channel shares."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.channels.processes import Process, clean_environment, free_port

from .support import Conversation

TOKEN = "a-long-random-shared-token"


def wait_until_up(url: str, process: Process, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"the action server did not answer\n{process.transcript()}")


def test_serve_actions_on_loopback_with_the_token(tmp_path: Path) -> None:
    port = free_port()
    env = clean_environment(
        LOGINBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'loginbot.db'}",
        LOGINBOT_SIMULATOR_STATE="",
        LOGINBOT_RASA_TOKEN=TOKEN,
        LOGINBOT_RASA_TRUST_EMAIL_METADATA="true",
    )
    with Process(["serve", "actions", "--port", str(port)], env=env, cwd=tmp_path) as server:
        server.wait_for_line(lambda line: f"http://127.0.0.1:{port}/webhook" in line)
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, server)
        names = {a["name"] for a in httpx.get(f"{url}/actions", timeout=10).json()}
        assert "action_troubleshoot_login" in names and "validate_login_form" in names

        conversation = Conversation(sender_id="sam", email="sam.supervisor@example.com")
        conversation.user("show my preferences", "show_preferences")
        body = conversation.action("action_show_preferences")
        refused = httpx.post(f"{url}/webhook", json=body, timeout=30)
        assert refused.status_code == 401
        answered = httpx.post(f"{url}/webhook", params={"token": TOKEN}, json=body, timeout=30)
        assert answered.status_code == 200
        assert "no saved preferences" in answered.json()["responses"][0]["text"]
        server.wait_for_line(lambda line: "missing or wrong token" in line)
    assert TOKEN not in "\n".join(server.stdout + server.stderr)
    assert "Traceback" not in "\n".join(server.stderr)
