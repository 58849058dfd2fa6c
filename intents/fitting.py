"""Fitting the recognizer's models with scikit-learn (at build time, in tests and in evaluation).

A serving process never imports this module when the shipped model matches the training data: it
loads the saved numbers (:mod:`intents.artifact`). Importing scikit-learn pulls in SciPy and costs
a process some 75 MB for the rest of its life, so even a refit for data newer than the shipped
model runs in a child process (`fit_in_child`) that hands back the saved model and exits.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from intents.features import FEATURES, WORD_TOKENS, classification_text, without_numbers
from intents.linear import Block, LinearModel
from intents.training_data import TrainingData, load_directory

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

__all__ = ["FIT_PARAMETERS", "fit", "fit_in_child", "vectorizers"]

# Rasa's choice (class-balanced logistic regression) with the newton-cg solver, which converges in a
# few iterations on this data. C was chosen by cross-validation on the training data.
FIT_PARAMETERS: dict[str, object] = {
    "class_weight": "balanced",
    "C": 100.0,
    "solver": "newton-cg",
    "max_iter": 200,
}


def vectorizers() -> FeatureUnion:
    """Word 1-2-grams and char_wb 1-4-grams, as in Rasa's lightweight pipeline (tf-idf weighted)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    blocks = {"word": "words", "char_wb": "chars"}
    return FeatureUnion(
        [
            (
                blocks[kind],
                TfidfVectorizer(
                    analyzer=kind,
                    ngram_range=ngrams,
                    token_pattern=WORD_TOKENS if kind == "word" else None,
                    sublinear_tf=True,
                    lowercase=True,
                ),
            )
            for kind, ngrams in FEATURES
        ]
    )


def logistic_regression() -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(**FIT_PARAMETERS)


# `out_of_scope` gathers everything else, so it has far more variety than any intent: at its balanced
# weight it also claims short in-domain messages it has never seen ("cheers", "tutorial"). A lower
# weight trades some of its recall for precision (cross-validated: precision +2 points at 0.75).
OUT_OF_SCOPE_WEIGHT = 0.75


def intent_weights(intents: list[str]) -> dict[str, float]:
    """Balanced class weights (n / (classes * count)), `out_of_scope` scaled by OUT_OF_SCOPE_WEIGHT."""
    counts = Counter(intents)
    weights = {name: len(intents) / (len(counts) * n) for name, n in counts.items()}
    if "out_of_scope" in weights:
        weights["out_of_scope"] *= OUT_OF_SCOPE_WEIGHT
    return weights


def fit(data: TrainingData, *, digest: str = "") -> LinearModel:
    """Fit the features, the intent model and (with two languages or more) the language model."""
    texts = [classification_text(e.text) for e in data.examples]
    features = vectorizers()
    matrix = features.fit_transform(texts)
    intents = [e.intent for e in data.examples]
    intent_model = logistic_regression().set_params(class_weight=intent_weights(intents))
    models = {"intent": intent_model.fit(matrix, intents)}
    languages = sorted({e.language for e in data.examples})
    if len(languages) > 1:  # data in one language only: every message is taken to be in it
        wordy = features.transform([without_numbers(t) for t in texts])
        models["language"] = logistic_regression().fit(wordy, [e.language for e in data.examples])
    blocks: list[Block] = []
    for (kind, ngrams), (_, vectorizer) in zip(FEATURES, features.transformer_list, strict=True):
        vocabulary = {str(gram): int(i) for gram, i in vectorizer.vocabulary_.items()}
        blocks.append((kind, ngrams, vocabulary, np.asarray(vectorizer.idf_), bool(vectorizer.sublinear_tf)))
    return LinearModel(
        blocks,
        weights={name: np.ascontiguousarray(m.coef_.T) for name, m in models.items()},
        bias={name: m.intercept_.copy() for name, m in models.items()},
        classes={name: [str(c) for c in m.classes_] for name, m in models.items()},
        languages=languages,
        digest=digest,
        fitted=(features, models),
    )


_CHILD = "import sys; from intents.fitting import main; sys.exit(main(sys.argv[1:]))"


def fit_in_child(path: Path, digest: str, timeout: float = 300.0) -> LinearModel:
    """Fit on the data folder ``path`` in a new Python process; the model comes back as a file."""
    with tempfile.TemporaryDirectory(prefix="loginbot-recognizer-") as tmp:
        out = Path(tmp) / "model.npz"
        subprocess.run(
            [sys.executable, "-c", _CHILD, str(path), str(out), digest],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        return LinearModel.load(out)


def main(argv: list[str]) -> int:
    """The child of `fit_in_child`: fit on the data folder argv[0], save the model to argv[1]."""
    data = load_directory(Path(argv[0]))
    if len(data.intents) < 2:
        print(f"{argv[0]} holds training data for fewer than two intents", file=sys.stderr)
        return 2
    fit(data, digest=argv[2]).save(Path(argv[1]))
    return 0
