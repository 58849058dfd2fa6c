"""JSON log lines (`LOGINBOT_LOG_FORMAT=json`) keep the masking of the text format and carry the
turn's context; the metrics count what happened, with labels that never hold a user; `--version`."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from bot.assistant import Assistant
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorBackend, SimulatorCore, load_tenant
from bot.flow.engine import FlowEngine, UserMessage
from bot.log import configure, conversation_hash, log_context, set_tracking_id
from bot.ops.metrics import endpoint_of, record_backend_call
from intents.recognizer import Recognizer
from storage import ConversationKey, Store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The root logger configured as `loginbot` does with LOGINBOT_LOG_FORMAT=json, into a buffer."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure("INFO", "json")
    stream = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_masks_phone_numbers_and_tokens(json_lines: io.StringIO) -> None:
    logging.getLogger("bot.test").warning("dialing %s with %s", "+1 415 555 0101", "Bearer abc.def")
    (line,) = lines(json_lines)
    assert line["message"] == "dialing +*********01 with [redacted]"
    assert "415" not in json_lines.getvalue() and "abc.def" not in json_lines.getvalue()
    assert (line["level"], line["logger"]) == ("WARNING", "bot.test")
    assert {"time", "channel", "conversation", "tracking_id"} <= set(line)


def test_a_json_line_carries_the_turn_context(json_lines: io.StringIO) -> None:
    key = ConversationKey("slack", "T1", "someone@example.com")
    with log_context(channel="slack", key=key):
        set_tracking_id("tid-123")
        logging.getLogger("bot.test").info("inside a turn")
    logging.getLogger("bot.test").info("outside")
    inside, outside = lines(json_lines)
    assert inside["channel"] == "slack"
    assert inside["conversation"] == conversation_hash(key) and len(str(inside["conversation"])) == 16
    assert "someone" not in json_lines.getvalue()  # the key's hash, never the email
    assert inside["tracking_id"] == "tid-123"
    assert (outside["channel"], outside["conversation"], outside["tracking_id"]) == ("", "", "")


def test_a_traceback_only_at_debug_in_json_too(json_lines: io.StringIO) -> None:
    try:
        raise ValueError("call +33 1 99 00 12 34")
    except ValueError:
        logging.getLogger("bot.test").exception("failed")
    (line,) = lines(json_lines)
    assert line["message"] == "failed"
    assert "exc_info" not in line and "Traceback" not in json_lines.getvalue()


def test_the_server_writes_only_json_lines(tmp_path: Path) -> None:
    """`serve slack --workers 2` with LOGINBOT_LOG_FORMAT=json: every line it writes to standard
    error, gunicorn's and uvicorn's included, is one JSON object."""
    import os
    import signal

    import httpx

    from tests.channels.processes import free_port
    from tests.reliability.support import wait_until

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGINBOT_", "SLACK_", "WXCC_"))}
    env.update(
        LOGINBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'json.db'}",
        LOGINBOT_SIMULATOR_STATE="",
        LOGINBOT_LOG_FORMAT="json",
        LOGINBOT_LOG_LEVEL="INFO",
        SLACK_SIGNING_SECRET="secret",
        SLACK_BOT_TOKEN="xoxb-json-test",
    )
    command = [sys.executable, "-m", "bot.cli", "serve", "slack", "--port", str(port), "--workers", "2"]
    with (tmp_path / "err").open("wb") as err:
        server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:

        def ready() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                assert server.poll() is None, (tmp_path / "err").read_text()
                return False

        wait_until(ready, timeout=120, what="the server ready")
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    written = (tmp_path / "err").read_text().splitlines()
    parsed = [json.loads(line) for line in written]  # raises on a line that is not JSON
    loggers = {line["logger"] for line in parsed}
    assert {"gunicorn.error", "uvicorn.error"} <= loggers, loggers
    assert all({"time", "level", "message"} <= set(line) for line in parsed)


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        (
            "https://api.example/organization/6f1e-44/agent-profile/ap-12",
            "/organization/{id}/agent-profile/{id}",
        ),
        ("http://127.0.0.1:8080/v1/agents/login", "/v1/agents/login"),
        ("http://h/v1/people?email=a@b.c", "/v1/people"),
        (
            "http://h/organization/o/v2/user/by-ci-user-id/ci-load-01",
            "/organization/o/v2/user/by-ci-user-id/{id}",
        ),
    ],
)
def test_endpoints_are_path_templates(url: str, endpoint: str) -> None:
    assert endpoint_of(url) == endpoint


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_backend_calls_are_counted_by_endpoint_and_status() -> None:
    before = sample("loginbot_backend_calls_total", method="POST", endpoint="/v1/agents/login", status="503")
    record_backend_call("POST", "http://x/v1/agents/login", 503, 0.2)
    after = sample("loginbot_backend_calls_total", method="POST", endpoint="/v1/agents/login", status="503")
    assert after == before + 1
    assert sample("loginbot_backend_call_seconds_count", method="POST", endpoint="/v1/agents/login") >= 1


TO_CONFIRM = (
    UserMessage(choice="cmd:login"),
    UserMessage(choice="role:supervisor_agent"),
    UserMessage(choice="call:dial_number"),
    UserMessage("+1 212 555 0102"),
    UserMessage("Billing"),
    UserMessage(choice="auto:no"),
)
AVA = "ava.lead@example.com"


@pytest.mark.parametrize(
    ("number", "outcome", "reason"),
    [("+1 212 555 0102", "success", ""), ("+1 415 555 0123", "failure", "DUPLICATE_LOCATION")],
)
def test_sign_ins_are_counted_by_outcome_and_reason(
    tmp_path: Path, number: str, outcome: str, reason: str
) -> None:
    """A sign-in through the assistant (the demo tenant's busy number is refused): the committed
    attempt is counted once, with its outcome and reason."""
    store = Store.from_url(f"sqlite:///{tmp_path / 'm.db'}")
    core = SimulatorCore(load_tenant(DEMO_TENANT_FILE))
    assistant = Assistant(
        engine=FlowEngine(Recognizer.default()), store=store, backend=SimulatorBackend(core)
    )
    key = ConversationKey("terminal", "local", AVA)
    before = sample("loginbot_signins_total", outcome=outcome, reason=reason)
    messages = (*TO_CONFIRM[:3], UserMessage(number), *TO_CONFIRM[4:], UserMessage(choice="confirm:yes"))

    async def sign_in() -> None:
        await assistant.open(key)
        for message in messages:
            await assistant.handle(key, message)
        await assistant.aclose()

    try:
        asyncio.run(sign_in())
        assert [(a.outcome, a.reason or "") for a in store.recent_attempts(AVA)] == [(outcome, reason)]
    finally:
        store.close()
    assert sample("loginbot_signins_total", outcome=outcome, reason=reason) == before + 1


def test_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--version"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    from importlib.metadata import version

    assert done.stdout.strip() == f"loginbot {version('loginbot')}"
