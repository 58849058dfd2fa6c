"""loginbot's actions inside rasa-sdk's own action server (`python -m rasa_sdk`), as a team runs it:
their package imports `bot.channels.rasa.actions` next to their own action, and both answer Rasa 3's
webhook calls. The services are built from the settings once, at the first call, in that process."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from bot.channels.rasa.actions import ACTIONS
from storage import Store
from tests.channels.processes import Process, clean_environment, free_port

from .rasa_init import rasa_init
from .support import Conversation, buttons, slot_events, texts

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

TEAM_ACTIONS = '''\
"""A team's own actions, with loginbot's served by the same action server."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

import bot.channels.rasa.actions  # noqa: F401  loginbot's actions, registered with ours


class ActionTellWeather(Action):
    def name(self) -> str:
        return "action_tell_weather"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        city = tracker.get_slot("city") or "here"
        dispatcher.utter_message(text=f"It is sunny in {city}.")
        return [SlotSet("weather", "sunny")]
'''
LOGINBOT_ACTIONS = {action.action_name for action in ACTIONS}


class Server:
    """rasa-sdk's server on a loopback port, called as Rasa calls it."""

    def __init__(self, process: Process, url: str) -> None:
        self.process = process
        self.url = url

    def call(self, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.url}/webhook", json=body, timeout=60)

    def answer(self, body: dict[str, Any], conversation: Conversation) -> dict[str, Any]:
        response = self.call(body)
        assert response.status_code == 200, f"{response.text}\n{self.process.transcript()}"
        answered: dict[str, Any] = response.json()
        conversation.apply(answered)
        return answered


def rasa_sdk(tmp_path: Path, actions: str) -> tuple[Process, str]:
    port = free_port()
    env = clean_environment(
        LOGINBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'loginbot.db'}",
        LOGINBOT_SIMULATOR_STATE="",
        LOGINBOT_OUTBOX=str(tmp_path / "outbox.txt"),
        LOGINBOT_RASA_TRUST_EMAIL_METADATA="true",
        SANIC_HOST="127.0.0.1",
        PYTHONPATH=str(tmp_path),
    )
    process = Process(
        ["--actions", actions, "--port", str(port)], env=env, cwd=tmp_path, module="rasa_sdk", group=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise AssertionError(f"rasa-sdk did not answer\n{process.transcript()}")


def merged_domain(tmp_path: Path) -> dict[str, Any]:
    """The domain Rasa sends: a `rasa init` project with loginbot's export and the team's slots."""
    from bot.channels.rasa.export import export

    root = tmp_path / "assistant"
    rasa_init(root)
    export(root)
    yaml = YAML(typ="safe", pure=True)
    domain: dict[str, Any] = yaml.load((root / "domain.yml").read_text(encoding="utf-8"))
    ours = yaml.load((root / "domain" / "loginbot.yml").read_text(encoding="utf-8"))
    for key in ("intents", "entities", "actions"):
        domain[key] = [*(domain.get(key) or []), *(ours.get(key) or [])]
    for key in ("slots", "responses", "forms"):
        domain[key] = {**(domain.get(key) or {}), **(ours.get(key) or {})}
    domain["slots"].update(city={"type": "text", "mappings": []}, weather={"type": "text", "mappings": []})
    domain["actions"].append("action_tell_weather")
    return domain


def test_a_team_package_serves_its_actions_and_loginbots(tmp_path: Path) -> None:
    package = tmp_path / "teamactions"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "actions.py").write_text(TEAM_ACTIONS, encoding="utf-8")
    domain = merged_domain(tmp_path)
    process, url = rasa_sdk(tmp_path, "teamactions")
    with process:
        server = Server(process, url)
        names = {a["name"] for a in httpx.get(f"{url}/actions", timeout=10).json()}
        assert names == {"action_tell_weather", *LOGINBOT_ACTIONS}  # no abstract base registered

        team = Conversation(sender_id="team-user", email=None, domain=domain, slots={"city": "Lyon"})
        team.user("how is the weather?", "ask_weather")
        said = server.answer(team.action("action_tell_weather"), team)
        assert texts(said) == "It is sunny in Lyon." and slot_events(said) == {"weather": "sunny"}

        # loginbot's sign-in form, as Rasa runs it with the exported (prefixed) intents.
        ava = Conversation(sender_id="ava-web", email="ava.lead@example.com", domain=domain)
        ava.user("log me in", "loginbot_login")
        ava.start_form()
        first = server.answer(ava.validate(), ava)
        assert slot_events(first)["requested_slot"] == "role"
        assert buttons(first) == [
            '/loginbot_inform{"role":"supervisor"}',  # the project's intent names, from its domain
            '/loginbot_inform{"role":"supervisor_agent"}',
        ]
        for text, candidates, asked in (
            ("both", {"role": "both"}, "call_preference"),
            ("dial number", {"call_preference": "dial_number"}, "dial_number"),
            ("+1 212 555 0102", {"dial_number": "+1 212 555 0102"}, "team"),
            ("billing escalations", {"team": "billing escalations"}, "auto_login"),
            ("no", {"auto_login": False}, "confirm"),
            ("yes", {"confirm": True}, None),
        ):
            ava.user(text, "affirm" if text == "yes" else "loginbot_inform")
            server.answer(ava.validate(**candidates), ava)
            assert ava.slots["requested_slot"] == asked, (text, ava.slots)
        done = server.answer(ava.action("action_station_login"), ava)
        assert "You're signed in. Tracking id: LOGINBOT-" in texts(done)

        assert texts(server.answer(team.action("action_tell_weather"), team)) == "It is sunny in Lyon."
        assert "Traceback" not in "\n".join(process.stdout + process.stderr)
    store = Store.from_url(f"sqlite:///{tmp_path / 'loginbot.db'}")
    try:
        saved = store.load_preferences("ava.lead@example.com")
        assert saved is not None  # the same store as every channel of this deployment
    finally:
        store.close()


def test_rasa_sdk_serves_loginbots_module_alone(tmp_path: Path) -> None:
    process, url = rasa_sdk(tmp_path, "bot.channels.rasa.actions")
    with process:
        assert {a["name"] for a in httpx.get(f"{url}/actions", timeout=10).json()} == LOGINBOT_ACTIONS
        sam = Conversation(sender_id="sam", email="sam.supervisor@example.com")
        sam.user("show my preferences", "show_preferences")
        said = Server(process, url).answer(sam.action("action_show_preferences"), sam)
        assert "no saved preferences" in texts(said)
