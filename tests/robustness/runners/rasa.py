"""The Rasa channel: the action server under uvicorn (started once), called as Rasa 3 calls it.

Each turn is what Rasa would make of it with our training data: the recognizer behind
`loginbot nlu parse` gives the intent and the entities; the domain's slot mappings turn them into the
form's slot candidates (`from_entity` anywhere, `from_text` for the requested slot, `from_intent` for
yes/no questions); a click sends its button's payload (`/inform{"role":"supervisor"}`), parsed the
way Rasa parses such payloads. The rules of `intents/data/rules.yml` decide what runs: the form on
`login`, `validate_login_form` while the form is active (Rasa's own answers for `cancel` and `help`),
`action_station_login` once the form is complete, an action's `FollowupAction(login_form)`.
"""

from __future__ import annotations

import itertools
import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bot.channels.rasa.form import STEP_OF_SLOT
from bot.channels.rasa.render import button_payload
from intents.recognizer import Recognizer
from tests.rasa.support import Conversation, reopen, run_action, running_server
from tests.robustness.checks import Exchange, Observation
from tests.robustness.corpus import Dialogue, Turn
from tests.robustness.kinds import keys_in_text, kind_of_key
from tests.robustness.runners.common import click_labels, fresh_demo_state, saved_preferences, stored_state

FORM = "login_form"
FORM_SLOTS = ("requested_slot", *STEP_OF_SLOT, "confirm", "take_over")
LOCALES = {"en": "en-US", "fr": "fr-FR"}
# Intents whose rule runs an action of ours when no form is active (rules.yml).
ACTION_OF_INTENT = {
    "logout": "action_station_logout",
    "set_availability": "action_set_availability",
    "reset_auto_login": "action_reset_auto_login",
    "show_preferences": "action_show_preferences",
    "troubleshoot": "action_troubleshoot_login",
}
UTTERANCE_OF_INTENT = {"greet": "utter_greet", "goodbye": "utter_goodbye", "help": "utter_help"}


def parse_payload(payload: str) -> tuple[str, list[dict[str, Any]]]:
    """`/intent{"entity": "value"}` as Rasa's payload syntax reads it."""
    name, brace, rest = payload[1:].partition("{")
    values = json.loads(brace + rest) if brace else {}
    return name, [{"entity": k, "value": v, "start": 0, "end": len(payload)} for k, v in values.items()]


def _condition_holds(mapping: dict[str, Any], requested: str | None, active: bool) -> bool:
    """A mapping's `conditions`: any one of them holds (none: it always applies)."""
    conditions = mapping.get("conditions")
    if not conditions:
        return True
    return any(
        condition.get("active_loop") in (None, FORM if active else None)
        and condition.get("requested_slot", requested) == requested
        for condition in conditions
    )


def slot_candidates(
    domain: dict[str, Any],
    text: str,
    intent: str,
    entities: list[dict[str, Any]],
    requested: str | None,
    active: bool,
) -> dict[str, Any]:
    """The slots `action_extract_slots` sets from one message (the first mapping that applies)."""
    found: dict[str, Any] = {}
    for slot, spec in (domain.get("slots") or {}).items():
        for mapping in spec.get("mappings") or []:
            if not _condition_holds(mapping, requested, active):
                continue
            if intent in (mapping.get("not_intent") or []):
                continue
            kind = mapping.get("type")
            if kind == "from_entity":
                values = [e["value"] for e in entities if e["entity"] == mapping["entity"]]
                if values:
                    found[slot] = values[-1]
                    break
            elif kind == "from_text" and not text.startswith("/"):
                found[slot] = text
                break
            elif kind == "from_intent" and intent == mapping.get("intent"):
                found[slot] = mapping.get("value")
                break
    return found


class RasaRunner:
    name = "rasa"

    def __init__(self, directory: Path) -> None:
        self._stack = ExitStack()
        self.rig = self._stack.enter_context(running_server(directory))
        self.database = directory / "rasa.db"
        self.recognizer = Recognizer.default()
        self._senders = itertools.count(1)

    def close(self) -> None:
        self._stack.close()

    def _message(
        self, turn: Turn, shown: list[dict[str, Any]], language: str
    ) -> tuple[str, str, list[dict[str, Any]], bool]:
        """The text Rasa receives for a turn, its intent, its entities, and whether a click's button
        was offered."""
        if turn.say is not None:
            parsed = self.recognizer.parse(turn.say).as_rasa()
            return turn.say, parsed["intent"]["name"], parsed["entities"], True
        assert turn.click is not None
        buttons = [b for response in shown for b in response.get("buttons") or []]
        labels = click_labels(turn.click, language)
        # A choice whose payload is its label ("change:dial_number" -> "Numéro d'appel") is the button
        # with that label, not the first button whose payload is its own title.
        offered = [
            b["payload"]
            for b in buttons
            if button_payload(turn.click, b["title"]) == b["payload"]
            and (b["payload"] != b["title"] or b["title"] in labels)
        ]
        payload = offered[0] if offered else button_payload(turn.click, click_labels(turn.click, language)[0])
        if payload.startswith("/"):
            intent, entities = parse_payload(payload)
            return payload, intent, entities, bool(offered)
        parsed = self.recognizer.parse(payload).as_rasa()
        return payload, parsed["intent"]["name"], parsed["entities"], bool(offered)

    def _call(self, conversation: Conversation, body: dict[str, Any], said: list[dict[str, Any]]) -> None:
        response = self.rig.call(body)
        if response.status_code != 200:
            said.append({"text": f"(HTTP {response.status_code})"})
            conversation.pending = None
            return
        answer: dict[str, Any] = response.json()
        conversation.apply(answer)
        said.extend(answer.get("responses") or [])
        self._after(conversation, answer, said)

    def _after(self, conversation: Conversation, answer: dict[str, Any], said: list[dict[str, Any]]) -> None:
        """What Rasa runs next on its own: the sign-in once the form is complete, a follow-up form."""
        events = answer.get("events") or []
        if _follows_up(events):
            said.extend(reopen(self.rig, conversation).get("responses") or [])
            return
        answered = any(e.get("event") == "slot" and e.get("name") == "requested_slot" for e in events)
        if not answered or conversation.slots.get("requested_slot") is not None or conversation.active_loop:
            return
        body = run_action(self.rig, conversation, "action_station_login")
        said.extend(body.get("responses") or [])
        if _follows_up(body.get("events") or []):
            said.extend(reopen(self.rig, conversation).get("responses") or [])

    def _turn(
        self,
        conversation: Conversation,
        turn: Turn,
        shown: list[dict[str, Any]],
        lang: str,
        problems: list[str],
    ) -> list[dict[str, Any]]:
        text, intent, entities, offered = self._message(turn, shown, lang)
        if not offered and shown:
            problems.append(f"{turn} was not offered")
        active = bool(conversation.active_loop)
        requested = conversation.slots.get("requested_slot") if active else None
        domain = conversation.domain
        candidates = slot_candidates(domain, text, intent, entities, requested, active)
        conversation.user(text, intent, entities)
        said: list[dict[str, Any]] = []
        responses = domain.get("responses") or {}
        if active and intent == "cancel":  # action_deactivate_loop, then utter_cancel
            conversation.active_loop = {}
            conversation.slots["requested_slot"] = None
            return [{"text": responses["utter_cancel"][0]["text"], "rasa": "utter_cancel"}]
        if active and intent == "help":  # utter_help, then the form asks its question again
            said.append({"text": responses["utter_help"][0]["text"], "rasa": "utter_help"})
            self._call(conversation, conversation.validate(), said)
            return said
        if active:
            self._call(conversation, conversation.validate(**candidates), said)
        elif intent == "login":
            conversation.start_form()
            self._call(conversation, conversation.validate(**candidates), said)
        elif intent in ACTION_OF_INTENT:
            body = run_action(self.rig, conversation, ACTION_OF_INTENT[intent])
            said.extend(body.get("responses") or [])
            self._after(conversation, body, said)
        else:
            utterance = UTTERANCE_OF_INTENT.get(intent, "utter_out_of_scope")
            said.append({"text": responses[utterance][0]["text"], "rasa": utterance})
        return said

    def run(self, dialogue: Dialogue) -> Observation:
        fresh_demo_state(self.database, self.rig.core)
        conversation = Conversation(
            sender_id=f"robustness-{next(self._senders)}", email=dialogue.user, locale=LOCALES[dialogue.lang]
        )
        observation = Observation()
        shown: list[dict[str, Any]] = []
        keys: list[str | None] = []
        for number, turn in enumerate(dialogue.turns, start=1):
            problems: list[str] = []
            shown = self._turn(conversation, turn, shown, dialogue.lang, problems)
            observation.problems.extend(f"turn {number}: {problem}" for problem in problems)
            keys = []
            for response in shown:
                found = keys_in_text(response.get("text") or "")
                keys.append(
                    f"rasa:{response['rasa']}" if "rasa" in response else (found[0] if found else None)
                )
            text = "\n".join(_rendered(r) for r in shown)
            observation.exchanges.append(Exchange(str(turn), text, keys))
        observation.last_key = keys[-1] if keys else None
        observation.last_kind = kind_of_key(observation.last_key)
        observation.last_kinds = [kind_of_key(k) for k in keys]
        observation.state = _form_state(conversation.slots, observation.last_key) or stored_state(
            self.rig.store, self.rig.services.key(dialogue.user)
        )
        observation.saved = saved_preferences(self.rig.store, dialogue.user)
        slots = {k: v for k, v in conversation.slots.items() if k in FORM_SLOTS and v is not None}
        observation.notes.append(f"rasa slots: {slots}")
        return observation


def _form_state(slots: dict[str, Any], last_key: str | None) -> dict[str, Any] | None:
    """While the form runs, Rasa holds the sign-in in its slots: the step is the slot requested and
    the answers are the slots (the flow's own state is only written when the form is not running).
    The summary and "what would you like to change?" are both the `confirm` slot's questions."""
    requested = slots.get("requested_slot")
    if requested is None:
        return None
    if requested == "confirm" and last_key == "ask.change_field":
        requested = "change_field"
    answers = {
        "role": slots.get("role"),
        "call_preference": slots.get("call_preference"),
        "extension": slots.get("extension"),
        "dial_number": slots.get("dial_number"),
        "country_code": slots.get("country_code"),
        "team_id": slots.get("team"),
        "auto_login": slots.get("auto_login"),
        "pending_national": slots.get("pending_national"),
    }
    return {"step": requested, "answers": answers}


def _follows_up(events: list[dict[str, Any]]) -> bool:
    return any(e.get("event") == "followup" and e.get("name") == FORM for e in events)


def _rendered(response: dict[str, Any]) -> str:
    lines = [response.get("text") or ""]
    lines.extend(f"  - {b['title']}" for b in response.get("buttons") or [])
    return "\n".join(lines)
