"""Small, deterministic misspellings of a phrasing: what people type in a hurry.

Each function changes one word of at least `MIN_LENGTH` letters by one edit (a swapped pair, a
dropped or doubled letter) or drops every accent; digits and short words are never touched, so the
phrasing still means the same answer and its expectation still holds.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable

MIN_LENGTH = 6
_WORD = re.compile(r"[^\W\d_]+")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def _swap(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _drop(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1 :]


def _double(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i] + word[i:]


EDITS: tuple[Callable[[str, random.Random], str], ...] = (_swap, _drop, _double)


def misspell(text: str, rng: random.Random, protected: tuple[str, ...] = ()) -> str | None:
    """`text` with one word misspelled, or without its accents; None when nothing can change."""
    words = [
        m
        for m in _WORD.finditer(text)
        if len(m.group()) >= MIN_LENGTH and m.group().casefold() not in protected
    ]
    accented = strip_accents(text) != text
    if not words and not accented:
        return None
    if accented and (not words or rng.random() < 0.3):
        return strip_accents(text)
    match = rng.choice(words)
    edit = rng.choice(EDITS)
    changed = edit(match.group(), rng)
    if changed.casefold() == match.group().casefold():
        changed = _drop(match.group(), rng)
    return text[: match.start()] + changed + text[match.end() :]
