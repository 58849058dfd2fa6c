"""Finding a question's words in what people type: anywhere in a sentence, in English or French,
without accents, and with small typos ("extention", "numero d appel", "suprevisor").

A `Vocabulary` maps each answer value to its phrases. `find` reads a message once and returns every
value whose phrase it contains; where phrases overlap, the longer one wins, so "don't show again"
(yes to automatic sign-in) is not read as "show again", and "supervisor and agent" not as
"supervisor".
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import process
from rapidfuzz.distance import OSA

_WORD = re.compile(r"[a-z0-9+]+")
FUZZY_FROM = 5  # phrases this short are typed exactly ("no", "non", "ext"); longer ones may have typos
TYPO_COST = 4
MAX_FUZZY_TOKENS = 40  # beyond this, only exact phrases are looked for: long texts are not answers


def normalize(text: str) -> str:
    """Lower case, accents and apostrophes dropped, punctuation as spaces: "Numéro d’appel" ->
    "numero d appel"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(stripped.replace("'", " ").replace("’", " ")))


def allowed_typos(phrase: str) -> int:
    """Edits tolerated in a phrase of this length: none in short words, where one letter changes the
    meaning ("no", "non", "ext"), one in a word, two in a longer phrase."""
    size = len(phrase.replace(" ", ""))
    if size <= FUZZY_FROM:
        return 0
    if size <= 9:
        return 1
    return 2


@dataclass(frozen=True)
class Match:
    value: str
    phrase: str
    start: int  # token positions in the normalized text
    end: int
    typos: int

    @property
    def size(self) -> int:
        return len(self.phrase)

    @property
    def weight(self) -> int:
        """Longer phrases explain more of the text; each typo costs about a short word."""
        return self.size - TYPO_COST * self.typos


@dataclass(frozen=True)
class Vocabulary:
    """The phrases that answer one question, by answer value, in both languages."""

    phrases: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, **values: str | Iterable[str]) -> Vocabulary:
        """Phrases by answer value: an iterable, or one string with the phrases separated by "|"."""
        listed = {v: found.split("|") if isinstance(found, str) else found for v, found in values.items()}
        return cls({v: tuple(dict.fromkeys(normalize(p) for p in found)) for v, found in listed.items()})

    def merged(self, other: Vocabulary) -> Vocabulary:
        keys = dict.fromkeys([*self.phrases, *other.phrases])
        return Vocabulary(
            {k: tuple(dict.fromkeys((*self.phrases.get(k, ()), *other.phrases.get(k, ())))) for k in keys}
        )

    @cached_property
    def _by_length(self) -> dict[int, tuple[dict[str, str], list[str], list[str]]]:
        """By number of words: the exact phrases' values, and the phrases and values in order for
        the fuzzy search."""
        grouped: dict[int, tuple[dict[str, str], list[str], list[str]]] = {}
        for value, phrases in self.phrases.items():
            for phrase in phrases:
                exact, listed, values = grouped.setdefault(len(phrase.split()), ({}, [], []))
                exact.setdefault(phrase, value)
                listed.append(phrase)
                values.append(value)
        return grouped

    def find(self, text: str, *, fuzzy: bool = True) -> list[Match]:
        """Every answer the text contains, closest and longest phrases first, none overlapping."""
        tokens = normalize(text).split()
        fuzzy = fuzzy and len(tokens) <= MAX_FUZZY_TOKENS
        found: list[Match] = []
        for size, (exact, phrases, values) in self._by_length.items():
            for start in range(len(tokens) - size + 1):
                window = " ".join(tokens[start : start + size])
                value = exact.get(window)
                if value is not None:
                    found.append(Match(value, window, start, start + size, 0))
                elif fuzzy and len(window) >= FUZZY_FROM:
                    best = process.extractOne(window, phrases, scorer=OSA.distance, score_cutoff=2)
                    if best is not None and best[1] <= allowed_typos(best[0]):
                        found.append(Match(values[best[2]], best[0], start, start + size, int(best[1])))
        if fuzzy:
            found.extend(self._split_words(tokens))
        found.sort(key=lambda m: (-m.weight, m.start))
        taken: list[Match] = []
        for match in found:
            if all(match.end <= t.start or match.start >= t.end for t in taken):
                taken.append(match)
        return sorted(taken, key=lambda m: m.start)

    def _split_words(self, tokens: list[str]) -> list[Match]:
        """A one-word phrase typed as two ("on-barding", "web rtc"): each pair of words, joined."""
        single = self._by_length.get(1)
        if single is None:
            return []
        _, phrases, values = single
        found: list[Match] = []
        for start in range(len(tokens) - 1):
            joined = tokens[start] + tokens[start + 1]
            best = process.extractOne(joined, phrases, scorer=OSA.distance, score_cutoff=1)
            if best is not None and len(joined) >= FUZZY_FROM and best[1] <= allowed_typos(best[0]):
                found.append(Match(values[best[2]], best[0], start, start + 2, int(best[1]) + 1))
        return found

    def values(self, text: str, *, fuzzy: bool = True) -> list[str]:
        """The distinct answers the text contains, in the order they were said."""
        return list(dict.fromkeys(m.value for m in self.find(text, fuzzy=fuzzy)))

    def value(self, text: str, *, fuzzy: bool = True) -> str | None:
        """The one answer the text gives, or None when it gives none or several different ones."""
        found = self.values(text, fuzzy=fuzzy)
        return found[0] if len(found) == 1 else None

    def whole(self, text: str) -> str | None:
        """The answer when the whole text is one of the phrases (typed alone, as a button's label)."""
        folded = normalize(text)
        return next((v for v, phrases in self.phrases.items() if folded in phrases), None)


@functools.cache
def _vocabulary(phrases: tuple[str, ...]) -> Vocabulary:
    return Vocabulary.of(hit=phrases)


def contains(text: str, phrases: Iterable[str], *, fuzzy: bool = True) -> bool:
    """Whether the text says one of these phrases (same rules as `Vocabulary.find`)."""
    return bool(_vocabulary(tuple(phrases)).find(text, fuzzy=fuzzy))
