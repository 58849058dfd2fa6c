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

Why the shipped model is fitted in a child process (`Recognizer.default`): importing scikit-learn
pulls in SciPy and costs a serving process some 75 MB of memory for the rest of its life, while
parsing needs only the fitted numbers. The child fits, hands back vocabularies and coefficients
(`_LinearModel.export`), and exits; this module imports scikit-learn only where it fits a model.
Should the child fail, the model is fitted in this process instead (same result, more memory).
"""

from __future__ import annotations

import functools
import logging
import math
import pickle
import re
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from intents.entities import Entity, extract
from intents.training_data import TrainingData, load_directory, nlu_files

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

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


WORD_TOKENS = r"(?u)\b\w+\b"
# (analyzer, n-gram range) of each feature block, in FeatureUnion order.
FEATURES: tuple[tuple[str, tuple[int, int]], ...] = (("word", (1, 2)), ("char_wb", (1, 4)))
_WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's own whitespace normalization
_TOKENS = re.compile(WORD_TOKENS)


def _vectorizers() -> FeatureUnion:
    """Word 1-2-grams and char_wb 1-4-grams, as in Rasa's lightweight pipeline (tf-idf weighted)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    blocks = {"word": "words", "char_wb": "chars"}
    return FeatureUnion(
        [
            (
                blocks[analyzer],
                TfidfVectorizer(
                    analyzer=analyzer,
                    ngram_range=ngrams,
                    token_pattern=WORD_TOKENS if analyzer == "word" else None,
                    sublinear_tf=True,
                ),
            )
            for analyzer, ngrams in FEATURES
        ]
    )


def _word_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """scikit-learn's word analyzer (lower case, `WORD_TOKENS`, no stop words), without scikit-learn."""
    tokens = _TOKENS.findall(text.lower())
    low, high = ngram_range
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high + 1, len(tokens) + 1)):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def _char_wb_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
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
    "word": _word_ngrams,
    "char_wb": _char_wb_ngrams,
}


def _analyzer(kind: str, ngram_range: tuple[int, int]) -> Callable[[str], list[str]]:
    ngrams = _ANALYZERS[kind]
    return lambda text: ngrams(text, ngram_range)


class _LinearModel:
    """Fitted vocabularies, idf weights and linear models, evaluated without scikit-learn.

    Built from plain data (`export` / `from_export`), so that a model fitted in another process
    needs no scikit-learn here; `fitted` keeps scikit-learn's own objects when fitted in-process.
    """

    def __init__(
        self,
        blocks: list[tuple[str, tuple[int, int], dict[str, int], np.ndarray, bool]],
        weights: dict[str, np.ndarray],
        bias: dict[str, np.ndarray],
        classes: dict[str, list[str]],
        languages: list[str],
        fitted: tuple[FeatureUnion, dict[str, LogisticRegression]] | None = None,
    ) -> None:
        self.blocks = blocks
        self.fitted = fitted
        self._parts: list[tuple[Callable[[str], list[str]], dict[str, int], np.ndarray, int, bool]] = []
        offset = 0
        for analyzer, ngrams, vocabulary, idf, sublinear in blocks:
            self._parts.append(
                (
                    _analyzer(analyzer, ngrams),
                    vocabulary,
                    idf,
                    offset,
                    sublinear,
                )
            )
            offset += len(vocabulary)
        self._weights = weights
        self._bias = bias
        self.classes = classes
        self.languages = languages

    @classmethod
    def from_fitted(cls, features: FeatureUnion, models: dict[str, LogisticRegression]) -> _LinearModel:
        blocks = []
        for (analyzer, ngrams), (_, vectorizer) in zip(FEATURES, features.transformer_list, strict=True):
            if vectorizer.analyzer != analyzer or tuple(vectorizer.ngram_range) != ngrams:
                raise ValueError("the vectorizers differ from FEATURES")
            vocabulary = {str(gram): int(i) for gram, i in vectorizer.vocabulary_.items()}
            blocks.append(
                (analyzer, ngrams, vocabulary, np.asarray(vectorizer.idf_), bool(vectorizer.sublinear_tf))
            )
        classes = {name: [str(c) for c in m.classes_] for name, m in models.items()}
        return cls(
            blocks,
            weights={name: np.ascontiguousarray(m.coef_.T) for name, m in models.items()},
            bias={name: m.intercept_.copy() for name, m in models.items()},
            classes=classes,
            languages=classes.get("language", []),
            fitted=(features, models),
        )

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self._weights)

    def export(self) -> dict[str, Any]:
        """Everything parsing needs, as builtins and numpy arrays (picklable without scikit-learn)."""
        return {
            "blocks": self.blocks,
            "weights": self._weights,
            "bias": self._bias,
            "classes": self.classes,
            "languages": self.languages,
        }

    @classmethod
    def from_export(cls, data: dict[str, Any]) -> _LinearModel:
        return cls(data["blocks"], data["weights"], data["bias"], data["classes"], data["languages"])

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
    from sklearn.linear_model import LogisticRegression

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
    model = _LinearModel.from_fitted(features, models)
    model.languages = languages
    return model


_CHILD = "import sys; from intents.recognizer import _main; sys.exit(_main(sys.argv[1:]))"


def _fit_in_child(path: Path, timeout: float = 120.0) -> _LinearModel:
    """Fit on the data of `path` in a new Python process (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="loginbot-recognizer-") as tmp:
        out = Path(tmp) / "model.pickle"
        subprocess.run(
            [sys.executable, "-c", _CHILD, str(path), str(out)],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        # Written by the child just started, in a directory only this process knows: trusted.
        data = pickle.loads(out.read_bytes())
    return _LinearModel.from_export(data)


class Recognizer:
    """Intent, entities and language of a message; train once, parse many times (thread-safe reads)."""

    def __init__(
        self, model: _LinearModel, *, threshold: float = DEFAULT_THRESHOLD, source: Path | None = None
    ) -> None:
        self._model = model
        self._source = source  # the data it was fitted on, to refit with scikit-learn when asked
        self.threshold = threshold
        self.intents: tuple[str, ...] = tuple(model.classes["intent"])

    @classmethod
    def from_directory(
        cls, path: Path, *, threshold: float = DEFAULT_THRESHOLD, isolated: bool = False
    ) -> Recognizer:
        """Train from the NLU files of ``path`` (a Rasa ``data/`` folder, or a folder holding one).

        ``isolated`` fits in a child process, so that this one never imports scikit-learn; should
        the child fail, the model is fitted here after all.
        """
        path = _data_folder(Path(path))
        if isolated:
            try:
                return cls(_fit_in_child(path), threshold=threshold, source=path)
            except (OSError, subprocess.SubprocessError, pickle.UnpicklingError, KeyError) as error:
                log.warning("fitting the recognizer in a child process failed (%s); fitting here", error)
        data = load_directory(path)
        if len(data.intents) < 2:
            raise ValueError(f"{path} holds training data for fewer than two intents")
        return cls(_fit(data), threshold=threshold, source=path)

    @classmethod
    def default(cls) -> Recognizer:
        """The recognizer trained on the shipped data, built once per process (in a child process)."""
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
        """Intent probabilities computed by scikit-learn itself (slow path; for tests and debugging).
        A model fitted in a child process is fitted again here, on the same data, the first time."""
        if self._model.fitted is None:
            if self._source is None:
                raise ValueError("this recognizer does not know the data it was fitted on")
            self._model.fitted = _fit(load_directory(self._source)).fitted
        assert self._model.fitted is not None
        features, models = self._model.fitted
        matrix = features.transform([classification_text(text)])
        model = models["intent"]
        return dict(zip(self._model.classes["intent"], model.predict_proba(matrix)[0].tolist(), strict=True))


def _language_cue(classified: str) -> str | None:
    return "fr" if _FRENCH_LETTERS.search(classified) else None


def _empty(text: str) -> Parse:
    return Parse(text, FALLBACK_INTENT, 0.0, (), ((FALLBACK_INTENT, 0.0),), None)


def _data_folder(path: Path) -> Path:
    if not nlu_files(path) and (path / "data").is_dir():
        return path / "data"
    return path


@functools.cache
def _default() -> Recognizer:
    return Recognizer.from_directory(DATA_DIR, isolated=True)


def _main(argv: list[str]) -> int:
    """The child of `_fit_in_child`: fit on the data folder argv[0], pickle the export to argv[1]."""
    data = load_directory(Path(argv[0]))
    if len(data.intents) < 2:
        print(f"{argv[0]} holds training data for fewer than two intents", file=sys.stderr)
        return 2
    Path(argv[1]).write_bytes(pickle.dumps(_fit(data).export(), protocol=pickle.HIGHEST_PROTOCOL))
    return 0
