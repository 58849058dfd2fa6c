"""A team's Rasa project as `loginbot rasa export` sees it: what its domain and training data already
declare (so that loginbot's part reuses or avoids it), the language its config trains, and which
files loginbot wrote (the only ones it may overwrite)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from intents.training_data import load_file, parse_annotated

# The first line of every file the export writes: a file without it is the team's, never overwritten.
MARKER = "# Written by `loginbot rasa export`"
DOMAIN_FILE = Path("domain") / "loginbot.yml"
NLU_FILE = Path("data") / "loginbot" / "nlu.yml"
RULES_FILE = Path("data") / "loginbot" / "rules.yml"
WRITTEN = (DOMAIN_FILE, NLU_FILE, RULES_FILE)
DOMAIN_KEYS = ("intents", "entities", "slots", "forms", "actions", "responses")


class ProjectError(Exception):
    """The project cannot take loginbot's files: the message says why and what to do."""


def ours(path: Path) -> bool:
    """Whether `path` is a file the export wrote (it may overwrite those, and only those)."""
    with path.open(encoding="utf-8", errors="replace") as file:
        return file.readline().startswith(MARKER)


def example_key(text: str) -> str:
    """An example's text as Rasa compares it across intents: annotations removed, case and spaces
    folded (so "Hi" and "hi " are the same example)."""
    plain, _ = parse_annotated(text)
    return " ".join(plain.casefold().split())


@dataclass
class Project:
    root: Path
    declared: dict[str, set[str]] = field(default_factory=dict)  # domain key -> names
    examples: dict[str, str] = field(default_factory=dict)  # example_key -> intent
    language: str | None = None  # config.yml's `language`
    domain_is_file: bool = False  # a `domain.yml` Rasa reads alone unless moved into `domain/`

    def has(self, key: str, name: str) -> bool:
        return name in self.declared.get(key, set())


def _yaml_files(directory: Path) -> Iterator[Path]:
    if directory.is_dir():
        for path in sorted(directory.rglob("*")):
            if path.suffix in (".yml", ".yaml") and path.is_file() and not ours(path):
                yield path


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ProjectError(f"cannot read {path}: {error}") from None


def _names(entries: Any) -> Iterable[str]:
    if isinstance(entries, dict):
        return [str(name) for name in entries]
    if isinstance(entries, list):
        found: list[str] = []
        for entry in entries:
            found.extend([str(entry)] if isinstance(entry, str) else _names(entry))
        return found
    return []


def read_project(root: Path) -> Project:
    """What `root` already declares: its domain (`domain.yml`, or the files of `domain/`), its NLU
    examples (`data/`), and its config's language. loginbot's own files are left out."""
    if not root.is_dir():
        raise ProjectError(f"{root} is not a folder (create the Rasa project first, e.g. `rasa init`)")
    project = Project(root)
    domain_files = list(_yaml_files(root / "domain"))
    single = root / "domain.yml"
    if single.is_file() and not ours(single):
        domain_files.insert(0, single)
        project.domain_is_file = True
    for path in domain_files:
        domain = _load(path)
        if isinstance(domain, dict):
            for key in DOMAIN_KEYS:
                project.declared.setdefault(key, set()).update(_names(domain.get(key)))
    for path in _yaml_files(root / "data"):
        data = _load(path)
        if not isinstance(data, dict) or not data.get("nlu"):
            continue
        for example in load_file(path).examples:
            project.examples.setdefault(example_key(example.text), example.intent)
    config = root / "config.yml"
    if config.is_file():
        loaded = _load(config)
        if isinstance(loaded, dict) and loaded.get("language") is not None:
            project.language = str(loaded["language"])
    return project


def check_writable(root: Path) -> None:
    """Refuse before writing anything when one of loginbot's paths holds a file loginbot did not write."""
    theirs = [str(path) for path in WRITTEN if (root / path).exists() and not _is_our_file(root / path)]
    if theirs:
        raise ProjectError(
            f"{', '.join(theirs)} already exist{'s' if len(theirs) == 1 else ''} and "
            f"{'was' if len(theirs) == 1 else 'were'} not written by `loginbot rasa export`: "
            "nothing was written. Move or rename them, then export again."
        )


def _is_our_file(path: Path) -> bool:
    return path.is_file() and ours(path)


def write(root: Path, files: dict[Path, str]) -> None:
    """Write each file whole (through a temporary file), so an interrupted export leaves no half file."""
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
