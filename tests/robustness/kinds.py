"""The kind of a reply (prompt, error, summary, success, failure, info) as each channel shows it.

Slack's blocks carry the reply's catalog key in their `block_id`; the terminal and Rasa show text
only, so the text is matched against the catalogs' sentences (placeholders match anything) to find
its key. A key's kind follows the catalog's families: `ask.*` is a question, `invalid.*` an answer
that could not be used, `failure.*` a contact-center refusal, `outcome.*` a success...
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

import yaml

PACKAGES = ("bot.flow.messages", "bot.channels.rasa.messages", "bot.channels.slack.messages")
SUMMARY_KEYS = ("ask.confirm", "ask.confirm_preferences")
PROMPT_KEYS = ("rasa.team_ambiguous",)  # the Rasa form's own "which one?"
ERROR_PREFIXES = ("invalid.", "input.", "error.", "user.", "choice.expired", "auto.saved_no_longer_valid")
SUCCESS_PREFIXES = ("outcome.", "prefs.saved", "reconcile.signed_in", "auto.turned_on", "auto.turned_off")


def kind_of_key(key: str | None) -> str | None:
    if key is None:
        return None
    if key in SUMMARY_KEYS:
        return "summary"
    if key.startswith("ask.") or key in PROMPT_KEYS:
        return "prompt"
    if key.startswith("failure."):
        return "failure"
    if key.startswith(ERROR_PREFIXES):
        return "error"
    if key.startswith(SUCCESS_PREFIXES):
        return "success"
    return "info"


@dataclass(frozen=True)
class _Template:
    key: str
    pattern: re.Pattern[str]
    literal: int  # characters of fixed text: the more, the more specific


def _flatten(node: object, prefix: str = "") -> dict[str, str]:
    if isinstance(node, dict):
        found: dict[str, str] = {}
        for name, value in node.items():
            found.update(_flatten(value, f"{prefix}{name}."))
        return found
    return {prefix.rstrip("."): node} if isinstance(node, str) else {}


def _compile(text: str) -> tuple[re.Pattern[str], int]:
    parts = re.split(r"\{[A-Za-z_][A-Za-z0-9_]*\}", text.strip())
    body = r"[\s\S]*?".join(re.escape(p) for p in parts)
    return re.compile(body + r"(?=\n|$)"), sum(len(p) for p in parts)


@functools.cache
def templates() -> tuple[_Template, ...]:
    found: list[_Template] = []
    for package in PACKAGES:
        for language in ("en", "fr"):
            try:
                text = resources.files(package).joinpath(f"{language}.yml").read_text("utf-8")
            except (FileNotFoundError, ModuleNotFoundError):
                continue
            for key, sentence in _flatten(yaml.safe_load(text) or {}).items():
                if key.startswith(("words.", "label.", "field.", "country.")):
                    continue
                pattern, literal = _compile(sentence)
                if literal >= 4:
                    found.append(_Template(key, pattern, literal))
    return tuple(found)


def _best(text: str, position: int) -> tuple[str, int] | None:
    """The catalog key whose sentence matches at `position` (the longest, then the most specific)."""
    best: tuple[int, int, str] | None = None
    for template in templates():
        match = template.pattern.match(text, position)
        if match is None:
            continue
        rank = (match.end(), template.literal, template.key)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return None if best is None else (best[2], best[0])


def keys_in_text(text: str) -> list[str | None]:
    """The catalog keys of the replies in a turn's plain text, in order (None: an unknown sentence).
    Indented lines are a reply's fields and numbered choices."""
    keys: list[str | None] = []
    position = 0
    while position < len(text):
        end = text.find("\n", position)
        end = len(text) if end < 0 else end
        if text.startswith("  ", position) or position == end:
            position = end + 1
            continue
        found = _best(text, position)
        if found is None:
            keys.append(None)
            position = end + 1
        else:
            keys.append(found[0])
            position = found[1] + 1
    return keys


def last_key_in_text(text: str) -> str | None:
    keys = keys_in_text(text)
    return keys[-1] if keys else None
