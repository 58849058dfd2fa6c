"""The training data is valid Rasa 3.1 YAML, complete in both languages and consistent with the rules."""

from __future__ import annotations

import ast
import logging
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from pykwalify.core import Core
from pykwalify.errors import SchemaError
from ruamel.yaml import YAML

from intents.entities import extract
from intents.recognizer import DATA_DIR
from intents.training_data import language_of_file, load_directory, load_file, nlu_files, parse_annotated

from .conftest import HERE

pytestmark = pytest.mark.filterwarnings("ignore:the load_module:DeprecationWarning")  # pykwalify

INTENTS_DIR = DATA_DIR.parent
SCHEMAS = HERE / "rasa_schemas"
FIXED_INTENTS = {
    "greet",
    "goodbye",
    "affirm",
    "deny",
    "cancel",
    "help",
    "login",
    "logout",
    "set_availability",
    "reset_auto_login",
    "show_preferences",
    "forgot_password",
    "troubleshoot",
    "inform",
    "out_of_scope",
}
ALLOWED_VALUES = {
    "role": {"supervisor", "supervisor_agent", "agent"},
    "call_preference": {"desktop", "extension", "dial_number"},
    "availability": {"available", "idle"},
    "language": {"en", "fr"},
}
VALUE_PATTERNS = {
    "phone_number": re.compile(r"^\+[1-9]\d{6,14}$"),
    "extension": re.compile(r"^\d{2,8}$"),
    "email": re.compile(r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$"),
    "team": re.compile(r"\S"),
}
FIXED_ENTITIES = set(ALLOWED_VALUES) | set(VALUE_PATTERNS)
NLU_FILES = nlu_files(DATA_DIR)
HELDOUT_FILES = sorted((HERE / "heldout").glob("*.yml"))


def _load_yaml(path: Path) -> Any:
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)  # type: ignore[assignment]
    return yaml.load(path.read_text(encoding="utf-8"))


def schema_errors(kind: str, file: Path) -> list[str]:
    """Validate like Rasa (and check_rasa_yaml.py): the kind's schema merged with responses.yml."""
    logging.getLogger("pykwalify").setLevel(logging.CRITICAL)
    schema = dict(_load_yaml(SCHEMAS / f"{kind}.yml"))
    schema.update(_load_yaml(SCHEMAS / "responses.yml"))
    core = Core(
        source_data=_load_yaml(file), schema_data=schema, extensions=[str(SCHEMAS / "rasa_extension.py")]
    )
    try:
        core.validate(raise_exception=True)
    except SchemaError:
        return [str(e) for e in core.errors] or ["schema error"]
    return []


def test_the_data_folder_has_an_english_and_a_french_file() -> None:
    assert {language_of_file(p) for p in NLU_FILES} == {"en", "fr"}


@pytest.mark.parametrize("path", [*NLU_FILES, *HELDOUT_FILES], ids=lambda p: p.name)
def test_nlu_files_validate_against_rasa_schema(path: Path) -> None:
    assert schema_errors("nlu", path) == []
    assert _load_yaml(path)["version"] == "3.1"


def test_domain_validates_against_rasa_schema_and_lists_the_fixed_names() -> None:
    path = INTENTS_DIR / "domain.yml"
    assert schema_errors("domain", path) == []
    domain = _load_yaml(path)
    assert domain["version"] == "3.1"
    assert set(domain["intents"]) == FIXED_INTENTS
    assert set(domain["entities"]) == FIXED_ENTITIES


def test_rules_file_if_present_validates() -> None:
    for path in DATA_DIR.glob("rules*.yml"):
        assert schema_errors("stories", path) == []


def test_the_schema_check_rejects_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "nlu.yml"
    bad.write_text("version: 3.1\nnlu:\n- intent: greet\n  examples: 12\n", encoding="utf-8")
    assert schema_errors("nlu", bad)


def test_every_fixed_intent_in_both_languages_with_enough_examples() -> None:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for example in load_directory(DATA_DIR).examples:
        counts[example.language][example.intent] += 1
    assert set(counts) == {"en", "fr"}
    for language, per_intent in counts.items():
        assert set(per_intent) == FIXED_INTENTS, language
        off = {intent: n for intent, n in per_intent.items() if not 40 <= n <= 320}
        assert not off, f"{language}: {off}"


def test_entity_annotations_use_fixed_names_and_values() -> None:
    for path in [*NLU_FILES, *HELDOUT_FILES]:
        for example in load_file(path).examples:
            for entity in example.entities:
                assert entity.entity in FIXED_ENTITIES, (path.name, example.text)
                if entity.entity in ALLOWED_VALUES:
                    assert entity.value in ALLOWED_VALUES[entity.entity], (path.name, example.text)
                else:
                    assert VALUE_PATTERNS[entity.entity].search(entity.value), (path.name, example.text)
                assert example.text[entity.start : entity.end] == entity.text


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s@.+'-]", " ", text.casefold()).split())


def test_no_duplicate_examples() -> None:
    seen: dict[str, str] = {}
    for example in load_directory(DATA_DIR).examples:
        key = _normal(example.text)
        assert key not in seen, f"{example.text!r} is in {seen[key]} and {example.intent}"
        seen[key] = example.intent


def test_heldout_messages_are_not_training_examples() -> None:
    training = {_normal(e.text) for e in load_directory(DATA_DIR).examples}
    for path in HELDOUT_FILES:
        leaked = [e.text for e in load_file(path).examples if _normal(e.text) in training]
        assert not leaked, path.name


def test_training_annotations_are_what_the_rule_extractors_find() -> None:
    """The data and the extractors agree, so a Rasa model and the embedded one see the same entities."""
    data = load_directory(DATA_DIR)
    teams = data.lookups["team"]
    missed = []
    for example in data.examples:
        region = "FR" if example.language == "fr" else "US"
        found = extract(example.text, teams=teams, region=region)
        for entity in example.entities:
            if not any(
                f.entity == entity.entity
                and f.value == entity.value
                and f.start < entity.end
                and entity.start < f.end
                for f in found
            ):
                missed.append((example.text, entity.entity, entity.value))
    assert missed == []


def test_synonyms_agree_with_the_keyword_tables() -> None:
    data = load_directory(DATA_DIR)
    for surface, value in data.synonyms.items():
        values = {e.value for e in extract(surface) if e.start == 0 and e.end == len(surface)}
        assert value in values, (surface, value)


def test_parse_annotated_forms() -> None:
    text, entities = parse_annotated(
        'log me in as [both]{"entity": "role", "value": "supervisor_agent"} '
        "on [2001](extension) [x](team:Billing)"
    )
    assert text == "log me in as both on 2001 x"
    assert [(e.entity, e.value, text[e.start : e.end]) for e in entities] == [
        ("role", "supervisor_agent", "both"),
        ("extension", "2001", "2001"),
        ("team", "Billing", "x"),
    ]
    assert parse_annotated("[broken]{not json} stays") == ("[broken]{not json} stays", ())
    assert parse_annotated("no annotation") == ("no annotation", ())


def test_language_of_file() -> None:
    assert language_of_file(Path("nlu.yml")) == "en"
    assert language_of_file(Path("nlu_fr.yml")) == "fr"
    assert language_of_file(Path("nlu.fr.yml")) == "fr"


FORBIDDEN = (
    "slack",
    "slack_bolt",
    "slack_sdk",
    "rasa",
    "rasa_sdk",
    "httpx",
    "requests",
    "aiohttp",
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "psycopg",
    "psycopg2",
    "sqlite3",
    "starlette",
    "uvicorn",
    "fastapi",
    "websockets",
    "bot",
    "storage",
)


def test_intents_package_is_core() -> None:
    """intents/ may be used by every channel, so it imports no platform, HTTP or SQL library."""
    for path in INTENTS_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
