"""`loginbot nlu test` and `loginbot nlu train`, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from intents.artifact import DATA_DIR

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "intents" / "heldout"
SMALL = (
    'version: "3.1"\nnlu:\n'
    "- intent: greet\n  examples: |\n    - hello\n    - hi there\n    - hey\n    - good morning\n"
    "- intent: goodbye\n  examples: |\n    - bye\n    - see you later\n    - goodbye\n    - cya\n"
    "- intent: login\n  examples: |\n    - log me in on extension [2001](extension)\n    - sign me in\n"
    "    - log in please\n    - login\n"
)


def loginbot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "nlu", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_test_set_report_as_json() -> None:
    done = loginbot("test", "--data", str(HELDOUT / "fr.yml"), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    intents = report["intent_evaluation"]
    assert report["folds"] is None and report["messages"] == sum(
        r["support"] for r in intents["report"].values()
    )
    assert set(intents["per_language"]) == {"fr"}
    assert {"precision", "recall", "f1-score", "support"} <= set(intents["report"]["login"])
    for confusion in intents["confusions"]:
        assert confusion["intent"] != confusion["predicted"] and 1 <= len(confusion["examples"]) <= 3
    entities = report["entity_evaluation"]["report"]
    assert {"phone_number", "extension", "micro"} <= set(entities)


def test_cross_validation_as_text(tmp_path: Path) -> None:
    (tmp_path / "nlu.yml").write_text(SMALL, encoding="utf-8")
    done = loginbot("test", "--cross-validation", "--folds", "2", "--data", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("12 messages, 2-fold cross-validation")
    for heading in ("intent accuracy", "intent (en)", "confusions", "entity"):
        assert heading in done.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("version: '3.1'\nnlu:\n- intent: greet\n  examples: |\n    - hi\n  - bad: [\n", "not valid YAML"),
        ("version: '3.1'\nnlu: 12\n", "must be a list"),
        ("version: '3.1'\nnlu:\n- intent: greet\n", "has no `examples`"),
        ("version: '3.1'\nnlu:\n- just a string\n", "is not a mapping"),
        ("version: '3.1'\nnlu:\n- something: else\n  examples: |\n    - hi\n", "not an intent"),
    ],
)
def test_malformed_data_gets_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "nlu.yml"
    bad.write_text(content, encoding="utf-8")
    done = loginbot("test", "--data", str(bad))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert str(bad) in done.stderr and message in done.stderr


def test_too_few_examples_for_the_folds_is_explained(tmp_path: Path) -> None:
    (tmp_path / "nlu.yml").write_text(SMALL, encoding="utf-8")
    done = loginbot("test", "--cross-validation", "--folds", "5", "--data", str(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "needs at least 5 examples" in done.stderr


def test_missing_data_is_explained(tmp_path: Path) -> None:
    done = loginbot("test", "--data", str(tmp_path / "nowhere"))
    assert done.returncode == 2 and "no such file or folder" in done.stderr
    done = loginbot("test", "--data", str(tmp_path))
    assert done.returncode == 2 and "no Rasa NLU file" in done.stderr


def test_train_writes_the_model(tmp_path: Path) -> None:
    (tmp_path / "nlu.yml").write_text(SMALL, encoding="utf-8")
    out = tmp_path / "model.npz"
    done = loginbot("train", "--data", str(tmp_path), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.is_file() and "3 intents" in done.stdout


def test_parse_does_not_fit() -> None:
    """`loginbot nlu parse` loads the shipped model: no scikit-learn, no fitting at start."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from bot.cli import main; sys.argv = ['loginbot', 'nlu', 'parse', 'mdp oublié']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint('sklearn' in sys.modules)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    first, last = done.stdout.strip().splitlines()
    assert json.loads(first)["intent"]["name"] == "forgot_password"
    assert last == "False"
    assert DATA_DIR.is_dir()
