"""`intents/` as a Rasa project part: the domain and the rules agree with the action server.
(Their validation against Rasa's own schemas is in tests/intents/test_training_data.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.channels.rasa.actions import ACTIONS
from bot.channels.rasa.form import FORM, HELPER_SLOTS, REQUIRED_SLOTS, SIGN_IN_SLOTS

INTENTS = Path(__file__).resolve().parents[2] / "intents"


def load(name: str) -> Any:
    return yaml.safe_load((INTENTS / name).read_text(encoding="utf-8"))


def test_every_slot_has_mappings_and_the_form_asks_what_the_server_validates() -> None:
    domain = load("domain.yml")
    assert all(slot.get("mappings") for slot in domain["slots"].values())
    assert tuple(domain["forms"][FORM]["required_slots"]) == REQUIRED_SLOTS
    assert set(REQUIRED_SLOTS) | set(HELPER_SLOTS) <= set(domain["slots"])
    assert set(domain["actions"]) == {action.action_name for action in ACTIONS}
    # The server asks the form's questions in the user's language: no English utter_ask_ to double them.
    assert not [name for name in domain["responses"] if name.startswith("utter_ask_")]


def test_rules_use_only_the_domain_intents_actions_and_form() -> None:
    domain = load("domain.yml")
    known_actions = {*domain["actions"], *domain["responses"], FORM, "action_deactivate_loop"}
    rules = load("data/rules.yml")
    assert rules["version"] == "3.1"
    triggered = set()
    for rule in rules["rules"]:
        for step in rule["steps"]:
            if "intent" in step:
                assert step["intent"] in domain["intents"], rule["rule"]
                triggered.add(step["intent"])
            if "action" in step:
                assert step["action"] in known_actions, rule["rule"]
    assert {
        "login",
        "logout",
        "set_availability",
        "reset_auto_login",
        "show_preferences",
        "troubleshoot",
    } <= triggered


def test_yes_no_slots_map_affirm_and_deny_only_at_their_question() -> None:
    slots = load("domain.yml")["slots"]
    for name in ("take_over", "auto_login", "confirm"):
        mappings = slots[name]["mappings"]
        assert slots[name]["type"] == "bool", name
        by_intent = {m["intent"]: m["value"] for m in mappings if m["type"] == "from_intent"}
        assert by_intent == {"affirm": True, "deny": False}, name
        for mapping in mappings:
            assert mapping["conditions"] == [{"active_loop": FORM, "requested_slot": name}], name


def test_the_sign_in_slots_are_the_forms() -> None:
    domain = load("domain.yml")
    assert set(SIGN_IN_SLOTS) <= set(domain["slots"])
    assert all(not slot.get("influence_conversation", True) for slot in domain["slots"].values())
