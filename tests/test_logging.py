"""X4: phone numbers are masked in logs (last two digits kept) and tokens never written."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorBackend, SimulatorCore, load_tenant
from bot.flow.engine import FlowEngine, UserMessage
from bot.log import RedactingFilter, redact
from intents.recognizer import Recognizer
from storage import ConversationKey, Store


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("dialing +14155550101 now", "dialing +*********01 now"),
        ("+1 415 555 0101", "+*********01"),
        ("+1-415-555-0101", "+*********01"),
        ("+33 1 99 00 12 34", "+*********34"),
        ("011 61 2 9374 4000", "************00"),
        ("0033 1 99 00 12 34", "***********34"),
        ("number=+12125550102.", "number=+*********02."),
    ],
)
def test_phone_numbers_keep_only_their_last_two_digits(text: str, masked: str) -> None:
    assert redact(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "extension 2001",
        "took 250 ms for 12 items",
        "id 12345",
        "tracking id LOGINBOT-d714a553-6f58-4ac6-b502-1ddb6e9eafbf",
        "agent ci-ava-lead",
        "version 3 of 10",
    ],
)
def test_short_numbers_and_ids_are_left_alone(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc-def_ghi", "eyJhbGciOiJIUzI1NiJ9"),
        ("authorization: bearer abc123token", "abc123token"),
        ("token xoxb-1234-5678-abcdefABCDEF", "xoxb-1234"),
        ("SLACK_APP_TOKEN=xapp-1-A0123-456-abcdef", "xapp-1"),
        ("user token xoxp-99-88-zz", "xoxp-99"),
        ('{"access_token": "s3cr3tvalue"}', "s3cr3tvalue"),
        ("refresh_token=r3fr3sh", "r3fr3sh"),
    ],
)
def test_tokens_are_redacted(text: str, secret: str) -> None:
    redacted = redact(text)
    assert secret not in redacted
    assert "[redacted]" in redacted


def test_the_filter_redacts_formatted_arguments() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "login on %s with %s", None, None)
    record.args = ("+14155550101", "Bearer abc.def")
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "login on +*********01 with [redacted]"


async def _sign_in(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'log.db'}")
    backend = SimulatorBackend(SimulatorCore(load_tenant(DEMO_TENANT_FILE)))
    assistant = Assistant(engine=FlowEngine(Recognizer.default()), store=store, backend=backend)
    key = ConversationKey("test", "local", "ava.lead@example.com")
    try:
        await assistant.open(key)
        for message in (
            UserMessage("log me in"),
            UserMessage(choice="role:supervisor_agent"),
            UserMessage(choice="call:dial_number"),
            UserMessage("+1 212 555 0102"),
            UserMessage("Billing"),
            UserMessage(choice="auto:no"),
            UserMessage(choice="confirm:yes"),
        ):
            replies = await assistant.handle(key, message)
        assert replies[-1].key == "outcome.login_success", [r.key for r in replies]
    finally:
        await assistant.aclose()


def test_a_full_sign_in_at_debug_never_logs_the_full_number(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    handler_filter = RedactingFilter()
    caplog.handler.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.DEBUG):
            asyncio.run(_sign_in(tmp_path))
    finally:
        caplog.handler.removeFilter(handler_filter)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "station login" in logged  # the runner did log the sign-in
    for needle in ("+12125550102", "12125550102", "2125550102", "212 555 0102", "555-0102"):
        assert needle not in logged, needle


def test_the_runner_masks_the_number_even_without_the_filter(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The runner's own log lines are masked at the source (a handler may lack the filter)."""
    with caplog.at_level(logging.DEBUG):
        asyncio.run(_sign_in(tmp_path))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "station login" in logged
    assert "12125550102" not in logged
