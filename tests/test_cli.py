"""The `loginbot` command line: help, and `nlu parse` in Rasa's parse format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from intents.recognizer import Recognizer

INTENTS = {
    "greet", "goodbye", "affirm", "deny", "cancel", "help", "login", "logout", "set_availability",
    "reset_auto_login", "show_preferences", "forgot_password", "troubleshoot", "inform", "out_of_scope",
}  # fmt: skip
TIMEOUT = 120


def loginbot(
    tmp_path: Path, *args: str, stdin: str | None = None, **settings: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGINBOT_", "WXCC_", "SLACK_"))}
    env["LOGINBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    env["LOGINBOT_SIMULATOR_STATE"] = str(tmp_path / "sim.json")
    env.update(settings)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
    )


def assert_rasa_parse(result: dict[str, Any], text: str) -> None:
    assert set(result) >= {"text", "intent", "entities", "intent_ranking"}
    assert result["text"] == text
    intent = result["intent"]
    assert set(intent) >= {"name", "confidence"}
    assert intent["name"] in INTENTS
    assert 0.0 <= intent["confidence"] <= 1.0
    assert isinstance(result["entities"], list)
    for entity in result["entities"]:
        assert set(entity) >= {"entity", "value", "start", "end"}
        assert text[entity["start"] : entity["end"]]
    ranking = result["intent_ranking"]
    assert isinstance(ranking, list) and ranking
    for item in ranking:
        assert set(item) >= {"name", "confidence"}
        assert item["name"] in INTENTS
    confidences = [item["confidence"] for item in ranking]
    assert confidences == sorted(confidences, reverse=True)


def test_help_exits_0(tmp_path: Path) -> None:
    result = loginbot(tmp_path, "--help")
    assert result.returncode == 0
    for command in ("chat", "nlu"):
        assert command in result.stdout


def test_chat_help_lists_the_fixed_options(tmp_path: Path) -> None:
    result = loginbot(tmp_path, "chat", "--help")
    assert result.returncode == 0
    assert "--user" in result.stdout and "--lang" in result.stdout


def test_nlu_parse_prints_rasa_json(tmp_path: Path) -> None:
    result = loginbot(tmp_path, "nlu", "parse", "log me in")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    parsed = json.loads(lines[0])
    assert_rasa_parse(parsed, "log me in")
    assert parsed["intent"]["name"] == "login"
    assert parsed == Recognizer.default().parse("log me in").as_rasa()


def test_nlu_parse_reports_entities(tmp_path: Path) -> None:
    text = "sign me in on +1 212 555 0102"
    result = loginbot(tmp_path, "nlu", "parse", text)
    parsed = json.loads(result.stdout)
    assert_rasa_parse(parsed, text)
    numbers = [e for e in parsed["entities"] if e["entity"] == "phone_number"]
    assert [e["value"] for e in numbers] == ["+12125550102"]


def test_nlu_parse_reads_one_message_per_line(tmp_path: Path) -> None:
    messages = ["log me in", "sign me out", "", "déconnecte-moi", "x" * 5000, "\u00e9t\u00e9 \U0001f642"]
    result = loginbot(tmp_path, "nlu", "parse", stdin="".join(m + "\n" for m in messages))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(messages)
    for message, line in zip(messages, lines, strict=True):
        assert_rasa_parse(json.loads(line), message)
    assert json.loads(lines[0])["intent"]["name"] == "login"
    assert json.loads(lines[1])["intent"]["name"] == "logout"
    assert "Traceback" not in result.stderr


def test_nlu_parse_with_empty_input_prints_nothing(tmp_path: Path) -> None:
    result = loginbot(tmp_path, "nlu", "parse", stdin="")
    assert result.returncode == 0
    assert result.stdout == ""


def test_an_unknown_command_fails_cleanly(tmp_path: Path) -> None:
    result = loginbot(tmp_path, "no-such-command")
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr


def test_malformed_settings_are_each_named_with_what_is_wrong(tmp_path: Path) -> None:
    result = loginbot(
        tmp_path,
        "chat",
        "--user",
        "ava.lead@example.com",
        stdin="",
        LOGINBOT_BACKEND="nope",
        WXCC_MAX_CONNECTIONS="0",
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "loginbot: invalid setting LOGINBOT_BACKEND: Input should be 'simulator' or 'wxcc' (got 'nope')",
        "loginbot: invalid setting WXCC_MAX_CONNECTIONS: Input should be greater than or equal to 1"
        " (got '0')",
    ]
    assert "Traceback" not in result.stderr and "errors.pydantic.dev" not in result.stderr
