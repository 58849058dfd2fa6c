"""The real-API path end to end, as a user would run it: `loginbot simulator` in one process standing
for Webex Contact Center, `loginbot chat` (line mode, `LOGINBOT_BACKEND=wxcc`) in another, the OAuth
consent followed like a browser would, and the simulator's admin endpoints as the tenant's truth."""

from __future__ import annotations

import email
import email.policy
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.flow.catalog import Catalog
from bot.secrets import Cipher
from tests.channels.processes import Process, clean_environment, free_port, start_simulator

AVA = "ava.lead@example.com"
SECRET_KEY = "an end-to-end test key for loginbot, long and random enough"
CLIENT_ID = "loginbot-simulator"  # what `loginbot simulator` registers by default
CLIENT_SECRET = "simulator-secret"
TRACKING_ID = re.compile(r"LOGINBOT-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
AUTHORIZE_LINK = re.compile(r"https?://\S+/v1/authorize\?\S+")
CATALOG = Catalog.default()
# The dialogue's questions and the answers Ava gives; any question not listed fails the test.
ANSWERS = {
    CATALOG.text("en", "ask.role"): "Supervisor and Agent",
    CATALOG.text("en", "ask.call_preference"): "Dial number",
    CATALOG.text("en", "ask.team"): "Billing",
    CATALOG.text("en", "ask.team_which"): "Billing",
    CATALOG.text("en", "ask.auto_login"): "no",
    CATALOG.text("en", "ask.confirm"): "yes",
}
NUMBER = "+1 212 555 0102"
HTTP_TIMEOUT = 30.0


@dataclass
class Rig:
    directory: Path
    simulator: Process
    base_url: str
    callback_port: int

    @property
    def database(self) -> Path:
        return self.directory / "loginbot.db"

    @property
    def outbox(self) -> Path:
        """Where the embedded mailer writes the email-proof codes (no SMTP server configured)."""
        return self.directory / "outbox.txt"

    def chat_environment(self) -> dict[str, str]:
        return clean_environment(
            LOGINBOT_BACKEND="wxcc",
            LOGINBOT_DATABASE_URL=f"sqlite:///{self.database}",
            LOGINBOT_SECRET_KEY=SECRET_KEY,
            LOGINBOT_OAUTH_REDIRECT_URI=f"http://127.0.0.1:{self.callback_port}/oauth/callback",
            LOGINBOT_LOG_LEVEL="DEBUG",  # the most a log can say: still no secret (X4)
            LOGINBOT_OUTBOX=str(self.outbox),
            WXCC_API_URL=self.base_url,
            WXCC_OAUTH_URL=f"{self.base_url}/v1",
            WXCC_ORG_ID="demo-org",
            WXCC_CLIENT_ID=CLIENT_ID,
            WXCC_CLIENT_SECRET=CLIENT_SECRET,
        )

    def chat(self) -> Process:
        return Process(["chat", "--user", AVA], env=self.chat_environment(), cwd=self.directory)

    def recorded(self, method: str = "", path: str = "") -> list[dict[str, object]]:
        """The simulator's request log (`GET /admin/requests`), oldest first."""
        answer = httpx.get(
            f"{self.base_url}/admin/requests", params={"method": method, "path": path}, timeout=HTTP_TIMEOUT
        )
        answer.raise_for_status()
        records = answer.json()
        assert isinstance(records, list)
        return records


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    simulator, base_url = start_simulator(tmp_path)
    try:
        yield Rig(tmp_path, simulator, base_url, free_port())
    finally:
        simulator.kill()


def last_code(outbox: Path) -> str:
    """The six-digit code of the last email in the outbox file (`--- stamp` lines separate them)."""
    chunks = [c for c in re.split(r"^--- .*$", outbox.read_text(encoding="utf-8"), flags=re.M) if c.strip()]
    message = email.message_from_string(chunks[-1].lstrip("\n"), policy=email.policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(r"\b(\d{6})\b", body.get_content())
    assert found is not None, "no code in the last email"
    return found.group(1)


def greeting(rig: Rig, chat: Process) -> list[str]:
    """The chat's first turn, after proving the email with the code sent to it when asked (S14)."""
    first = chat.read_turn()
    if not rig.outbox.exists() or AUTHORIZE_LINK.search("\n".join(first)) or first[0].startswith("Hi "):
        return first
    chat.send(last_code(rig.outbox))
    return chat.read_turn()


def consent(link: str) -> httpx.Response:
    """What the browser does: open the link; the simulator consents and redirects to the callback."""
    return httpx.get(link, follow_redirects=True, timeout=HTTP_TIMEOUT)


def sign_in(chat: Process) -> list[str]:
    """Hold the conversation from "log me in" to its outcome; returns the last turn's lines."""
    message = "log me in"
    for _ in range(12):
        chat.send(message)
        replies = chat.read_turn()
        assert replies, message
        if TRACKING_ID.search(" ".join(replies)):
            return replies
        question = [line for line in replies if not line.startswith("  ")][-1]
        if question.startswith("Which number should ring?"):
            message = NUMBER
            continue
        assert question in ANSWERS, replies
        message = ANSWERS[question]
    raise AssertionError("the sign-in never reached an outcome")


def stored_tokens(database: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT access_token_encrypted, refresh_token_encrypted FROM oauth_tokens"
        ).fetchall()
    return [(str(access), refresh) for access, refresh in rows]


def database_bytes(database: Path) -> bytes:
    """The SQLite file with its journal files, as an attacker copying the disk would get it."""
    return b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))


def test_authorize_then_sign_in_then_restart_without_authorizing_again(rig: Rig) -> None:
    success = CATALOG.text("en", "outcome.login_success").split("{tracking_id}")[0].strip()
    with rig.chat() as chat:
        opening = greeting(rig, chat)
        links = AUTHORIZE_LINK.findall("\n".join(opening))
        assert len(links) == 1, opening
        query = parse_qs(urlsplit(links[0]).query)
        assert query["code_challenge_method"] == ["S256"] and query["login_hint"] == [AVA]
        assert query["redirect_uri"] == [f"http://127.0.0.1:{rig.callback_port}/oauth/callback"]

        page = consent(links[0])
        assert page.status_code == 200, page.text
        assert f"authorized for {AVA}" in page.text
        assert str(page.url).startswith(f"http://127.0.0.1:{rig.callback_port}/oauth/callback")

        last = sign_in(chat)
        assert last[0].startswith(success), last
        tracking_id = TRACKING_ID.search(" ".join(last))
        assert tracking_id is not None
        assert "  Team: Billing" in last
        chat.close_input()
        assert chat.wait() == 0, chat.transcript()
    first_run_logs = "\n".join(chat.stdout + chat.stderr)

    logins = rig.recorded("POST", "/v1/agents/login")
    assert len(logins) == 1, "signed in exactly once"
    assert logins[0]["status"] == 202 and logins[0]["trackingId"] == tracking_id.group(0)
    assert isinstance(logins[0]["body"], dict) and logins[0]["body"]["teamId"]

    # Tokens at rest: encrypted with LOGINBOT_SECRET_KEY, never in clear in the database file.
    rows = stored_tokens(rig.database)
    assert len(rows) == 1
    cipher = Cipher(SECRET_KEY)
    access = cipher.decrypt(rows[0][0])
    assert rows[0][1] is not None
    refresh = cipher.decrypt(rows[0][1])
    me = httpx.get(f"{rig.base_url}/v1/people/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200 and AVA in me.json()["emails"], "the stored token is the real one"
    on_disk = database_bytes(rig.database)
    for secret in (access, refresh):
        assert secret.encode() not in on_disk
    for secret in (access, refresh, CLIENT_SECRET):
        assert secret not in first_run_logs
        assert secret not in "\n".join(rig.simulator.stdout + rig.simulator.stderr)

    # A new process on the same database: no new authorization, and it sees the session (reload).
    with rig.chat() as again:
        opening = again.read_turn()  # no code either: the proof is remembered for this account
        assert not AUTHORIZE_LINK.search("\n".join(opening)), opening
        assert opening[0].startswith("Hi Ava"), opening
        again.send("log me in")
        replies = again.read_turn()
        assert replies[0].startswith(CATALOG.text("en", "session.already_here")), replies
        again.close_input()
        assert again.wait() == 0, again.transcript()
        assert access not in "\n".join(again.stdout + again.stderr)
    assert len(rig.recorded("POST", "/v1/agents/login")) == 1, "still exactly one login"
    grants = rig.recorded("POST", "/v1/access_token")
    assert len(grants) == 1, "the code was exchanged once; the restart reused the stored tokens"
    assert len(rig.recorded("GET", "/v1/authorize")) == 1


def test_an_outage_from_the_start_is_explained_then_switched_off_over_http(tmp_path: Path) -> None:
    """`loginbot simulator --outage`: the chat explains the failure with a tracking id (X3); once
    `PUT /admin/outage` ends it, the same conversation goes on."""
    simulator, base_url = start_simulator(tmp_path, "--outage")
    try:
        rig = Rig(tmp_path, simulator, base_url, free_port())
        assert httpx.get(f"{base_url}/admin/outage", timeout=HTTP_TIMEOUT).json() == {"outage": True}
        with rig.chat() as chat:
            links = AUTHORIZE_LINK.findall("\n".join(greeting(rig, chat)))
            assert len(links) == 1
            assert consent(links[0]).status_code == 200, "OAuth (webexapis.com) is not part of the outage"
            chat.send("log me in")
            failed = chat.read_turn()
            assert failed[0] == CATALOG.text("en", "failure.SERVICE_ERROR"), failed
            tracking_id = TRACKING_ID.search(" ".join(failed))
            assert tracking_id is not None, failed
            answered = [r for r in rig.recorded() if r["trackingId"] == tracking_id.group(0)]
            assert answered and answered[-1]["status"] == 503, "the id of a request the outage refused"

            switched = httpx.put(f"{base_url}/admin/outage", json={"outage": False}, timeout=HTTP_TIMEOUT)
            assert switched.json() == {"outage": False}
            chat.send("log me in")
            assert chat.read_turn()[0] == CATALOG.text("en", "ask.role")
            chat.close_input()
            assert chat.wait() == 0, chat.transcript()
        assert rig.recorded("POST", "/v1/agents/login") == []
    finally:
        simulator.kill()
