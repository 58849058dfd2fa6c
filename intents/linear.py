"""A fitted recognizer model as plain numbers: vocabularies, idf weights, linear models.

scikit-learn's per-call overhead (input validation, sparse matrix construction) dominates the cost of
transforming one short message, so :class:`LinearModel` evaluates the fitted vectorizers and
logistic regressions itself: a few dictionary look-ups and one small matrix product per message.
A test checks that it gives the same probabilities as scikit-learn's ``predict_proba``.

It is saved as one ``.npz`` file of plain arrays (no pickle, so loading runs no code) holding the
digest of the training data it was fitted on, so that a stale model is noticed at load time.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from intents.features import analyzer

__all__ = ["FORMAT", "Block", "LinearModel"]

FORMAT = 1  # bumped whenever the saved layout or the features change
Block = tuple[str, tuple[int, int], dict[str, int], np.ndarray, bool]  # kind, n-grams, vocab, idf, sublinear


class LinearModel:
    """Fitted vocabularies, idf weights and linear models, evaluated without scikit-learn."""

    def __init__(
        self,
        blocks: list[Block],
        weights: dict[str, np.ndarray],
        bias: dict[str, np.ndarray],
        classes: dict[str, list[str]],
        languages: list[str],
        *,
        digest: str = "",
        fitted: Any = None,
    ) -> None:
        self.blocks = blocks
        self.digest = digest  # of the training data (intents.artifact.data_digest)
        self.fitted = fitted  # scikit-learn's own (FeatureUnion, {name: model}) when fitted here
        self._parts: list[tuple[Callable[[str], list[str]], dict[str, int], np.ndarray, int, bool]] = []
        offset = 0
        for kind, ngrams, vocabulary, idf, sublinear in blocks:
            self._parts.append((analyzer(kind, ngrams), vocabulary, idf, offset, sublinear))
            offset += len(vocabulary)
        self._weights = weights
        self._bias = bias
        self.classes = classes
        self.languages = languages

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self._weights)

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

    # --- persistence ---------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the model as one compressed ``.npz`` of plain arrays (atomically)."""
        meta = {
            "format": FORMAT,
            "digest": self.digest,
            "blocks": [[kind, list(ngrams), sublinear] for kind, ngrams, _, _, sublinear in self.blocks],
            "classes": self.classes,
            "languages": self.languages,
            "models": list(self._weights),
        }
        arrays: dict[str, np.ndarray] = {"meta": np.array(json.dumps(meta))}
        for i, (_, _, vocabulary, idf, _) in enumerate(self.blocks):
            grams = sorted(vocabulary, key=vocabulary.__getitem__)
            arrays[f"vocabulary{i}"] = np.array(grams, dtype=str)
            arrays[f"idf{i}"] = idf
        for name in self._weights:
            arrays[f"weights_{name}"] = self._weights[name]
            arrays[f"bias_{name}"] = self._bias[name]
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial.npz")
        np.savez_compressed(partial, **arrays)  # type: ignore[arg-type]
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        """Read a model written by `save`; ValueError when the file is not one (or of another format)."""
        try:
            with np.load(path, allow_pickle=False) as stored:
                meta = json.loads(str(stored["meta"]))
                if meta.get("format") != FORMAT:
                    raise ValueError(f"{path}: model format {meta.get('format')}, expected {FORMAT}")
                blocks: list[Block] = []
                for i, (kind, ngrams, sublinear) in enumerate(meta["blocks"]):
                    grams = stored[f"vocabulary{i}"].tolist()
                    vocabulary = {str(g): n for n, g in enumerate(grams)}
                    blocks.append(
                        (kind, (int(ngrams[0]), int(ngrams[1])), vocabulary, stored[f"idf{i}"], sublinear)
                    )
                weights = {n: np.ascontiguousarray(stored[f"weights_{n}"]) for n in meta["models"]}
                bias = {n: stored[f"bias_{n}"] for n in meta["models"]}
        except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile) as error:
            raise ValueError(f"{path}: not a recognizer model ({error})") from None
        return cls(blocks, weights, bias, meta["classes"], meta["languages"], digest=meta["digest"])
