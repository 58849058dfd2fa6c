"""The fitted model ships with the package, matches its training data, and is loaded, not refitted."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from intents.artifact import DATA_DIR, MODEL_PATH, data_digest, load_or_fit, train
from intents.linear import LinearModel
from intents.recognizer import Recognizer

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_model_matches_the_training_data() -> None:
    """Fails when the data, features or fitting settings changed without `loginbot nlu train`."""
    assert MODEL_PATH.is_file()
    assert LinearModel.load(MODEL_PATH).digest == data_digest(DATA_DIR), "run `loginbot nlu train`"


def test_the_shipped_model_is_what_a_fit_gives() -> None:
    from intents.fitting import fit
    from intents.training_data import load_directory

    shipped = Recognizer(LinearModel.load(MODEL_PATH))
    fresh = Recognizer(fit(load_directory(DATA_DIR)))
    for text in ["log me in", "mdp oublié", "don't log me out", "what's the wifi password?", "2001"]:
        a, b = shipped.parse(text), fresh.parse(text)
        assert (a.intent, a.language) == (b.intent, b.language)
        assert a.confidence == pytest.approx(b.confidence, abs=1e-6)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = LinearModel.load(MODEL_PATH)
    copy = tmp_path / "model.npz"
    model.save(copy)
    again = LinearModel.load(copy)
    assert again.digest == model.digest and again.classes == model.classes
    columns, values = model.features_of("connecte moi sur le poste 2001")
    columns2, values2 = again.features_of("connecte moi sur le poste 2001")
    assert np.array_equal(columns, columns2) and np.allclose(values, values2)
    assert np.allclose(
        model.probabilities("intent", columns, values), again.probabilities("intent", columns2, values2)
    )


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "model.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a recognizer model"):
        LinearModel.load(bad)


def test_edited_data_is_never_served_by_the_stale_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Data newer than the shipped model: fitted once (in a child process), cached, then loaded."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    (data / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello\n    - hi there\n'
        "- intent: goodbye\n  examples: |\n    - bye\n    - see you later\n",
        encoding="utf-8",
    )
    model = load_or_fit(data, shipped=MODEL_PATH)  # the shipped model is for other data
    assert model.digest == data_digest(data) and model.classes["intent"] == ["goodbye", "greet"]
    cached = list((tmp_path / "cache" / "loginbot").glob("recognizer-*.npz"))
    assert len(cached) == 1
    assert load_or_fit(data, shipped=MODEL_PATH, isolated=False).digest == model.digest
    (data / "nlu.yml").write_text((data / "nlu.yml").read_text() + "    - cya\n", encoding="utf-8")
    assert load_or_fit(data, shipped=MODEL_PATH).digest != model.digest


def test_train_writes_a_model_that_load_or_fit_then_uses(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    out = tmp_path / "model.npz"
    trained = train(data, out)
    assert load_or_fit(data, shipped=out).digest == trained.digest == data_digest(data)


def test_a_start_loads_the_model_without_scikit_learn() -> None:
    """A serving process parses with the saved numbers: scikit-learn is never imported."""
    probe = (
        "import sys; from intents.recognizer import Recognizer; "
        "print(Recognizer.default().parse('log me in').intent, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["login", "False"]
