"""Leaving the terminal chat by saying so ("exit", "bye", « au revoir »), in both modes: a goodbye
line, the chat ends, and the answers given so far are there the next time it is opened."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from bot.channels.terminal.chat import conversation_key, run_interactive, run_line_mode
from bot.channels.terminal.goodbye import is_goodbye
from bot.flow.catalog import Catalog
from tests.golden.harness import Rig

AVA = "ava.lead@example.com"
CATALOG = Catalog.default()

GOODBYES = [
    "exit",
    "quit",
    "bye",
    "au revoir",
    "Au revoir !",
    "EXIT",
    "  bye.  ",
    "q",
    ":q",
    "goodbye",
    "ok, bye",
    "thanks, bye!",
    "bye for now",
    "quitter",
    "merci, au revoir",
    "a plus",
    "à bientôt",
    "merci salut",
    "allez, salut !",
    "ok later",
]
NOT_GOODBYES = [
    "salut",  # alone it says hello
    "later",  # may answer a question ("not now")
    "hello",
    "ok",
    "merci",
    "thanks",
    "cancel",
    "stop",
    "help",
    "sign me out",
    "au revoir et déconnecte-moi",  # a request: the flow answers it
    "quit signing me in automatically",
    "q1",
    "",
]


@pytest.mark.parametrize("text", GOODBYES)
def test_goodbyes_in_both_languages(text: str) -> None:
    assert is_goodbye(text)


@pytest.mark.parametrize("text", NOT_GOODBYES)
def test_other_messages_are_not_goodbyes(text: str) -> None:
    assert not is_goodbye(text)


def line_mode(rig: Rig, lines: list[str], language: str = "en") -> list[str]:
    rig.assistant.progress_after = 60  # no progress line on a loaded machine: the turns stay exact
    out = io.StringIO()
    stdin = io.StringIO("".join(f"{line}\n" for line in lines))
    assert asyncio.run(run_line_mode(rig.assistant, AVA, language, stdin, out)) == 0
    text = out.getvalue()
    assert text.endswith("\n\n") and "\n\n\n" not in text
    return text[:-2].split("\n\n")


@pytest.mark.parametrize(
    ("language", "bye"), [("en", "exit"), ("en", "bye"), ("fr", "au revoir"), ("fr", "quitter")]
)
def test_a_goodbye_midway_ends_the_chat_and_the_answers_are_kept(
    tmp_path: Path, language: str, bye: str
) -> None:
    rig = Rig(tmp_path)
    try:
        # Sign in, Supervisor and Agent; then goodbye at "How do you want to handle calls?". The
        # line after the goodbye is never read.
        turns = line_mode(rig, ["1", "2", bye, "1"], language)
        assert len(turns) == 4, turns
        assert turns[2].startswith(CATALOG.text(language, "ask.call_preference"))
        assert turns[3] == CATALOG.text(language, "bye.saved")
        rig.restart()
        again = line_mode(rig, ["1"], language)  # the chat opened again: where it was, then Desktop
        assert again[0].startswith(CATALOG.text(language, "resume.where_we_were"))
        assert CATALOG.text(language, "ask.call_preference") in again[0]
        stored = rig.store.load_conversation(conversation_key(AVA))
        assert stored is not None
        assert stored.state["answers"]["role"] == "supervisor_agent"
        assert stored.state["answers"]["call_preference"] == "desktop"
    finally:
        rig.store.close()


def test_a_goodbye_with_nothing_under_way_just_says_goodbye(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    try:
        turns = line_mode(rig, ["ok, bye!"])
    finally:
        rig.store.close()
    assert turns[0].startswith("Hi Ava!")
    assert turns[1:] == [CATALOG.text("en", "bye.done")]


def test_the_interactive_chat_ends_on_a_goodbye(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rig = Rig(tmp_path)
    try:
        with create_pipe_input() as typed, create_app_session(input=typed, output=DummyOutput()):
            typed.send_text("sign me in\rau revoir\rsign me out\r")
            assert asyncio.run(run_interactive(rig.assistant, AVA, "fr")) == 0
        stored = rig.store.load_conversation(conversation_key(AVA))
    finally:
        rig.store.close()
    shown = capsys.readouterr().out
    assert CATALOG.text("fr", "ask.role") in shown
    assert CATALOG.text("fr", "bye.saved") in " ".join(shown.split())
    assert stored is not None and stored.step == "role"  # "sign me out" was never read
