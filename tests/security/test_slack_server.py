"""The Slack HTTP endpoint (findings of the security review, each a test): a malformed timestamp is
401 (not 500), a rejected body is never logged, and log masking covers numbers written URL-encoded,
spaced out or dotted, as a form body carries them."""

from __future__ import annotations

import json
import logging
import time
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.channels.slack import build_app, make_client
from bot.channels.slack.server import EVENTS_PATH, build_asgi
from bot.log import RedactingFilter, redact
from tests.slack.support import SECRET, sign

SECRETLY = "06+12+34+56+78"


@pytest.fixture
def client() -> Any:
    assistant: Any = SimpleNamespace(backend=object(), store=None)
    app = build_app(
        assistant, signing_secret=SECRET, client=make_client("xoxb-x", api_url="http://127.0.0.1:9/")
    )
    with TestClient(build_asgi(app), raise_server_exceptions=False) as test_client:
        yield test_client


def _post(client: Any, body: bytes, timestamp: str, signature: str | None = None) -> Any:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature if signature is not None else sign(body, timestamp),
    }
    return client.post(EVENTS_PATH, content=body, headers=headers)


@pytest.mark.parametrize("timestamp", ["abc", "12.5", "-1", "", " 1", "1_000", "1e3", "9" * 40])
def test_a_malformed_timestamp_is_401(client: Any, timestamp: str) -> None:
    body = b"command=%2Flogin&text=hello&user_id=U1&team_id=T1"
    response = _post(client, body, timestamp, signature="v0=" + "0" * 64)
    assert response.status_code == 401


def test_a_rejected_body_is_never_logged(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    body = f"command=%2Flogin&text=call+me+on+{SECRETLY}+secret-words&user_id=U1&team_id=T1".encode()
    # At INFO, as `LOGINBOT_LOG_LEVEL=INFO` sets Bolt's loggers: where Bolt logged the whole body.
    with (
        caplog.at_level(logging.INFO),
        caplog.at_level(logging.INFO, logger="slack_bolt.RequestVerification"),
    ):
        forged = _post(client, body, str(int(time.time())), signature="v0=" + "0" * 64)
        stale = _post(client, body, str(int(time.time()) - 3600))
    assert (forged.status_code, stale.status_code) == (401, 401)
    assert "secret-words" not in caplog.text
    assert "06+12" not in caplog.text
    assert any("invalid or stale signature" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "text",
    [
        f"text=call+me+on+{SECRETLY}",
        "text=%2B33%206%2012%2034%2056%2078",
        "number: 0 6 1 2 3 4 5 6 7 8",
        "number: 06  12  34  56  78",
        "number: 06.12.34.56.78",
        json.dumps({"text": "+33 6 12 34 56 78"}),
    ],
)
def test_masking_covers_encoded_spaced_and_dotted_numbers(text: str) -> None:
    masked = redact(text)
    assert "78" in masked
    for fragment in ("12", "34", "56"):
        assert fragment not in masked.replace("2B", "").replace("%20", ""), masked


def test_masking_through_the_logging_filter(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.security.masking")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("a form: %s", f"text={SECRETLY}")
    assert "06+12" not in caplog.text and "********78" in caplog.text


def test_dates_times_and_ids_keep_their_shape() -> None:
    for text in ("2024-01-02 12:30:00", "LOGINBOT-1234", "took 1234 ms", "id 12345"):
        assert redact(text) == text
