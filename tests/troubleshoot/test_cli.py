"""`loginbot troubleshoot` and `loginbot report` as subprocesses, on a database in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import ConversationKey, Store
from tests.troubleshoot.conftest import attempt

TIMEOUT = 120
AVA = "ava.lead@example.com"


def loginbot(tmp_path: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGINBOT_")}
    env["LOGINBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    env["LOGINBOT_SIMULATOR_STATE"] = str(tmp_path / "sim.json")
    env["COLUMNS"] = "200"
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
    )


def seed(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'x.db'}")
    now = datetime.now(UTC)
    store.commit_turn(
        key=ConversationKey("slack", "T1", AVA),
        state={},
        step=None,
        language="en",
        expected_version=None,
        attempts=[
            attempt(AVA, at=now - timedelta(days=1), tracking_id="LOGINBOT-ok"),
            attempt(
                AVA,
                "failure",
                "DUPLICATE_LOCATION",
                at=now - timedelta(minutes=5),
                tracking_id="LOGINBOT-cli",
            ),
        ],
    )
    store.close()


def test_troubleshoot_json(tmp_path: Path) -> None:
    seed(tmp_path)
    result = loginbot(tmp_path, "troubleshoot", AVA, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["email"] == AVA and len(data["items"]) == 8
    assert data["items"][0]["status"] == "problem"
    assert {item["id"] for item in data["items"]} == {f"T{n}" for n in range(1, 9)}
    t8 = next(item for item in data["items"] if item["id"] == "T8")
    assert any("LOGINBOT-cli" in line for line in t8["evidence"])


def test_troubleshoot_table_in_french(tmp_path: Path) -> None:
    result = loginbot(tmp_path, "troubleshoot", "tina.teams@example.com", "--lang", "fr")
    assert result.returncode == 0, result.stderr
    assert "Liste de vérification de connexion" in result.stdout
    assert "Authentification Microsoft Teams" in result.stdout


def test_troubleshoot_by_tracking_id(tmp_path: Path) -> None:
    seed(tmp_path)
    result = loginbot(tmp_path, "troubleshoot", "LOGINBOT-cli", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tracking_id"] == "LOGINBOT-cli"
    missing = loginbot(tmp_path, "troubleshoot", "LOGINBOT-nope")
    assert missing.returncode == 1 and "LOGINBOT-nope" in missing.stderr


def test_troubleshoot_as_another_requester(tmp_path: Path) -> None:
    refused = loginbot(tmp_path, "troubleshoot", AVA, "--as", "alex.agent@example.com")
    assert refused.returncode == 1
    assert "Only administrators" in refused.stderr and refused.stdout == ""
    own = loginbot(tmp_path, "troubleshoot", AVA, "--as", AVA, "--json")
    assert own.returncode == 0 and json.loads(own.stdout)["email"] == AVA
    admin = loginbot(
        tmp_path, "troubleshoot", AVA, "--as", "x@example.com", "--json", LOGINBOT_ADMINS="x@example.com"
    )
    assert admin.returncode == 0, admin.stderr


def test_report_with_png_and_json(tmp_path: Path) -> None:
    seed(tmp_path)
    chart = tmp_path / "chart.png"
    result = loginbot(tmp_path, "report", "--days", "3", "--png", str(chart), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["days"]) == 3 and data["failures_by_reason"] == {"DUPLICATE_LOCATION": 1}
    assert data["successes"] == 1
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    table = loginbot(tmp_path, "report")
    assert table.returncode == 0 and "DUPLICATE_LOCATION" in table.stdout
