"""A slow contact center in the terminal's line mode: the simulator served over HTTP with latency
(its fault injection), the real-API adapter, the real assistant. A sign-in or a sign-out that has not
answered within the threshold prints exactly one line saying what is under way, then the outcome as
usual, and the turn still ends with its one empty line. A quick call prints no such line."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from bot.assistant import Assistant
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorCore, load_tenant
from bot.backend.simulator.faults import Faults
from bot.backend.simulator.server import SimulatorServer
from bot.channels.terminal.chat import run_interactive, run_line_mode
from bot.flow.catalog import Catalog
from bot.flow.engine import FlowEngine
from intents.recognizer import Recognizer
from storage import Store
from tests.wxcc.simulated import OnOneLoop, simulated_backend

AVA = "ava.lead@example.com"
Served = tuple[OnOneLoop, SimulatorServer]
CATALOG = Catalog.default()
SLOW = Faults(latency_ms=2500)  # each answer of the contact center: well past the threshold below
THRESHOLD = 1.0  # quick calls stay well under it even on a loaded machine
# Everything in one message, then "don't show again?" and "Save and continue?", then sign out.
SAYS = {
    "en": ["sign me in as supervisor and agent with dial number +1 212 555 0102, team Billing", "no"],
    "fr": ["connecte-moi en superviseur et agent avec le numéro +1 212 555 0102, équipe Billing", "non"],
}
CONFIRM = {"en": "yes", "fr": "oui"}
SIGN_OUT = {"en": "sign me out", "fr": "déconnecte-moi"}


class Typed(io.StringIO):
    """Lines typed one after the other; `when[line]` runs just before that line is read (the
    contact center turns slow between two messages, as it does under load)."""

    def __init__(self, lines: list[str], when: dict[str, Callable[[], None]]) -> None:
        super().__init__("".join(f"{line}\n" for line in lines))
        self.when = when

    def __next__(self) -> str:
        line = super().__next__()
        action = self.when.get(line.rstrip("\n"))
        if action is not None:
            action()
        return line


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[OnOneLoop, SimulatorServer]]:
    with simulated_backend(SimulatorCore(load_tenant(DEMO_TENANT_FILE)), tmp_path, emails=[AVA]) as pair:
        yield pair


def chat(tmp_path: Path, backend: OnOneLoop, lines: Typed, language: str, threshold: float) -> list[str]:
    """The turns of a line-mode chat, each without the empty line that ends it."""
    store = Store.from_url(f"sqlite:///{tmp_path / 'progress.db'}")
    assistant = Assistant(
        engine=FlowEngine(Recognizer.default()), store=store, backend=backend, progress_after=threshold
    )
    out = io.StringIO()
    try:
        assert asyncio.run(run_line_mode(assistant, AVA, language, lines, out)) == 0
    finally:
        store.close()
    text = out.getvalue()
    assert text.endswith("\n\n") and "\n\n\n" not in text, text
    return text[:-2].split("\n\n")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_slow_sign_in_and_sign_out_each_print_one_line_then_the_outcome(
    tmp_path: Path, served: Served, language: str
) -> None:
    backend, server = served

    def slow() -> None:
        server.faults = SLOW

    lines = Typed([*SAYS[language], CONFIRM[language], SIGN_OUT[language]], {CONFIRM[language]: slow})
    turns = chat(tmp_path, backend, lines, language, THRESHOLD)
    assert len(turns) == 5, turns  # the greeting, then one per message
    signing_in = CATALOG.text(language, "progress.login")
    signing_out = CATALOG.text(language, "progress.logout")
    assert signing_in in ("Signing you in…", "Connexion en cours…")
    login = turns[3].split("\n")
    assert login[0] == signing_in, turns[3]
    assert login[1].startswith(CATALOG.text(language, "outcome.login_success").split("{tracking_id}")[0])
    assert signing_in not in login[1:]
    logout = turns[4].split("\n")
    assert logout == [signing_out, CATALOG.text(language, "outcome.logout_success")], turns[4]
    everything = "\n".join(turns)
    assert everything.count(signing_in) == 1 and everything.count(signing_out) == 1
    for earlier in turns[:3]:  # the quick turns before the contact center turned slow
        assert not any(line.endswith("…") for line in earlier.split("\n")), earlier


def test_a_quick_sign_in_prints_no_progress_line(tmp_path: Path, served: Served) -> None:
    backend, _ = served
    lines = Typed([*SAYS["en"], "yes"], {})
    turns = chat(tmp_path, backend, lines, "en", 30.0)
    assert turns[-1].startswith("You're signed in."), turns[-1]
    assert CATALOG.text("en", "progress.login") not in "\n".join(turns)


def test_on_a_terminal_a_slow_sign_in_shows_a_spinner(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The interactive chat on a (pretend) terminal: rich draws the spinner with its text, then
    takes it away and prints the outcome."""
    backend, server = served
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich: the output is a terminal
    monkeypatch.setenv("TTY_INTERACTIVE", "1")  # ... and a person watches it (the spinner turns)
    store = Store.from_url(f"sqlite:///{tmp_path / 'spinner.db'}")
    assistant = Assistant(
        engine=FlowEngine(Recognizer.default()), store=store, backend=backend, progress_after=THRESHOLD
    )
    server.faults = SLOW
    try:
        with create_pipe_input() as typed, create_app_session(input=typed, output=DummyOutput()):
            typed.send_text(f"{SAYS['en'][0]}\r{SAYS['en'][1]}\ryes\rbye\r")
            assert asyncio.run(run_interactive(assistant, AVA, "en")) == 0
    finally:
        store.close()
    shown = capsys.readouterr().out
    spinner = shown.index(CATALOG.text("en", "progress.login"))
    assert spinner < shown.index("You're signed in.")
    assert "\x1b[?25l" in shown  # the cursor hidden while the spinner turns (rich's live display)
