"""The fitted recognizer model, saved once and loaded at start instead of refitted.

The package ships ``intents/model/recognizer.npz``, written by ``loginbot nlu train`` from
``intents/data``. It records the digest of what it was fitted from (the NLU files, the features, the
abbreviations and the fitting parameters), and is loaded only when that digest matches: edited
training data is never served by a stale model. A mismatch (data edited without ``loginbot nlu
train``) costs one fit in a child process, whose result is kept in the user's cache folder so that
the next start loads it too; a test fails while the shipped model is stale.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
from pathlib import Path

from intents.features import ABBREVIATIONS, FEATURES
from intents.fitting import FIT_PARAMETERS, OUT_OF_SCOPE_WEIGHT, fit, fit_in_child
from intents.linear import FORMAT, LinearModel
from intents.training_data import load_directory, nlu_files

__all__ = ["DATA_DIR", "MODEL_PATH", "data_digest", "load_or_fit", "train"]

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
MODEL_PATH = Path(__file__).resolve().parent / "model" / "recognizer.npz"


def data_digest(folder: Path) -> str:
    """SHA-256 of everything a fitted model depends on: the NLU files' names and bytes, the feature
    and fitting settings and the model format."""
    digest = hashlib.sha256()
    settings = {
        "format": FORMAT,
        "features": FEATURES,
        "abbreviations": ABBREVIATIONS,
        "fit": FIT_PARAMETERS,
        "oos": OUT_OF_SCOPE_WEIGHT,
    }
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for path in nlu_files(folder):
        digest.update(b"\0" + path.name.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def train(folder: Path = DATA_DIR, out: Path = MODEL_PATH) -> LinearModel:
    """Fit on ``folder`` and save the model to ``out`` (``loginbot nlu train``)."""
    data = load_directory(folder)
    if len(data.intents) < 2:
        raise ValueError(f"{folder} holds training data for fewer than two intents")
    model = fit(data, digest=data_digest(folder))
    model.save(out)
    return model


def _cache_path(digest: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "loginbot" / f"recognizer-{digest[:20]}.npz"


def _load_matching(path: Path, digest: str) -> LinearModel | None:
    if not path.is_file():
        return None
    try:
        model = LinearModel.load(path)
    except ValueError as error:
        log.warning("ignoring the recognizer model %s: %s", path, error)
        return None
    return model if model.digest == digest else None


def load_or_fit(folder: Path = DATA_DIR, *, shipped: Path = MODEL_PATH, isolated: bool = True) -> LinearModel:
    """The model for the data of ``folder``: the shipped one when it matches, else a cached or new fit."""
    digest = data_digest(folder)
    for candidate in (shipped, _cache_path(digest)):
        model = _load_matching(candidate, digest)
        if model is not None:
            return model
    log.warning("the recognizer model does not match the training data in %s; fitting it", folder)
    model = None
    if isolated:
        try:
            model = fit_in_child(folder, digest)
        except (OSError, subprocess.SubprocessError, ValueError) as error:
            log.warning("fitting the recognizer in a child process failed (%s); fitting here", error)
    if model is None:
        model = fit(load_directory(folder), digest=digest)
    try:
        model.save(_cache_path(digest))
    except OSError as error:  # a read-only home: fit again next time, nothing worse
        log.info("cannot cache the recognizer model: %s", error)
    return model
