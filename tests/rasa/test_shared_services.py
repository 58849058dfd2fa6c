"""Actions built with no arguments, as rasa-sdk builds them: services made from the settings at the
first call, shared by every action of the process, built again in a forked process; a failed build
is an apology to the user, then tried again. And the intent prefix the buttons use."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.channels.rasa.actions import ACTIONS, ShowPreferences
from bot.channels.rasa.names import prefix_in
from bot.channels.rasa.services import shared_services

from .support import Conversation

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in [n for n in os.environ if n.startswith(("LOGINBOT_", "WXCC_", "SLACK_"))]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env from elsewhere
    monkeypatch.setenv("LOGINBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'loginbot.db'}")
    monkeypatch.setenv("LOGINBOT_SIMULATOR_STATE", "")
    monkeypatch.setenv("LOGINBOT_OUTBOX", str(tmp_path / "outbox.txt"))
    monkeypatch.setenv("LOGINBOT_RASA_TRUST_EMAIL_METADATA", "true")
    shared_services.reset()
    yield tmp_path
    if shared_services.built:
        shared_services.get().assistant.store.close()
    shared_services.reset()


def ask_preferences(action: ShowPreferences, domain: dict[str, object] | None = None) -> list[str]:
    sam = Conversation(sender_id="sam", email="sam.supervisor@example.com")
    sam.user("show my preferences", "show_preferences")
    body = sam.action(action.name())
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, Tracker.from_dict(body["tracker"]), domain or body["domain"]))
    return [f"{m.get('text')} {[b['payload'] for b in m.get('buttons') or []]}" for m in dispatcher.messages]


def test_built_at_the_first_call_and_shared(settings: Path) -> None:
    actions = [action() for action in ACTIONS]
    assert not shared_services.built  # constructing builds nothing (rasa-sdk constructs at import)
    said = ask_preferences(ShowPreferences())
    assert shared_services.built
    assert "You have no saved preferences yet" in said[0] and "'/login'" in said[0]
    assert all(action.services is actions[0].services for action in actions)


def test_a_forked_process_builds_its_own(settings: Path) -> None:
    parent = ShowPreferences().services
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            mine = ShowPreferences().services
            os.write(write, b"own" if mine is not parent and ShowPreferences().services is mine else b"same")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    assert os.read(read, 16) == b"own"
    os.close(read)
    assert ShowPreferences().services is parent


def test_a_failed_build_apologizes_then_is_tried_again(
    settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGINBOT_BACKEND", "no-such-backend")
    said = ask_preferences(ShowPreferences())
    assert said[0].startswith("Sorry, something went wrong on my side.")
    assert not shared_services.built
    monkeypatch.delenv("LOGINBOT_BACKEND")
    assert "no saved preferences" in (ask_preferences(ShowPreferences()))[0]


def test_buttons_use_the_prefix_of_the_domain_or_the_setting(
    settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = {"intents": ["greet", "affirm", "loginbot_login", "loginbot_logout", "mood_great"]}
    assert "'/loginbot_login'" in (ask_preferences(ShowPreferences(), exported))[0]
    monkeypatch.setenv("LOGINBOT_RASA_INTENT_PREFIX", "lb_")
    shared_services.reset()
    assert "'/lb_login'" in (ask_preferences(ShowPreferences(), exported))[0]


def test_prefix_in_the_domain() -> None:
    assert prefix_in({"intents": ["greet", "login", "logout"]}) == ""
    as_rasa_sends_it = {"intents": [{"loginbot_login": {"use_entities": True}}, "loginbot_logout"]}
    assert prefix_in(as_rasa_sends_it) == "loginbot_"
    assert prefix_in({"intents": ["x_login"]}) == ""  # not loginbot's: no logout beside it
    assert prefix_in({"intents": ["Bad-login", "Bad-logout"]}) == ""
    assert prefix_in(None) == prefix_in({}) == ""
