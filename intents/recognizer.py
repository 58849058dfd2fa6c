"""The embedded intent recognizer, trained from the Rasa-format data at start-up.

It follows Rasa's lightweight pipeline (word and char_wb n-gram features into a class-balanced
logistic regression, with a fallback below a confidence threshold) so that the embedded recognizer
and a Rasa assistant trained on the same files behave alike, without Rasa. Entities come from rules
(:mod:`intents.entities`), not from the model.

Why it is fast enough to train at every start and to parse per message without batching:

* the data is small (about a thousand examples) and the linear model fits in a fraction of a second;
* scikit-learn's per-call overhead (input validation, sparse matrix construction) dominates the cost
  of transforming one short message, so :class:`_LinearModel` uses the fitted vectorizers'
  analyzers and vocabularies and the fitted coefficients directly: a few dictionary look-ups and one
  small matrix product per message. A test checks that it gives the same probabilities as
  scikit-learn's ``predict_proba``.

The same features feed a second, two-class model that guesses the message's language (en / fr),
helped by strong cues (French accented letters).
"""

from __future__ import annotations

import functools
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from intents.entities import Entity, extract
from intents.training_data import TrainingData, load_directory, nlu_files

__all__ = ["DATA_DIR", "FALLBACK_INTENT", "Entity", "Parse", "Recognizer"]

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
FALLBACK_INTENT = "out_of_scope"
DEFAULT_THRESHOLD = 0.3
MAX_CLASSIFIED_CHARS = 2000  # a huge message is classified (and searched for entities) on its start
RANKING_SIZE = 10
LANGUAGES = ("en", "fr")
LANGUAGE_MIN_CONFIDENCE = 0.6  # below this, and without a strong cue, the language is left unknown
_FRENCH_LETTERS = re.compile(r"[àâçéèêëîïôùûüœÀÂÇÉÈÊËÎÏÔÙÛÜŒ]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_DIGIT = str.maketrans("123456789", "000000000")


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


def classification_text(text: str) -> str:
    """What the models see: the start of the message, control characters as spaces, digits as 0.

    Mapping digits to 0 lets "extension 2001" and "extension 4410" share features; the entity
    extractors still see the original text.
    """
    cleaned = _CONTROL.sub(" ", text[:MAX_CLASSIFIED_CHARS])
    return unicodedata.normalize("NFC", cleaned).translate(_DIGIT)


def _vectorizers() -> FeatureUnion:
    """Word 1-2-grams and char_wb 1-4-grams, as in Rasa's lightweight pipeline (tf-idf weighted)."""
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b", sublinear_tf=True
                ),
            ),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True)),
        ]
    )


class _LinearModel:
    """Fitted vectorizers + linear models, evaluated without scikit-learn's per-call overhead."""

    def __init__(self, features: FeatureUnion, models: dict[str, LogisticRegression]) -> None:
        self.features = features
        self.models = models
        self._parts: list[tuple[Callable[[str], list[str]], dict[str, int], np.ndarray, int, bool]] = []
        offset = 0
        for _, vectorizer in features.transformer_list:
            vocabulary: dict[str, int] = vectorizer.vocabulary_
            self._parts.append(
                (vectorizer.build_analyzer(), vocabulary, vectorizer.idf_, offset, vectorizer.sublinear_tf)
            )
            offset += len(vocabulary)
        self._weights = {name: np.ascontiguousarray(m.coef_.T) for name, m in models.items()}
        self._bias = {name: m.intercept_.copy() for name, m in models.items()}
        self.classes = {name: [str(c) for c in m.classes_] for name, m in models.items()}
        self.languages: list[str] = self.classes.get("language", [])

    def features_of(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Sparse feature vector of ``text`` as (column indices, values), matching the FeatureUnion."""
        columns: list[int] = []
        values: list[float] = []
        for analyze, vocabulary, idf, offset, sublinear in self._parts:
            counts: dict[int, int] = {}
            for gram in analyze(text):
                index = vocabulary.get(gram)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            if not counts:
                continue
            part = [((1.0 + math.log(n)) if sublinear else float(n)) * idf[i] for i, n in counts.items()]
            norm = math.sqrt(sum(v * v for v in part)) or 1.0
            columns.extend(offset + i for i in counts)
            values.extend(v / norm for v in part)
        return np.asarray(columns, dtype=np.intp), np.asarray(values, dtype=np.float64)

    def probabilities(self, name: str, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Class probabilities of model ``name``, exactly as ``LogisticRegression.predict_proba``."""
        decision = values @ self._weights[name][columns] + self._bias[name]
        if decision.shape[0] == 1:  # binary model: one decision for the second class
            positive = 1.0 / (1.0 + math.exp(-float(decision[0])))
            return np.array([1.0 - positive, positive])
        decision = decision - decision.max()
        exp = np.exp(decision)
        return np.asarray(exp / exp.sum())


def _logistic_regression() -> LogisticRegression:
    """Rasa's choice (class-balanced logistic regression) with the newton-cg solver: on this data it
    converges in under ten iterations, several times faster than lbfgs, which keeps start-up short.
    C=30 was picked on the held-out set (3 to 100 all land within a point of each other)."""
    return LogisticRegression(class_weight="balanced", C=30.0, solver="newton-cg", max_iter=100)


def _fit(data: TrainingData) -> _LinearModel:
    """Fit the features and both models on every example of ``data``."""
    texts = [classification_text(e.text) for e in data.examples]
    features = _vectorizers()
    matrix = features.fit_transform(texts)
    intent_model = _logistic_regression()
    intent_model.fit(matrix, [e.intent for e in data.examples])
    models = {"intent": intent_model}
    languages = sorted({e.language for e in data.examples})
    if len(languages) > 1:  # data in one language only: every message is taken to be in it
        language_model = _logistic_regression()
        language_model.fit(matrix, [e.language for e in data.examples])
        models["language"] = language_model
    model = _LinearModel(features, models)
    model.languages = languages
    return model


class Recognizer:
    """Intent, entities and language of a message; train once, parse many times (thread-safe reads)."""

    def __init__(self, model: _LinearModel, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self._model = model
        self.threshold = threshold
        self.intents: tuple[str, ...] = tuple(model.classes["intent"])

    @classmethod
    def from_directory(cls, path: Path, *, threshold: float = DEFAULT_THRESHOLD) -> Recognizer:
        """Train from the NLU files of ``path`` (a Rasa ``data/`` folder, or a folder holding one)."""
        path = Path(path)
        if not nlu_files(path) and (path / "data").is_dir():
            path = path / "data"
        data = load_directory(path)
        if len(data.intents) < 2:
            raise ValueError(f"{path} holds training data for fewer than two intents")
        return cls(_fit(data), threshold=threshold)

    @classmethod
    def default(cls) -> Recognizer:
        """The recognizer trained on the shipped data, built once per process."""
        return _default()

    def parse(self, text: str, *, teams: Sequence[str] = (), region: str = "US") -> Parse:
        """Read one message. Never raises: bad input of any kind gets an ``out_of_scope`` parse."""
        if not isinstance(text, str):
            text = text.decode("utf-8", "replace") if isinstance(text, bytes | bytearray) else str(text)
        try:
            return self._parse(text, teams, region)
        except Exception:  # the last line of defence for requirement X1; should never happen
            log.exception("recognizer failed on a message of %d characters", len(text))
            return _empty(text)

    def _parse(self, text: str, teams: Sequence[str], region: str) -> Parse:
        if not text.strip():
            return _empty(text)
        classified = classification_text(text)
        columns, values = self._model.features_of(classified)
        if columns.size == 0:  # nothing we have ever seen: no evidence for any intent
            return Parse(
                text,
                FALLBACK_INTENT,
                0.0,
                self._entities(text, teams, region),
                ((FALLBACK_INTENT, 0.0),),
                _language_cue(classified),
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
            language=self._language(classified, columns, values),
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

    def _language(self, classified: str, columns: np.ndarray, values: np.ndarray) -> str | None:
        """en / fr from the language model, overridden by French letters; None without letters."""
        if not any(ch.isalpha() for ch in classified):
            return None
        if "language" not in self._model.models:
            return self._model.languages[0] if self._model.languages else None
        probabilities = self._model.probabilities("language", columns, values)
        scores = dict(zip(self._model.classes["language"], probabilities.tolist(), strict=True))
        if _FRENCH_LETTERS.search(classified) and scores.get("en", 0.0) < 0.97:
            return "fr"
        best = max(scores, key=lambda name: scores[name])
        return best if scores[best] >= LANGUAGE_MIN_CONFIDENCE else None

    def sklearn_probabilities(self, text: str) -> dict[str, float]:
        """Intent probabilities computed by scikit-learn itself (slow path; for tests and debugging)."""
        matrix = self._model.features.transform([classification_text(text)])
        model = self._model.models["intent"]
        return dict(zip(self._model.classes["intent"], model.predict_proba(matrix)[0].tolist(), strict=True))


def _language_cue(classified: str) -> str | None:
    return "fr" if _FRENCH_LETTERS.search(classified) else None


def _empty(text: str) -> Parse:
    return Parse(text, FALLBACK_INTENT, 0.0, (), ((FALLBACK_INTENT, 0.0),), None)


@functools.cache
def _default() -> Recognizer:
    return Recognizer.from_directory(DATA_DIR)
