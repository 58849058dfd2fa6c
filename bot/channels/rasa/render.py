"""Flow replies as Rasa bot messages: the text with its labelled fields, and the choices as buttons
whose payloads Rasa understands (`/intent{"entity": "value"}`, or text for its NLU)."""

from __future__ import annotations

import json
from typing import Any

from bot.channels.rasa.names import intent_name
from bot.flow.replies import Reply

_INTENT_PAYLOADS = {
    "cmd:login": "login",
    "cmd:logout": "logout",
    "cmd:preferences": "show_preferences",
    "cmd:help": "help",
    "cmd:cancel": "cancel",
    "cmd:availability": "set_availability",
    "auto:yes": "affirm",
    "auto:no": "deny",
    "confirm:yes": "affirm",
    "confirm:change": "deny",
    "takeover:yes": "affirm",
    "takeover:no": "deny",
}
_ENTITY_OF_KIND = {"role": "role", "call": "call_preference", "ext": "extension", "avail": "availability"}


def _intent(name: str, entity: str, value: str, prefix: str) -> str:
    entities = json.dumps({entity: value}, ensure_ascii=False, separators=(",", ":"))
    return f"/{intent_name(name, prefix)}{entities}"


def button_payload(value: str, label: str, prefix: str = "") -> str:
    """The payload of a choice; `prefix` is the one of loginbot's intents in the Rasa project."""
    if value in _INTENT_PAYLOADS:
        return "/" + intent_name(_INTENT_PAYLOADS[value], prefix)
    kind, _, argument = value.partition(":")
    if kind == "avail":
        return _intent("set_availability", "availability", argument, prefix)
    if kind in _ENTITY_OF_KIND:
        return _intent("inform", _ENTITY_OF_KIND[kind], argument, prefix)
    if kind == "dn" and argument.startswith("+"):
        return _intent("inform", "phone_number", argument, prefix)
    if kind == "team":
        return _intent("inform", "team", label, prefix)
    if kind == "cc":
        return "+" + argument
    return label  # understood by Rasa's NLU and by the form's text mappings


def message(reply: Reply, prefix: str = "") -> dict[str, Any]:
    """The keyword arguments of `dispatcher.utter_message` for one reply."""
    lines = [reply.text, *(f"  {label}: {value}" for label, value in reply.fields.items())]
    buttons = [{"title": c.label, "payload": button_payload(c.value, c.label, prefix)} for c in reply.choices]
    return {"text": "\n".join(lines), "buttons": buttons}
