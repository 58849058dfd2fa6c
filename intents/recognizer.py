"""The embedded intent recognizer: intent, entities and language of one message.

It follows Rasa's lightweight pipeline (word and char_wb n-gram features into a class-balanced
logistic regression, with a fallback below a confidence threshold) so that the embedded recognizer
and a Rasa assistant trained on the same files behave alike, without Rasa. Entities come from rules
(:mod:`intents.entities`), not from the model.

The model is fitted once, saved with the package and loaded at start (:mod:`intents.artifact`);
parsing needs only its numbers (:mod:`intents.linear`), never scikit-learn. The same features feed
a second, two-class model that guesses the message's language (en / fr), helped by strong cues
(French accented letters); a message without words takes the language of the caller's region.
"""

from __future__ import annotations

import functools
import logging
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from intents.artifact import DATA_DIR, load_or_fit
from intents.entities import Entity, extract
from intents.features import MAX_CLASSIFIED_CHARS, classification_text, without_numbers
from intents.linear import LinearModel
from intents.training_data import load_directory, nlu_files

__all__ = ["DATA_DIR", "FALLBACK_INTENT", "Entity", "Parse", "Recognizer", "classification_text"]

log = logging.getLogger(__name__)

FALLBACK_INTENT = "out_of_scope"
DEFAULT_THRESHOLD = 0.2  # cross-validated: below 0.2 nothing changes, above it in-domain messages fall back
RANKING_SIZE = 10
LANGUAGES = ("en", "fr")
LANGUAGE_MIN_CONFIDENCE = 0.6  # below this, and without a strong cue, the language is left unknown
_FRENCH_LETTERS = re.compile(r"[àâçéèêëîïôùûüœÀÂÇÉÈÊËÎÏÔÙÛÜŒ]")
# The language of a message without words (a number, an extension): its region's, where one is
# spoken there; elsewhere it is left unknown.
REGION_LANGUAGES = {
    "FR": "fr",
    "MC": "fr",
    "LU": "fr",
    "US": "en",
    "GB": "en",
    "IE": "en",
    "AU": "en",
    "NZ": "en",
}


@dataclass(frozen=True)
class Parse:
    """The recognizer's reading of one message (intent, entities, language)."""

    text: str
    intent: str
    confidence: float
    entities: tuple[Entity, ...]
    ranking: tuple[tuple[str, float], ...]
    language: str | None

    def entity(self, name: str) -> Entity | None:
        """The first entity called ``name``, or None: most steps want a single value."""
        return next((e for e in self.entities if e.entity == name), None)

    def as_rasa(self) -> dict[str, Any]:
        """This parse in Rasa's ``/model/parse`` shape, for ``loginbot nlu parse`` and the Rasa channel."""
        return {
            "text": self.text,
            "intent": {"name": self.intent, "confidence": self.confidence},
            "entities": [_rasa_entity(e) for e in self.entities],
            "intent_ranking": [{"name": n, "confidence": c} for n, c in self.ranking[:RANKING_SIZE]],
        }


def _rasa_entity(entity: Entity) -> dict[str, Any]:
    return {
        "entity": entity.entity,
        "value": entity.value,
        "start": entity.start,
        "end": entity.end,
        "extractor": entity.extractor,
    }


class Recognizer:
    """Intent, entities and language of a message; fit once, parse many times (thread-safe reads)."""

    def __init__(
        self, model: LinearModel, *, threshold: float = DEFAULT_THRESHOLD, source: Path | None = None
    ) -> None:
        self._model = model
        self._source = source  # the data it was fitted on, to refit with scikit-learn when asked
        self.threshold = threshold
        self.intents: tuple[str, ...] = tuple(model.classes["intent"])

    @classmethod
    def from_directory(
        cls, path: Path, *, threshold: float = DEFAULT_THRESHOLD, isolated: bool = False
    ) -> Recognizer:
        """Fit on the NLU files of ``path`` (a Rasa ``data/`` folder, or a folder holding one).

        ``isolated`` fits in a child process, so that this one never imports scikit-learn; should
        the child fail, the model is fitted here after all.
        """
        from intents.artifact import data_digest
        from intents.fitting import fit, fit_in_child

        path = _data_folder(Path(path))
        data = load_directory(path)
        if len(data.intents) < 2:
            raise ValueError(f"{path} holds training data for fewer than two intents")
        if isolated:
            try:
                return cls(fit_in_child(path, data_digest(path)), threshold=threshold, source=path)
            except (OSError, subprocess.SubprocessError, ValueError) as error:
                log.warning("fitting the recognizer in a child process failed (%s); fitting here", error)
        return cls(fit(data), threshold=threshold, source=path)

    @classmethod
    def default(cls) -> Recognizer:
        """The recognizer of the shipped data, loaded once per process (the saved model; see
        :mod:`intents.artifact` for what happens when the data is newer than it)."""
        return _default()

    def parse(self, text: str, *, teams: Sequence[str] = (), region: str = "US") -> Parse:
        """Read one message. Never raises: bad input of any kind gets an ``out_of_scope`` parse."""
        if not isinstance(text, str):
            text = text.decode("utf-8", "replace") if isinstance(text, bytes | bytearray) else str(text)
        try:
            return self._parse(text, teams, region)
        except Exception:  # the last line of defence: a message must never crash a conversation
            log.exception("recognizer failed on a message of %d characters", len(text))
            return _empty(text)

    def _parse(self, text: str, teams: Sequence[str], region: str) -> Parse:
        if not text.strip():
            return _empty(text)
        classified = classification_text(text)
        columns, values = self._model.features_of(classified)
        language = self._language(text, classified, columns, values, region)
        if columns.size == 0:  # nothing we have ever seen: no evidence for any intent
            return Parse(
                text,
                FALLBACK_INTENT,
                0.0,
                self._entities(text, teams, region),
                ((FALLBACK_INTENT, 0.0),),
                language,
            )
        probabilities = self._model.probabilities("intent", columns, values)
        ranking = sorted(
            zip(self._model.classes["intent"], probabilities.tolist(), strict=True), key=lambda item: -item[1]
        )
        intent, confidence = ranking[0]
        if confidence < self.threshold:
            intent, confidence, ranking = self._fallback(ranking)
        return Parse(
            text=text,
            intent=intent,
            confidence=float(confidence),
            entities=self._entities(text, teams, region),
            ranking=tuple((name, float(p)) for name, p in ranking[:RANKING_SIZE]),
            language=language,
        )

    def _fallback(self, ranking: list[tuple[str, float]]) -> tuple[str, float, list[tuple[str, float]]]:
        """Below the threshold the answer is ``out_of_scope``, scored at the threshold like Rasa's
        FallbackClassifier scores ``nlu_fallback``; the model's other guesses stay in the ranking."""
        scores = dict(ranking)
        scores[FALLBACK_INTENT] = max(scores.get(FALLBACK_INTENT, 0.0), self.threshold)
        reranked = sorted(scores.items(), key=lambda item: (item[0] != FALLBACK_INTENT, -item[1]))
        return FALLBACK_INTENT, scores[FALLBACK_INTENT], reranked

    def _entities(self, text: str, teams: Sequence[str], region: str) -> tuple[Entity, ...]:
        """Entities of the message's start (same window as the classifier), offsets into ``text``."""
        try:
            return tuple(extract(text[:MAX_CLASSIFIED_CHARS], teams=tuple(teams or ()), region=region))
        except Exception:  # a bad team list or region must not cost the user the intent
            log.exception("entity extraction failed")
            return ()

    def _language(
        self, text: str, classified: str, columns: np.ndarray, values: np.ndarray, region: str
    ) -> str | None:
        """en / fr from the language model, overridden by French letters; the region's language for
        a message without letters. Numbers say nothing about the language (French national numbers
        are written in pairs of digits, which would pull "French number 06 12 34 56 78" to French),
        so the language model reads the message without them."""
        if not any(ch.isalpha() for ch in classified):
            return REGION_LANGUAGES.get(region.upper()) if isinstance(region, str) else None
        if "language" not in self._model.models:
            return self._model.languages[0] if self._model.languages else None
        if any(ch.isdigit() for ch in classified):
            columns, values = self._model.features_of(without_numbers(classified))
        probabilities = self._model.probabilities("language", columns, values)
        scores = dict(zip(self._model.classes["language"], probabilities.tolist(), strict=True))
        if _FRENCH_LETTERS.search(text[:MAX_CLASSIFIED_CHARS]) and scores.get("en", 0.0) < 0.97:
            return "fr"
        best = max(scores, key=lambda name: scores[name])
        return best if scores[best] >= LANGUAGE_MIN_CONFIDENCE else None

    def sklearn_probabilities(self, text: str) -> dict[str, float]:
        """Intent probabilities computed by scikit-learn itself (slow path; for tests and debugging).
        A model not fitted in this process is fitted again here, on the same data, the first time."""
        from intents.fitting import fit

        if self._model.fitted is None:
            self._model.fitted = fit(load_directory(self._source or DATA_DIR)).fitted
        features, models = self._model.fitted
        matrix = features.transform([classification_text(text)])
        model = models["intent"]
        return dict(zip(self._model.classes["intent"], model.predict_proba(matrix)[0].tolist(), strict=True))


def _empty(text: str) -> Parse:
    return Parse(text, FALLBACK_INTENT, 0.0, (), ((FALLBACK_INTENT, 0.0),), None)


def _data_folder(path: Path) -> Path:
    if not nlu_files(path) and (path / "data").is_dir():
        return path / "data"
    return path


@functools.cache
def _default() -> Recognizer:
    return Recognizer(load_or_fit(DATA_DIR), source=DATA_DIR)
