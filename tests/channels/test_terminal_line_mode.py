"""`loginbot chat` in line mode, driven end to end as another program would: a real process, the
embedded simulator, a SQLite file in a temporary directory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.flow.catalog import Catalog

AVA = "ava.lead@example.com"
TRACKING_ID = re.compile(r"LOGINBOT-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CATALOG = Catalog.default()
# Sign in, Supervisor and Agent, Dial number, +12125550102, Billing, no auto-login, Save and continue.
SIGN_IN = ["1", "2", "3", "2", "Billing", "2", "1"]
TIMEOUT = 120


def success_prefix(language: str) -> str:
    return CATALOG.text(language, "outcome.login_success").split("{tracking_id}")[0].strip()


def environment(directory: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGINBOT_", "WXCC_", "SLACK_"))}
    env["LOGINBOT_DATABASE_URL"] = f"sqlite:///{directory / 'x.db'}"
    env["LOGINBOT_SIMULATOR_STATE"] = str(directory / "sim.json")
    env["PYTHONUNBUFFERED"] = "1"
    env["LOGINBOT_PROGRESS_AFTER"] = "60"  # no progress line: the output must not depend on timing
    return env


def chat(
    directory: Path, lines: list[str] | bytes, *args: str, user: str | None = AVA
) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "bot.cli", "chat", *args]
    if user is not None:
        command += ["--user", user]
    data = lines if isinstance(lines, bytes) else "".join(f"{line}\n" for line in lines).encode("utf-8")
    return subprocess.run(
        command, input=data, cwd=directory, env=environment(directory), capture_output=True, timeout=TIMEOUT
    )


def no_traceback(result: subprocess.CompletedProcess[bytes]) -> None:
    for stream in (result.stdout, result.stderr):
        text = stream.decode("utf-8", "replace")
        assert "Traceback" not in text, text[-3000:]
        assert "Error:" not in text, text[-3000:]


def turns(stdout: bytes) -> list[str]:
    """The output of each turn: replies, then one empty line."""
    text = stdout.decode("utf-8")
    assert text.endswith("\n\n"), text[-200:]
    return text[:-2].split("\n\n")


def test_a_complete_sign_in_in_english(tmp_path: Path) -> None:
    result = chat(tmp_path, SIGN_IN)
    assert result.returncode == 0, result.stderr.decode()
    no_traceback(result)
    output = turns(result.stdout)
    assert len(output) == 1 + len(SIGN_IN)  # the greeting, then one block per message
    assert output[0].startswith("Hi Ava!")
    last = output[-1]
    assert last.startswith(success_prefix("en")), last
    assert TRACKING_ID.search(last), last
    assert "Supervisor and Agent" in last and "+12125550102" in last and "Billing" in last


def test_a_complete_sign_in_in_french(tmp_path: Path) -> None:
    result = chat(tmp_path, SIGN_IN, "--lang", "fr")
    assert result.returncode == 0, result.stderr.decode()
    no_traceback(result)
    output = turns(result.stdout)
    assert output[0].startswith("Bonjour Ava")
    last = output[-1]
    assert last.startswith(success_prefix("fr")), last
    assert TRACKING_ID.search(last), last
    assert "Superviseur et agent" in last


def test_the_email_comes_from_the_first_line_without_user(tmp_path: Path) -> None:
    result = chat(tmp_path, [AVA, *SIGN_IN], user=None)
    assert result.returncode == 0, result.stderr.decode()
    no_traceback(result)
    output = turns(result.stdout)
    assert output[0].startswith("Hi Ava!")
    assert TRACKING_ID.search(output[-1]), output[-1]


@pytest.mark.parametrize("how", ["option", "first line"])
def test_a_bad_email_is_refused_with_exit_code_2(tmp_path: Path, how: str) -> None:
    if how == "option":
        result = chat(tmp_path, ["log me in"], user="not-an-email")
    else:
        result = chat(tmp_path, ["not-an-email", "log me in"], user=None)
    assert result.returncode == 2
    no_traceback(result)
    assert b"not-an-email" in result.stdout + result.stderr
    assert b"Hi " not in result.stdout


def test_empty_input_without_user_exits_quietly(tmp_path: Path) -> None:
    result = chat(tmp_path, [], user=None)
    assert result.returncode == 0
    no_traceback(result)


def test_a_bad_language_is_refused(tmp_path: Path) -> None:
    result = chat(tmp_path, ["hi"], "--lang", "de")
    assert result.returncode == 2
    no_traceback(result)


def test_huge_lines_and_binary_bytes_are_answered(tmp_path: Path) -> None:
    data = b"".join(
        [
            b"log me in\n",
            b"x" * 100_000 + b"\n",
            b"\xff\xfe\x00\x01\x80binary\xc3\x28\n",
            bytes(range(256)).replace(b"\n", b"") + b"\n",
            b"2\n",
        ]
    )
    result = chat(tmp_path, data)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    no_traceback(result)
    output = turns(result.stdout)
    assert len(output) == 6
    too_long = CATALOG.text("en", "input.too_long", limit=2000, size=100_000)
    assert too_long.split("(")[0] in output[2]
    assert all(block.strip() for block in output)
    # the conversation is intact: "2" still answered the role question
    assert output[-1].startswith(CATALOG.text("en", "ask.call_preference"))


def test_a_second_run_resumes_the_conversation(tmp_path: Path) -> None:
    first = chat(tmp_path, SIGN_IN[:3])
    assert first.returncode == 0
    assert turns(first.stdout)[-1].startswith(
        CATALOG.text("en", "ask.dial_number_with_default", default="")[:20]
    )
    second = chat(tmp_path, SIGN_IN[3:])
    assert second.returncode == 0, second.stderr.decode()
    no_traceback(second)
    output = turns(second.stdout)
    assert output[0].startswith(CATALOG.text("en", "resume.where_we_were"))
    assert TRACKING_ID.search(output[-1]), output[-1]


def test_another_program_can_hold_the_conversation_turn_by_turn(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat", "--user", AVA],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=environment(tmp_path),
    )
    assert process.stdin is not None and process.stdout is not None

    def read_turn() -> list[str]:
        assert process.stdout is not None
        lines: list[str] = []
        while True:
            line = process.stdout.readline()
            assert line, f"end of output before the turn ended: {lines}"
            text = line.decode("utf-8").rstrip("\n")
            if text == "":
                return lines
            lines.append(text)

    try:
        greeting = read_turn()
        assert greeting[0].startswith("Hi Ava!")
        answers = {
            CATALOG.text("en", "ask.role"): "Supervisor and Agent",  # by label
            CATALOG.text("en", "ask.call_preference"): "3",
            CATALOG.text("en", "ask.team"): "bill",
            CATALOG.text("en", "ask.team_which"): "Billing",
            CATALOG.text("en", "ask.auto_login"): "2",
            CATALOG.text("en", "ask.confirm"): "yes",
        }
        replies = greeting
        message = "log me in"
        for _ in range(12):
            process.stdin.write(message.encode() + b"\n")
            process.stdin.flush()  # the process must answer before it sees more input
            replies = read_turn()
            assert replies, message
            if TRACKING_ID.search(replies[0]):
                break
            question = [line for line in replies if not line.startswith("  ")][-1]
            if question.startswith("Which number should ring?"):
                message = "+1 212 555 0102"
                continue
            assert question in answers, replies
            message = answers[question]
        assert replies[0].startswith(success_prefix("en")), replies
        assert "  Team: Billing" in replies
        process.stdin.close()
        assert process.wait(timeout=TIMEOUT) == 0
        assert process.stdout.read() == b""
        assert process.stderr is not None
        assert b"Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_session_survives_in_the_simulator_state_file(tmp_path: Path) -> None:
    result = chat(tmp_path, SIGN_IN)
    assert TRACKING_ID.search(turns(result.stdout)[-1])
    assert "sim.json" in {p.name for p in tmp_path.iterdir()}
    again = chat(tmp_path, ["log me in"])
    output = turns(again.stdout)
    assert output[-1].startswith(CATALOG.text("en", "session.already_here")), output[-1]


def test_the_state_file_is_json(tmp_path: Path) -> None:
    chat(tmp_path, SIGN_IN)
    json.loads((tmp_path / "sim.json").read_text(encoding="utf-8"))
