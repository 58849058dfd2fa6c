"""Read loginbot's Rasa-format NLU files into plain examples.

The training data is kept in Rasa 3.1 YAML so that a Rasa assistant can train on it unchanged; this
module is the embedded recognizer's reader for the same files, so there is one source of truth.
Only the parts of the format the project uses are supported: ``intent`` blocks with ``examples``
(a block string of ``- `` lines, or a list of ``{text: ...}`` maps), ``synonym`` and ``lookup``
blocks, and the inline entity annotations ``[text](entity)``, ``[text](entity:value)`` and
``[text]{"entity": ..., "value": ...}``. ``regex`` blocks are read but unused by the embedded
recognizer (its extractors are rules in :mod:`intents.entities`).

The language of an example is the language of its file: ``nlu.yml`` is English and a file named
``*_fr.yml`` (or ``*.fr.yml``) is French; any other ``_xx`` suffix gives ``xx``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "AnnotatedEntity",
    "Example",
    "TrainingData",
    "TrainingDataError",
    "language_of_file",
    "load_directory",
    "load_file",
    "load_files",
    "nlu_files",
    "parse_annotated",
]

DEFAULT_LANGUAGE = "en"

# Rasa's own annotation pattern (rasa/shared/nlu/training_data/entities_parser.py), minus the
# list-of-dicts form that the project does not use.
_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)|\{(?P<json>[^}]+?)\})"
)
_LIST_ITEM = re.compile(r"^\s*-\s?(.*)$")
_LANGUAGE_SUFFIX = re.compile(r"[_.](?P<lang>[a-z]{2})$")


class TrainingDataError(ValueError):
    """A training data file that cannot be read as Rasa NLU data; the message names the file and place."""


@dataclass(frozen=True)
class AnnotatedEntity:
    """An entity span in an example's plain text (offsets into the text without annotations)."""

    entity: str
    value: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Example:
    """One training message: the plain text, its intent, its entities and its file's language."""

    text: str
    intent: str
    entities: tuple[AnnotatedEntity, ...]
    language: str
    source: str = ""


@dataclass
class TrainingData:
    """Everything read from one or more NLU files."""

    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # surface text (lower case) -> value
    lookups: dict[str, list[str]] = field(default_factory=dict)
    regexes: dict[str, list[str]] = field(default_factory=dict)

    def extend(self, other: TrainingData) -> None:
        """Merge ``other`` into this one, as Rasa merges every file of ``data/``."""
        self.examples.extend(other.examples)
        self.synonyms.update(other.synonyms)
        for name, values in other.lookups.items():
            self.lookups.setdefault(name, []).extend(v for v in values if v not in self.lookups[name])
        for name, patterns in other.regexes.items():
            self.regexes.setdefault(name, []).extend(patterns)

    @property
    def intents(self) -> list[str]:
        """Intent names in first-seen order."""
        return list(dict.fromkeys(example.intent for example in self.examples))


def language_of_file(path: Path) -> str:
    """Guess a file's language from its name, so that the French file needs no extra metadata."""
    stem = path.stem.lower()
    if re.fullmatch(r"[a-z]{2}", stem) and stem != DEFAULT_LANGUAGE:  # a file named fr.yml
        return stem
    match = _LANGUAGE_SUFFIX.search(stem)
    return match.group("lang") if match else DEFAULT_LANGUAGE


def parse_annotated(annotated: str) -> tuple[str, tuple[AnnotatedEntity, ...]]:
    """Strip Rasa entity annotations from ``annotated``; return the plain text and its entity spans.

    Malformed JSON annotations are kept as literal text rather than raising, because a bad line in
    the data should show up as a failing data test, not crash the assistant at start-up.
    """
    parts: list[str] = []
    entities: list[AnnotatedEntity] = []
    position = 0  # in the plain text
    cursor = 0  # in the annotated text
    for match in _ANNOTATION.finditer(annotated):
        before = annotated[cursor : match.start()]
        parts.append(before)
        position += len(before)
        surface = match.group("text")
        details = _annotation_details(match)
        if details is None:
            literal = match.group(0)
            parts.append(literal)
            position += len(literal)
        else:
            name, value = details
            entities.append(
                AnnotatedEntity(
                    entity=name,
                    value=surface if value is None else value,
                    start=position,
                    end=position + len(surface),
                    text=surface,
                )
            )
            parts.append(surface)
            position += len(surface)
        cursor = match.end()
    parts.append(annotated[cursor:])
    return "".join(parts), tuple(entities)


def _annotation_details(match: re.Match[str]) -> tuple[str, str | None] | None:
    """(entity, value or None) of one annotation, or None when it is not a valid annotation."""
    if match.group("entity"):
        value = match.group("value")
        return match.group("entity").strip(), value.strip() if value else None
    try:
        payload = json.loads("{" + match.group("json") + "}")
    except json.JSONDecodeError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("entity"), str):
        return None
    value = payload.get("value")
    return payload["entity"], None if value is None else str(value)


def _list_items(block: Any) -> list[str]:
    """The ``- item`` lines of a Rasa examples block string (or the texts of a list of maps)."""
    if isinstance(block, list):
        return [str(item["text"]) for item in block if isinstance(item, dict) and "text" in item]
    if not isinstance(block, str):
        return []
    items = []
    for line in block.splitlines():
        match = _LIST_ITEM.match(line)
        if match and match.group(1).strip():
            items.append(match.group(1).strip())
    return items


def load_file(path: Path, *, language: str | None = None) -> TrainingData:
    """Read one Rasa NLU YAML file; TrainingDataError when it is not one (YAML errors with their line)."""
    lang = language or language_of_file(path)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError) as error:
        raise TrainingDataError(f"{path}: cannot read the file ({error})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise TrainingDataError(f"{path}:{where}: not valid YAML ({problem})") from None
    document = document or {}
    if not isinstance(document, dict):
        raise TrainingDataError(f"{path}: expected a mapping with an `nlu` list at the top")
    blocks = document.get("nlu") or []
    if not isinstance(blocks, list):
        raise TrainingDataError(f"{path}: `nlu` must be a list of intent, synonym, lookup or regex blocks")
    data = TrainingData()
    for number, block in enumerate(blocks, start=1):
        if not isinstance(block, dict):
            raise TrainingDataError(f"{path}: nlu block {number} is not a mapping")
        examples = block.get("examples")
        if not isinstance(examples, str | list):
            name = next((f"{k} {block[k]!r}" for k in _BLOCK_KINDS if k in block), f"block {number}")
            raise TrainingDataError(f"{path}: {name} has no `examples` (a `- ` list in a block string)")
        items = _list_items(examples)
        if "intent" in block:
            for item in items:
                text, entities = parse_annotated(item)
                data.examples.append(Example(text, str(block["intent"]), entities, lang, path.name))
        elif "synonym" in block:
            for item in items:
                data.synonyms[item.lower()] = str(block["synonym"])
        elif "lookup" in block:
            data.lookups.setdefault(str(block["lookup"]), []).extend(items)
        elif "regex" in block:
            data.regexes.setdefault(str(block["regex"]), []).extend(items)
        else:
            raise TrainingDataError(f"{path}: nlu block {number} is not an intent, synonym, lookup or regex")
    return data


_BLOCK_KINDS = ("intent", "synonym", "lookup", "regex")


def nlu_files(directory: Path) -> list[Path]:
    """The NLU files of a Rasa ``data/`` folder: every YAML file with an ``nlu`` key, sorted by name."""
    found = []
    for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
        text = path.read_text(encoding="utf-8")
        if re.search(r"^nlu:", text, flags=re.MULTILINE):
            found.append(path)
    return found


def load_directory(directory: Path) -> TrainingData:
    """Read every NLU file of ``directory`` (rules and stories files are skipped), as Rasa does."""
    return load_files(nlu_files(directory))


def load_files(paths: Iterable[Path]) -> TrainingData:
    """Read and merge several NLU files."""
    data = TrainingData()
    for path in paths:
        data.extend(load_file(path))
    return data


# libyaml's C loader parses the data files several times faster than the pure-Python one, which
# matters for the start-up budget; fall back to the pure loader where libyaml is missing.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
