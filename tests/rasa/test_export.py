"""`loginbot rasa export` into a project laid out as `rasa init` lays it out: the merged project is
valid for Rasa's own schemas, declares nothing twice, keeps its own files and `session_config`, and
its conversations (rules, stories, form) use only what the merged domain declares."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bot.channels.rasa.actions import ACTIONS
from bot.channels.rasa.form import FORM
from bot.channels.rasa.project import ours
from tests.intents.test_training_data import schema_errors

from .rasa_init import rasa_init

pytestmark = pytest.mark.filterwarnings("ignore:the load_module:DeprecationWarning")  # pykwalify

DEFAULT_ACTIONS = {"action_listen", "action_restart", "action_deactivate_loop", "action_default_fallback"}
LISTS = ("intents", "entities", "actions")
MAPS = ("slots", "responses", "forms")


def export(root: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "rasa", "export", str(root), *options],
        capture_output=True,
        text=True,
        timeout=120,
    )


def load(path: Path) -> Any:
    """Parsed as Rasa parses it: YAML 1.2, a key given twice in one mapping is an error."""
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)  # type: ignore[assignment]
    return yaml.load(path.read_text(encoding="utf-8"))


def merged_domain(root: Path, tmp_path: Path) -> dict[str, Any]:
    """The project's domain files merged as Rasa merges a domain folder, each name declared once."""
    merged: dict[str, Any] = {"version": "3.1"}
    for path in sorted((root / "domain").glob("*.yml")):
        assert schema_errors("domain", path) == [], path
        domain = load(path)
        for key in LISTS:
            names = [next(iter(n)) if isinstance(n, dict) else n for n in domain.get(key) or []]
            twice = set(names) & set(merged.get(key, []))
            assert not twice, f"{key} declared twice: {twice}"
            merged.setdefault(key, []).extend(names)
        for key in MAPS:
            twice = set(domain.get(key) or {}) & set(merged.get(key, {}))
            assert not twice, f"{key} declared twice: {twice}"
            merged.setdefault(key, {}).update(domain.get(key) or {})
        if "session_config" in domain:
            assert "session_config" not in merged
            merged["session_config"] = domain["session_config"]
    whole = tmp_path / "merged-domain.yml"
    YAML(typ="safe", pure=True).dump(merged, whole)
    assert schema_errors("domain", whole) == []
    return merged


def project_files(root: Path, key: str) -> list[Path]:
    return [p for p in sorted((root / "data").rglob("*.yml")) if key in load(p)]


def check_project(root: Path, tmp_path: Path) -> dict[str, Any]:
    """Everything `rasa data validate` would hold against the merged project, without Rasa."""
    domain = merged_domain(root, tmp_path)
    examples: dict[str, str] = {}
    for path in project_files(root, "nlu"):
        assert schema_errors("nlu", path) == [], path
        for block in load(path)["nlu"]:
            if "intent" not in block:
                continue
            assert block["intent"] in domain["intents"], (path, block["intent"])
            for line in block["examples"].splitlines():
                text = line.strip()[1:].strip().casefold()
                assert examples.setdefault(text, block["intent"]) == block["intent"], (
                    f"{text!r} is an example of {examples[text]} and {block['intent']}"
                )
    known = {*domain["actions"], *domain["responses"], *domain["forms"], *DEFAULT_ACTIONS}
    names = Counter()
    for kind in ("rules", "stories"):
        for path in project_files(root, kind):
            assert schema_errors("stories", path) == [], path
            for story in load(path)[kind]:
                names[story.get("rule") or story.get("story")] += 1
                for step in story["steps"]:
                    assert step.get("intent", "greet") in domain["intents"], (path, step)
                    assert step.get("action", "action_listen") in known, (path, step)
    assert [name for name, count in names.items() if count > 1] == []
    return domain


def test_export_into_a_rasa_init_project(tmp_path: Path) -> None:
    root = tmp_path / "assistant"
    theirs = rasa_init(root)
    done = export(root)
    assert done.returncode == 0, done.stderr
    assert "move domain.yml into domain/" in done.stdout
    # The project's own files are untouched; Rasa reads the domain folder once domain.yml is in it.
    assert {name: (root / name).read_bytes() for name in theirs} == theirs
    (root / "domain").joinpath("domain.yml").write_bytes((root / "domain.yml").read_bytes())
    (root / "domain.yml").unlink()

    domain = check_project(root, tmp_path)
    ours_domain = load(root / "domain" / "loginbot.yml")
    assert "session_config" not in ours_domain
    session = {"session_expiration_time": 60, "carry_over_slots_to_new_session": True}
    assert domain["session_config"] == session
    # greet, goodbye, affirm and deny are the project's, shared; loginbot's other intents are prefixed.
    assert not {"greet", "goodbye", "affirm", "deny"} & set(ours_domain["intents"])
    assert all(name.startswith("loginbot_") for name in ours_domain["intents"])
    assert {"loginbot_login", "loginbot_help", "loginbot_cancel", "loginbot_inform"} <= set(domain["intents"])
    assert domain["responses"]["utter_greet"] == [{"text": "Hey! How are you?"}]  # still theirs
    assert all(name.startswith("utter_loginbot_") for name in ours_domain["responses"])
    assert set(ours_domain["actions"]) == {action.action_name for action in ACTIONS}
    assert FORM in ours_domain["forms"]
    # The yes/no questions of the form read the shared affirm and deny.
    confirm = {m["intent"]: m["value"] for m in ours_domain["slots"]["confirm"]["mappings"] if "intent" in m}
    assert confirm == {"affirm": True, "deny": False}

    nlu = {b["intent"]: b["examples"] for b in load(root / "data/loginbot/nlu.yml")["nlu"] if "intent" in b}
    assert "- sign me in\n" in nlu["loginbot_login"]
    assert "- hi\n" not in nlu.get("greet", "")  # rasa init has it: not repeated
    assert "- hiya\n" in nlu["greet"]  # loginbot's other greetings join the project's
    rules = load(root / "data/loginbot/rules.yml")["rules"]
    assert all(rule["rule"].startswith("loginbot - ") for rule in rules)
    assert not [r for r in rules if any(s.get("intent") in ("greet", "goodbye") for s in r["steps"])]


def test_export_in_french(tmp_path: Path) -> None:
    root = tmp_path / "assistant"
    rasa_init(root, language="fr")
    done = export(root)  # the config's language
    assert done.returncode == 0, done.stderr
    (root / "domain.yml").rename(root / "domain" / "domain.yml")
    domain = check_project(root, tmp_path)
    nlu = {b["intent"]: b["examples"] for b in load(root / "data/loginbot/nlu.yml")["nlu"] if "intent" in b}
    assert "- connecte-moi\n" in nlu["loginbot_login"]
    assert "sign me in" not in "".join(nlu.values())
    assert domain["responses"]["utter_loginbot_help"][0]["text"].startswith("Je vous connecte")
    greet = load(root / "domain" / "loginbot.yml")["responses"]
    assert "utter_loginbot_greet" not in greet  # the project greets in its own way


def test_an_empty_folder_gets_everything_with_its_own_greeting(tmp_path: Path) -> None:
    done = export(tmp_path, "--language", "en", "--prefix", "lb_")
    assert done.returncode == 0, done.stderr
    assert "move domain.yml" not in done.stdout
    domain = check_project(tmp_path, tmp_path)
    assert {"greet", "goodbye", "affirm", "deny", "lb_login"} <= set(domain["intents"])
    greet = domain["responses"]["utter_lb_greet"][0]
    assert [b["payload"] for b in greet["buttons"]] == ["/lb_login", "/lb_logout", "/lb_show_preferences"]


def test_a_second_export_rewrites_only_its_own_files(tmp_path: Path) -> None:
    root = tmp_path / "assistant"
    rasa_init(root)
    assert export(root).returncode == 0
    first = (root / "data/loginbot/nlu.yml").read_bytes()
    assert ours(root / "data/loginbot/nlu.yml")
    assert export(root).returncode == 0
    assert (root / "data/loginbot/nlu.yml").read_bytes() == first  # the same export, the same bytes

    (root / "data/loginbot/rules.yml").write_text("version: '3.1'\nrules: []\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    refused = export(root)
    assert refused.returncode == 2
    assert "data/loginbot/rules.yml" in refused.stderr
    assert "not written by `loginbot rasa export`" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before  # nothing written


def test_refusals_say_why_and_write_nothing(tmp_path: Path) -> None:
    root = tmp_path / "assistant"
    rasa_init(root)
    wrong_language = export(root, "--language", "fr")
    assert wrong_language.returncode == 2
    assert "config.yml trains a 'en' model" in wrong_language.stderr
    assert not (root / "domain" / "loginbot.yml").exists()

    clash = root / "domain" / "forms.yml"
    clash.parent.mkdir()
    clash.write_text("version: '3.1'\nslots:\n  email:\n    type: text\n    mappings: []\n", encoding="utf-8")
    refused = export(root)
    assert refused.returncode == 2 and "slot `email`" in refused.stderr
    unprefixed = export(root, "--prefix", "")
    assert unprefixed.returncode == 2 and "--prefix" in unprefixed.stderr
    assert not (root / "domain" / "loginbot.yml").exists()
    assert export(root, "--prefix", "Bad-").returncode == 2
    assert export(tmp_path / "missing").returncode == 2
