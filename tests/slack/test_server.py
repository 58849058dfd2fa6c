"""The ASGI wiring (the OAuth callback hook) and `loginbot serve slack`'s refusal without secrets."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.channels.slack import build_app, make_client
from bot.channels.slack.server import EVENTS_PATH, build_asgi, oauth_callback_routes


class _OAuth:
    redirect_uri = "http://127.0.0.1:3000/wxcc/callback"

    def __init__(self) -> None:
        self.completed: list[tuple[str, str]] = []

    async def complete_authorization(self, code: str, state: str) -> tuple[str, str]:
        self.completed.append((code, state))
        return "ava.lead@example.com", ""


def test_the_real_api_oauth_callback_is_mounted_beside_the_slack_route() -> None:
    oauth = _OAuth()
    # No Slack request reaches the assistant here: the channel's inbox gets a store it never uses.
    assistant: Any = SimpleNamespace(backend=SimpleNamespace(oauth=oauth), store=None)
    app = build_app(
        assistant, signing_secret="s", client=make_client("xoxb-x", api_url="http://127.0.0.1:9/")
    )
    with TestClient(build_asgi(app, routes=oauth_callback_routes(assistant))) as client:
        page = client.get("/wxcc/callback", params={"code": "c", "state": "st"})
        assert page.status_code == 200 and "ava.lead@example.com" in page.text
        assert oauth.completed == [("c", "st")]
        assert (
            client.post(EVENTS_PATH, content=b"{}", headers={"Content-Type": "application/json"}).status_code
            == 401
        )
        assert client.get(EVENTS_PATH).status_code == 405


def test_no_callback_route_for_the_simulator() -> None:
    assert oauth_callback_routes(SimpleNamespace(backend=object())) == []  # type: ignore[arg-type]


def test_serve_slack_refuses_to_start_without_its_secrets(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LOGINBOT_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "slack"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN not set" in result.stderr
    env["SLACK_SIGNING_SECRET"] = "s"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "slack", "--port", "0"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "SLACK_BOT_TOKEN not set" in result.stderr
    assert "SLACK_SIGNING_SECRET" not in result.stderr.split("not set")[0]


def test_serve_slack_is_listed_in_the_help(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "slack" in result.stdout and "actions" in result.stdout


def test_building_the_app_with_the_token_in_the_environment_warns_of_nothing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Bolt reads SLACK_BOT_TOKEN itself and would warn at every start that it goes unused."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")
    assistant: Any = SimpleNamespace(store=None)
    with caplog.at_level(logging.DEBUG):
        build_app(
            assistant,
            signing_secret="s",
            client=make_client("xoxb-from-the-environment", api_url="http://127.0.0.1:9/"),
        )
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
