"""What the intent and language models see of a message, and their features, without scikit-learn.

A message is first normalised (`classification_text`): control characters become spaces, case and
accents are folded, typographic apostrophes become ``'``, digits become ``0`` and the abbreviations
people type are spelled out (``pwd`` -> ``password``, ``mdp`` -> ``mot de passe``, ``stp`` ->
``s'il te plait``). So "déconnecte-moi" and "deconnecte moi", or "extension 2001" and
"ext 4410", share their features; the entity extractors still see the original text.

The features are Rasa's lightweight pipeline: tf-idf weighted word 1-2-grams and char_wb 1-4-grams.
`word_ngrams` and `char_wb_ngrams` are scikit-learn's analyzers rewritten (a test checks they give
the same n-grams), so that parsing needs the fitted numbers only, never scikit-learn.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

__all__ = [
    "FEATURES",
    "MAX_CLASSIFIED_CHARS",
    "WORD_TOKENS",
    "analyzer",
    "char_wb_ngrams",
    "classification_text",
    "without_numbers",
    "word_ngrams",
]

MAX_CLASSIFIED_CHARS = 2000  # a huge message is classified (and searched for entities) on its start
WORD_TOKENS = r"(?u)\b\w+\b"
# (analyzer, n-gram range) of each feature block, in FeatureUnion order.
FEATURES: tuple[tuple[str, tuple[int, int]], ...] = (("word", (1, 2)), ("char_wb", (1, 4)))

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_DIGIT = str.maketrans("123456789’‘`´", "000000000''''")
_WORD = re.compile(r"\w+")

# Abbreviations and chat spellings, spelled out so that they share the features of the full words
# (the training data holds both forms too; this covers the combinations it cannot list).
ABBREVIATIONS: dict[str, str] = {
    # English
    "pw": "password",
    "pwd": "password",
    "pswd": "password",
    "passwd": "password",
    "pword": "password",
    "plz": "please",
    "pls": "please",
    "thx": "thanks",
    "thks": "thanks",
    "ty": "thank you",
    "u": "you",
    "ur": "your",
    "cant": "can't",
    "dont": "don't",
    "wont": "won't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "isnt": "isn't",
    "im": "i'm",
    "ext": "extension",
    "acct": "account",
    "w": "with",
    "rn": "right now",
    "asap": "as soon as possible",
    "idk": "i don't know",
    "nvm": "never mind",
    "ttyl": "talk to you later",
    # French
    "mdp": "mot de passe",
    "stp": "s'il te plait",
    "svp": "s'il vous plait",
    "slt": "salut",
    "bjr": "bonjour",
    "dispo": "disponible",
    "pb": "probleme",
    "pbm": "probleme",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "pcq": "parce que",
    "mtn": "maintenant",
    "tjs": "toujours",
    "tjrs": "toujours",
    "jsuis": "je suis",
    "chui": "je suis",
    "jveux": "je veux",
    "jpeux": "je peux",
    "jarrive": "j'arrive",
    "jme": "je me",
    "stv": "si tu veux",
    "deco": "deconnexion",
    "dsl": "desole",
    "bcp": "beaucoup",
    "qqn": "quelqu'un",
    "qqch": "quelque chose",
    "cad": "c'est-a-dire",
    "tel": "telephone",
}


def _spell_out(match: re.Match[str]) -> str:
    word = match.group(0)
    return ABBREVIATIONS.get(word, word)


def fold(text: str) -> str:
    """Lower case, without accents ("Déconnecté" -> "deconnecte")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def classification_text(text: str) -> str:
    """What the models see: the normalised start of the message (see the module docstring)."""
    cleaned = _CONTROL.sub(" ", text[:MAX_CLASSIFIED_CHARS]).translate(_DIGIT)
    return _WORD.sub(_spell_out, fold(cleaned))


_NUMBERS = re.compile(r"[\d+()]+(?:[\s.\-]+[\d+()]+)*")


def without_numbers(classified: str) -> str:
    """A classified text with its numbers blanked: what the language model reads, since numbers say
    nothing about the language (French ones are written in pairs of digits)."""
    return _NUMBERS.sub(" ", classified)


_WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's own whitespace normalization
_TOKENS = re.compile(WORD_TOKENS)


def word_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """scikit-learn's word analyzer (lower case, `WORD_TOKENS`, no stop words), without scikit-learn."""
    tokens = _TOKENS.findall(text.lower())
    low, high = ngram_range
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high + 1, len(tokens) + 1)):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def char_wb_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """scikit-learn's char_wb analyzer (lower case): n-grams inside space-padded words."""
    low, high = ngram_range
    grams: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        word = f" {word} "
        length = len(word)
        for n in range(low, high + 1):
            offset = 0
            grams.append(word[offset : offset + n])
            while offset + n < length:
                offset += 1
                grams.append(word[offset : offset + n])
            if offset == 0:  # a word shorter than n counts once
                break
    return grams


_ANALYZERS: dict[str, Callable[[str, tuple[int, int]], list[str]]] = {
    "word": word_ngrams,
    "char_wb": char_wb_ngrams,
}


def analyzer(kind: str, ngram_range: tuple[int, int]) -> Callable[[str], list[str]]:
    ngrams = _ANALYZERS[kind]
    return lambda text: ngrams(text, ngram_range)
