"""`loginbot chat` on a real tenant (`LOGINBOT_BACKEND=wxcc`), line mode, as a real process: the user
proves their email with the six-digit code sent to it before the conversation starts (S14). The mail
goes to the outbox file (`LOGINBOT_OUTBOX`), where the test reads it as the user reads their mailbox.
No contact center is needed: before its own sign-in (OAuth), loginbot has nothing to ask it."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from bot.identity import identity_catalog
from tests.channels.processes import Process, clean_environment, free_port

AVA = "ava.lead@example.com"
SAM = "sam.supervisor@example.com"
TEXTS = identity_catalog()
AUTHORIZE_LINK = re.compile(r"https?://\S+/authorize\?\S+")


def environment(directory: Path, callback_port: int) -> dict[str, str]:
    closed = free_port()  # nothing listens there: the chat never gets that far in these tests
    return clean_environment(
        LOGINBOT_BACKEND="wxcc",
        LOGINBOT_DATABASE_URL=f"sqlite:///{directory / 'loginbot.db'}",
        LOGINBOT_SECRET_KEY="a terminal identity test key, long and random enough",
        LOGINBOT_OUTBOX=str(directory / "outbox.txt"),
        LOGINBOT_OAUTH_REDIRECT_URI=f"http://127.0.0.1:{callback_port}/oauth/callback",
        LOGINBOT_LOG_LEVEL="DEBUG",
        WXCC_API_URL=f"http://127.0.0.1:{closed}",
        WXCC_OAUTH_URL=f"http://127.0.0.1:{closed}/v1",
        WXCC_ORG_ID="demo-org",
        WXCC_CLIENT_ID="loginbot-test",
        WXCC_CLIENT_SECRET="not-a-real-secret",
    )


def chat(directory: Path, *args: str) -> Process:
    return Process(["chat", *args], env=environment(directory, free_port()), cwd=directory)


def codes(directory: Path, email: str) -> list[str]:
    """The codes mailed to `email`, oldest first."""
    outbox = directory / "outbox.txt"
    if not outbox.exists():
        return []
    found = []
    for message in outbox.read_text(encoding="utf-8").split("\n--- "):
        if f"To: {email}" in message:
            found.extend(re.findall(r"(?:code is|est) (\d{6})\.", message))
    return found


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_the_code_comes_first_then_the_conversation(tmp_path: Path) -> None:
    with chat(tmp_path, "--user", AVA) as process:
        sent = process.read_turn()
        assert sent == [TEXTS.text("en", "identity.code_sent", email=AVA, minutes=10)]
        [code] = codes(tmp_path, AVA)

        process.send(wrong(code))
        assert process.read_turn() == [TEXTS.text("en", "identity.wrong_code", tries=4)]
        process.send("12 34")
        assert process.read_turn() == [TEXTS.text("en", "identity.bad_format")]
        process.send(f" {code[:3]} {code[3:]} ")
        greeting = process.read_turn()
        assert greeting[0] == TEXTS.text("en", "identity.verified", email=AVA)
        # Then the conversation, which on a real tenant starts with the contact center's own sign-in,
        # for that same email.
        [link] = AUTHORIZE_LINK.findall("\n".join(greeting))
        assert parse_qs(urlsplit(link).query)["login_hint"] == [AVA]
        process.close_input()
        assert process.wait() == 0, process.transcript()
    logs = "\n".join(process.stdout + process.stderr)
    assert code not in logs  # never printed nor logged (X4)
    assert "Traceback" not in logs

    # The proof is kept for this account: the next run goes straight to the conversation.
    with chat(tmp_path, "--user", AVA) as again:
        first = again.read_turn()
        assert AUTHORIZE_LINK.search("\n".join(first)), first
        again.close_input()
        assert again.wait() == 0
    assert len(codes(tmp_path, AVA)) == 1

    # Another email needs its own code.
    with chat(tmp_path, "--user", SAM) as other:
        assert other.read_turn() == [TEXTS.text("en", "identity.code_sent", email=SAM, minutes=10)]
        other.close_input()
        assert other.wait() == 0  # the end of input at the code: a quiet exit
    assert len(codes(tmp_path, SAM)) == 1


def test_the_email_from_the_first_line_and_french(tmp_path: Path) -> None:
    with chat(tmp_path, "--lang", "fr") as process:
        process.send(AVA)
        assert process.read_turn() == [TEXTS.text("fr", "identity.code_sent", email=AVA, minutes=10)]
        [code] = codes(tmp_path, AVA)
        process.send(code)
        greeting = process.read_turn()
        assert greeting[0] == TEXTS.text("fr", "identity.verified", email=AVA)
        process.close_input()
        assert process.wait() == 0


def test_five_wrong_codes_end_the_chat(tmp_path: Path) -> None:
    with chat(tmp_path, "--user", AVA) as process:
        process.read_turn()
        [code] = codes(tmp_path, AVA)
        for tries in (4, 3, 2, 1):
            process.send(wrong(code))
            assert process.read_turn() == [TEXTS.text("en", "identity.wrong_code", tries=tries)]
        process.send(wrong(code))
        assert process.read_turn() == [TEXTS.text("en", "identity.terminal.too_many")]
        assert process.wait() == 1
        assert not AUTHORIZE_LINK.search("\n".join(process.stdout))  # no conversation without the proof


def test_codes_are_rate_limited(tmp_path: Path) -> None:
    for _ in range(3):  # three codes for this account in 15 minutes, then no more
        with chat(tmp_path, "--user", AVA) as process:
            assert process.read_turn()[0].startswith("I sent a six-digit code")
            process.close_input()
            assert process.wait() == 0
    with chat(tmp_path, "--user", AVA) as process:
        assert process.read_turn() == [TEXTS.text("en", "identity.terminal.rate_limited")]
        assert process.wait() == 1
    assert len(codes(tmp_path, AVA)) == 3
