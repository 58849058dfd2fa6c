"""Test the recognizer the way ``rasa test nlu`` does: on a test set, or by cross-validation.

Intents: accuracy overall and per language, precision / recall / F1 / support per intent (and per
language), and the confusions, each with a few of the messages behind it. Entities: precision,
recall and F1 per entity, an extracted entity counting as right when it has the annotated name and
value and overlaps the annotated span (the extractors are rules, so the offsets of a Rasa
annotation and of a match may differ by a trailing dot or a space).

Cross-validation splits the examples into stratified folds (by intent and language, with a fixed
seed so that every run and every system sees the same folds), fits a model on all folds but one and
tests it on that one. Fitting needs scikit-learn; this module is only used by ``loginbot nlu test``,
the tests and the benchmark, never by a serving process.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from intents.fitting import fit
from intents.recognizer import Recognizer
from intents.training_data import Example, TrainingData

__all__ = ["REGIONS", "Prediction", "Report", "cross_validate", "evaluate"]

# The region each language's numbers are read with when the test data says nothing else.
REGIONS = {"en": "US", "fr": "FR"}
EXAMPLES_PER_CONFUSION = 3
DEFAULT_FOLDS = 5
SEED = 11


@dataclass(frozen=True)
class Prediction:
    """One test message: what it is annotated with and what the recognizer made of it."""

    text: str
    language: str
    intent: str
    predicted: str
    confidence: float
    gold_entities: tuple[tuple[str, str, int, int], ...]
    found_entities: tuple[tuple[str, str, int, int], ...]
    predicted_language: str | None = None


@dataclass
class _Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def scores(self) -> dict[str, float | int]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1-score": f1, "support": self.tp + self.fn}


@dataclass
class Report:
    """Every prediction of a test run, and the figures computed from them."""

    predictions: list[Prediction] = field(default_factory=list)
    folds: int | None = None

    # --- intents -------------------------------------------------------------------------------

    def accuracy(self, language: str | None = None) -> float:
        chosen = self._of(language)
        return sum(p.intent == p.predicted for p in chosen) / len(chosen) if chosen else 0.0

    def languages(self) -> list[str]:
        return sorted({p.language for p in self.predictions})

    def intent_scores(self, language: str | None = None) -> dict[str, dict[str, float | int]]:
        """Per intent: precision, recall, F1 and support (messages annotated with it)."""
        counts: dict[str, _Counts] = defaultdict(_Counts)
        for p in self._of(language):
            counts[p.intent]  # every annotated intent gets a row, even with no hit
            if p.intent == p.predicted:
                counts[p.intent].tp += 1
            else:
                counts[p.intent].fn += 1
                counts[p.predicted].fp += 1
        return {name: counts[name].scores() for name in sorted(counts)}

    def confusions(self, language: str | None = None) -> list[dict[str, Any]]:
        """(annotated, predicted) pairs that differ, most frequent first, with a few examples each."""
        pairs: dict[tuple[str, str], list[Prediction]] = defaultdict(list)
        for p in self._of(language):
            if p.intent != p.predicted:
                pairs[(p.intent, p.predicted)].append(p)
        ordered = sorted(pairs.items(), key=lambda item: (-len(item[1]), item[0]))
        return [
            {
                "intent": intent,
                "predicted": predicted,
                "count": len(missed),
                "examples": [
                    {"text": p.text, "language": p.language, "confidence": round(p.confidence, 3)}
                    for p in missed[:EXAMPLES_PER_CONFUSION]
                ],
            }
            for (intent, predicted), missed in ordered
        ]

    def language_accuracy(self, language: str | None = None) -> float:
        chosen = self._of(language)
        return sum(p.predicted_language == p.language for p in chosen) / len(chosen) if chosen else 0.0

    # --- entities ------------------------------------------------------------------------------

    def entity_scores(self, language: str | None = None) -> dict[str, dict[str, float | int]]:
        """Per entity, and ``micro`` over all of them: precision, recall, F1, support."""
        counts: dict[str, _Counts] = defaultdict(_Counts)
        for p in self._of(language):
            unmatched = list(p.gold_entities)
            for name, value, start, end in p.found_entities:
                hit = next(
                    (g for g in unmatched if g[:2] == (name, value) and g[2] < end and start < g[3]), None
                )
                if hit is None:
                    counts[name].fp += 1
                else:
                    unmatched.remove(hit)
                    counts[name].tp += 1
            for name, *_ in unmatched:
                counts[name].fn += 1
        total = _Counts(
            sum(c.tp for c in counts.values()),
            sum(c.fp for c in counts.values()),
            sum(c.fn for c in counts.values()),
        )
        scores = {name: counts[name].scores() for name in sorted(counts)}
        scores["micro"] = total.scores()
        return scores

    def entity_f1(self, language: str | None = None) -> float:
        return float(self.entity_scores(language)["micro"]["f1-score"])

    # --- output --------------------------------------------------------------------------------

    def as_json(self) -> dict[str, Any]:
        """The whole report as JSON-ready data (the shape of ``loginbot nlu test --json``)."""
        return {
            "messages": len(self.predictions),
            "folds": self.folds,
            "intent_evaluation": {
                "accuracy": self.accuracy(),
                "report": self.intent_scores(),
                "confusions": self.confusions(),
                "per_language": {
                    language: {
                        "messages": len(self._of(language)),
                        "accuracy": self.accuracy(language),
                        "report": self.intent_scores(language),
                    }
                    for language in self.languages()
                },
            },
            "language_evaluation": {
                "accuracy": self.language_accuracy(),
                "per_language": {lang: self.language_accuracy(lang) for lang in self.languages()},
            },
            "entity_evaluation": {
                "report": self.entity_scores(),
                "per_language": {lang: self.entity_scores(lang) for lang in self.languages()},
            },
        }

    def _of(self, language: str | None) -> list[Prediction]:
        return [p for p in self.predictions if language is None or p.language == language]


def predict(
    recognizer: Recognizer,
    examples: Iterable[Example],
    *,
    teams: Sequence[str] = (),
    regions: dict[str, str] | None = None,
) -> list[Prediction]:
    """Parse each example as a user's message (its language's region, the given team names)."""
    regions = regions or REGIONS
    out = []
    for example in examples:
        parse = recognizer.parse(example.text, teams=teams, region=regions.get(example.language, "US"))
        out.append(
            Prediction(
                text=example.text,
                language=example.language,
                intent=example.intent,
                predicted=parse.intent,
                confidence=parse.confidence,
                gold_entities=tuple((e.entity, e.value, e.start, e.end) for e in example.entities),
                found_entities=tuple((e.entity, e.value, e.start, e.end) for e in parse.entities),
                predicted_language=parse.language,
            )
        )
    return out


def evaluate(recognizer: Recognizer, data: TrainingData, *, teams: Sequence[str] = ()) -> Report:
    """Test a fitted recognizer on ``data`` (``rasa test nlu --nlu PATH``)."""
    return Report(predict(recognizer, data.examples, teams=teams))


def folds_of(examples: Sequence[Example], folds: int, seed: int = SEED) -> list[list[int]]:
    """Stratified folds (by intent and language) of example indexes, the same at every run."""
    from sklearn.model_selection import StratifiedKFold

    labels = [f"{e.intent}/{e.language}" for e in examples]
    smallest = min(Counter(labels).values())
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    if smallest < folds:
        raise ValueError(
            f"cross-validation with {folds} folds needs at least {folds} examples of each intent in "
            f"each language; the smallest has {smallest}"
        )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [list(test) for _, test in splitter.split(labels, labels)]


def cross_validate(
    data: TrainingData,
    *,
    folds: int = DEFAULT_FOLDS,
    teams: Sequence[str] = (),
    threshold: float | None = None,
) -> Report:
    """``rasa test nlu --cross-validation``: every example is tested by a model that never saw it."""
    report = Report(folds=folds)
    for test in folds_of(data.examples, folds):
        held = set(test)
        train = TrainingData(
            examples=[e for i, e in enumerate(data.examples) if i not in held],
            synonyms=data.synonyms,
            lookups=data.lookups,
        )
        model = fit(train)
        recognizer = Recognizer(model) if threshold is None else Recognizer(model, threshold=threshold)
        report.predictions.extend(predict(recognizer, [data.examples[i] for i in test], teams=teams))
    return report
