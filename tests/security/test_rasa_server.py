"""The Rasa action server's attack surface (findings of the security review, each a test):

* a small `deflate` body that inflates to hundreds of megabytes is refused (413) while inflating,
  and a large plain body before it is read;
* unknown paths are 404 and wrong methods 405, never 500;
* the server refuses to listen beyond loopback without a token unless told an open server is intended;
* no text or slot over the one input limit is parsed or echoed back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.rasa import RasaSettings
from bot.flow.catalog import Catalog
from bot.limits import MAX_INPUT_CHARS
from tests.channels.processes import clean_environment, free_port
from tests.rasa.support import Conversation, Rig, running_server, texts

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CATALOG = Catalog.default()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with running_server(tmp_path) as running:
        yield running


def _bomb(megabytes: int) -> bytes:
    """An action call whose one slot holds `megabytes` MB of spaces, deflated: a few hundred KB."""
    head = json.dumps(Conversation().action("action_show_preferences"))[:-1] + ', "padding": "'
    deflate = zlib.compressobj(9)
    parts = [deflate.compress(head.encode())]
    chunk = b" " * 1_000_000
    parts.extend(deflate.compress(chunk) for _ in range(megabytes))
    parts.append(deflate.compress(b'"}'))
    parts.append(deflate.flush())
    return b"".join(parts)


def test_a_decompression_bomb_is_refused_while_inflating(rig: Rig) -> None:
    bomb = _bomb(200)
    assert len(bomb) < 400_000
    response = rig.client.post("/webhook", content=bomb, headers={"Content-Encoding": "deflate"})
    assert response.status_code == 413
    assert rig.client.get("/health").status_code == 200


def test_a_deflate_body_within_the_limits_still_works(rig: Rig) -> None:
    body = zlib.compress(json.dumps(Conversation().action("action_show_preferences")).encode())
    response = rig.client.post("/webhook", content=body, headers={"Content-Encoding": "deflate"})
    assert response.status_code == 200
    assert response.json()["responses"]


@pytest.mark.parametrize("body", [b"", b"x\x9c", zlib.compress(b"[1]") + b"trailing"], ids=repr)
def test_a_deflate_body_that_is_not_one_complete_stream_is_400(rig: Rig, body: bytes) -> None:
    response = rig.client.post("/webhook", content=body, headers={"Content-Encoding": "deflate"})
    assert response.status_code == 400


def test_a_large_plain_body_is_refused_before_it_is_read(rig: Rig) -> None:
    limit = rig.services.settings.max_body_bytes
    declared = rig.client.post("/webhook", content=b" " * (limit + 1))
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    streamed = rig.client.post("/webhook", content=chunks())
    assert streamed.status_code == 413
    assert rig.client.get("/health").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nope", 404),
        ("POST", "/webhook/extra", 404),
        ("GET", "/webhook", 405),
        ("PUT", "/webhook", 405),
        ("DELETE", "/health", 405),
        ("POST", "/actions", 405),
        ("PATCH", "/actions", 405),
    ],
)
def test_unknown_paths_are_404_and_wrong_methods_405(rig: Rig, method: str, path: str, status: int) -> None:
    response = rig.client.request(method, path)
    assert response.status_code == status
    if status == 405:
        assert response.headers["allow"]


def test_the_token_is_checked_before_the_body_is_read(tmp_path: Path) -> None:
    with running_server(tmp_path, rasa=RasaSettings(trust_email_metadata=True, token="t0ken")) as rig:
        huge = rig.client.post("/webhook", content=b" " * (rig.services.settings.max_body_bytes + 1))
        assert huge.status_code == 401


def _serve_actions(directory: Path, host: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = clean_environment(LOGINBOT_DATABASE_URL=f"sqlite:///{directory / 'x.db'}", **settings)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "actions", "--host", host, "--port", str(free_port())],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_no_listening_beyond_loopback_without_a_token(tmp_path: Path) -> None:
    refused = _serve_actions(tmp_path, "0.0.0.0")
    assert refused.returncode == 2
    assert "LOGINBOT_RASA_TOKEN" in refused.stderr
    assert "LOGINBOT_RASA_ALLOW_NO_TOKEN" in refused.stderr


def test_open_is_allowed_when_asked_for_explicitly() -> None:
    from bot.channels.rasa.server import ExposedWithoutToken, check_exposure

    check_exposure(RasaSettings(), "127.0.0.1")
    check_exposure(RasaSettings(), "::1")
    check_exposure(RasaSettings(token="x" * 32), "0.0.0.0")
    check_exposure(RasaSettings(allow_no_token=True), "0.0.0.0")
    with pytest.raises(ExposedWithoutToken):
        check_exposure(RasaSettings(), "10.1.2.3")
    with pytest.raises(ExposedWithoutToken):
        check_exposure(RasaSettings(), "example.org")


# -- the one input limit ----------------------------------------------------------------------------


def test_a_long_text_is_refused_never_parsed(rig: Rig) -> None:
    conversation = Conversation()
    text = "why can't " + "a" * 30_000 + "@example.com sign in"
    conversation.user(text, "troubleshoot_login")
    response = rig.call(conversation.action("action_troubleshoot_login"))
    assert response.status_code == 200
    said = texts(response.json())
    assert said == CATALOG.text("en", "input.too_long", limit=MAX_INPUT_CHARS, size=len(text))
    assert "aaaa" not in said


def test_a_long_slot_is_emptied_never_echoed(rig: Rig) -> None:
    conversation = Conversation()
    conversation.user("log me in", "login")
    conversation.start_form()
    conversation.slots["team"] = "Billing " * 7000
    response = rig.call(conversation.validate(team="Billing " * 7000))
    assert response.status_code == 200
    body = response.json()
    assert "Billing Billing" not in response.text
    assert {"event": "slot", "timestamp": None, "name": "team", "value": None} in body["events"]
    assert texts(body) == CATALOG.text("en", "input.too_long", limit=MAX_INPUT_CHARS, size=56_000)


def test_within_the_limit_the_text_is_read(rig: Rig) -> None:
    conversation = Conversation()
    conversation.user("checklist for alex.agent@example.com " + "please " * 200, "troubleshoot_login")
    response = rig.call(conversation.action("action_troubleshoot_login"))
    assert response.status_code == 200
    assert CATALOG.text("en", "input.too_long", limit=0, size=0)[:20] not in texts(response.json())
