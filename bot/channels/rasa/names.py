"""loginbot's names in a Rasa project. Intents other than the common four get a prefix when loginbot is
exported into a team's project (`loginbot rasa export`), so that its `help` or `cancel` never takes
over the team's; greet, goodbye, affirm and deny mean the same in every assistant and are shared.
The action server puts the same prefix in its buttons' payloads: `LOGINBOT_RASA_INTENT_PREFIX`,
or else the one the domain Rasa sends with each call shows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

COMMON_INTENTS = frozenset({"greet", "goodbye", "affirm", "deny"})
DEFAULT_PREFIX = "loginbot_"
PREFIX_PATTERN = re.compile(r"^(?:[a-z][a-z0-9]*_)?$")


def intent_name(name: str, prefix: str) -> str:
    """An intent of loginbot's as the project knows it."""
    return name if name in COMMON_INTENTS else f"{prefix}{name}"


def response_name(name: str, prefix: str) -> str:
    """`utter_help` -> `utter_loginbot_help` (Rasa wants responses to start with `utter_`)."""
    return f"utter_{prefix}{name.removeprefix('utter_')}"


def prefix_in(domain: Mapping[str, Any] | None) -> str:
    """The prefix of loginbot's intents in the domain Rasa sends with each call: the one before
    `login` where `<prefix>login` and `<prefix>logout` are both intents; empty when there is none."""
    names = set()
    for intent in (domain or {}).get("intents") or []:
        if isinstance(intent, str):
            names.add(intent)
        elif isinstance(intent, Mapping):
            names.update(str(name) for name in intent)
    if "login" in names:
        return ""
    found = sorted(
        name.removesuffix("login")
        for name in names
        if name.endswith("_login") and f"{name.removesuffix('login')}logout" in names
    )
    return next((p for p in found if PREFIX_PATTERN.match(p)), "")
