"""The one input limit every channel applies: a message's text, and every value a platform sends
on the user's behalf (a Rasa slot, a Slack search string), is at most `MAX_INPUT_CHARS` characters.

Longer input is refused with a clear answer (the flow's `input.too_long`), never parsed: no regular
expression, recognizer or search ever sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

MAX_INPUT_CHARS: Final = 2000


def too_long(value: object) -> bool:
    """Whether a text, or any text inside a list or mapping (a slot may hold either), is over the limit."""
    if isinstance(value, str):
        return len(value) > MAX_INPUT_CHARS
    if isinstance(value, Mapping):
        return len(value) > MAX_INPUT_CHARS or any(too_long(k) or too_long(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return len(value) > MAX_INPUT_CHARS or any(too_long(v) for v in value)
    return False


def size(value: object) -> int:
    """How many characters a value holds, as `too_long` counts them (for the user's answer)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(size(k) + size(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return sum(size(v) for v in value)
    return 0
