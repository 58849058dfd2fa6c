"""Socket Mode serves no HTTP of its own: `loginbot serve slack` then serves `/healthz`, `/readyz`
and `/metrics` on `--port`, beside its Socket Mode connection."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.channels.processes import free_port
from tests.slack.support import SECRET, TOKEN
from tests.slack.test_socket_mode import APP_TOKEN, SocketModeDouble, SocketModeSlack, socket_slack

__all__ = ["socket_slack"]  # the fixture, used below


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_socket_mode_serves_its_probes_and_metrics(tmp_path: Path, socket_slack: SocketModeSlack) -> None:
    double = SocketModeDouble(socket_slack.url)
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "LOGINBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'socket.db'}",
        "LOGINBOT_SIMULATOR_STATE": "",
        "LOGINBOT_BACKEND": "simulator",
    }
    with double.running():
        env["SLACK_API_URL"] = double.url
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "slack", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=tmp_path,
        )
        try:
            socket_slack.wait_connected(timeout=90)
            base = f"http://127.0.0.1:{port}"
            double.wait_for(lambda: answers(f"{base}/healthz"), timeout=30, what="the probes")
            assert httpx.get(f"{base}/healthz").json() == {"status": "alive"}
            ready = httpx.get(f"{base}/readyz", timeout=10)
            assert ready.status_code == 200, ready.text
            assert set(ready.json()["checks"]) == {"database", "backend"}
            assert "loginbot_inbox_depth" in httpx.get(f"{base}/metrics").text
        finally:
            process.kill()
            process.wait(10)
