"""`loginbot rasa export`: loginbot's domain, training data and rules, in one language, as files of a
team's Rasa project that clash with nothing in it.

- greet, goodbye, affirm and deny mean the same in every assistant: where the project has them,
  loginbot's examples join its own (an example it already has, under any intent, is left out) and
  its greet and goodbye rules and responses are left out, so the project's greeting stays its own.
- every other intent, and every response, gets the prefix (`loginbot_help`, `utter_loginbot_help`);
  rules are named `loginbot - ...`.
- entities the project already declares are shared; a slot, form, action or response of the same
  name as one of loginbot's is a clash the export refuses (they are set by loginbot's actions).
- `session_config` stays the project's; out_of_scope stays the project's business (loginbot's
  "I can only help with signing in" would answer the team's own topics).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bot.channels.rasa.names import COMMON_INTENTS, PREFIX_PATTERN, intent_name, response_name
from bot.channels.rasa.project import (
    DOMAIN_FILE,
    MARKER,
    NLU_FILE,
    RULES_FILE,
    Project,
    ProjectError,
    check_writable,
    example_key,
    read_project,
    write,
)
from bot.channels.rasa.services import rasa_catalog
from bot.flow.catalog import LANGUAGES, Catalog

LEFT_OUT_INTENTS = frozenset({"out_of_scope"})
# Each response of the domain: its catalog and key, and its buttons (catalog key, intent).
_RESPONSES: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "utter_greet": (
        "rasa",
        "response.greet",
        (("menu.login", "login"), ("menu.logout", "logout"), ("menu.preferences", "show_preferences")),
    ),
    "utter_goodbye": ("flow", "goodbye", ()),
    "utter_help": ("rasa", "response.help", ()),
    "utter_cancel": ("flow", "cancel.done", ()),
    "utter_forgot_password": ("flow", "password.where_to_reset", ()),
}


@dataclass
class Exported:
    files: dict[Path, str]
    intents: list[str]
    shared: list[str]  # common intents the project already had
    left_out: int = 0  # examples the project already had (same or other intent)
    responses: list[str] = field(default_factory=list)
    language: str = "en"
    domain_is_file: bool = False


def _source(name: str) -> Any:
    return yaml.safe_load(resources.files("intents").joinpath(name).read_text("utf-8"))


class _Dumper(yaml.SafeDumper):
    """Block lists indented under their key, examples as literal blocks (`examples: |`), as Rasa's
    own files are written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def _dump(header: str, document: dict[str, Any]) -> str:
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096)
    return f"{header}\n{body}"


def _header(what: str, language: str, prefix: str) -> str:
    return (
        f"{MARKER} ({what}, language {language}, prefix {prefix or '(none)'}).\n"
        "# Export again to update it; edits here are overwritten. Your own files stay yours."
    )


class Exporter:
    def __init__(self, project: Project, language: str, prefix: str) -> None:
        self.project = project
        self.language = language
        self.prefix = prefix
        domain = _source("domain.yml")
        self.source = domain
        # A common intent the project has is shared: loginbot's rules on it are left out.
        self.shared = sorted(i for i in COMMON_INTENTS if project.has("intents", i))
        self.intents = [i for i in domain["intents"] if i not in LEFT_OUT_INTENTS]

    def intent(self, name: str) -> str:
        return intent_name(name, self.prefix)

    def response(self, name: str) -> str:
        return response_name(name, self.prefix)

    # -- the rules and the responses they say ---------------------------------------------------------

    def rules(self) -> list[dict[str, Any]]:
        kept = []
        for rule in _source("data/rules.yml")["rules"]:
            triggers = {step["intent"] for step in rule["steps"] if "intent" in step}
            if triggers & (LEFT_OUT_INTENTS | set(self.shared)):
                continue
            renamed = copy.deepcopy(rule)
            renamed["rule"] = f"loginbot - {rule['rule']}"
            for step in renamed["steps"]:
                if "intent" in step:
                    step["intent"] = self.intent(step["intent"])
                if str(step.get("action", "")).startswith("utter_"):
                    step["action"] = self.response(step["action"])
            kept.append(renamed)
        return kept

    def responses(self, rules: list[dict[str, Any]]) -> dict[str, Any]:
        said = {s["action"] for rule in rules for s in rule["steps"] if "action" in s}
        catalogs = {"rasa": rasa_catalog(), "flow": Catalog.default()}
        found = {}
        for name, (catalog, key, buttons) in _RESPONSES.items():
            if self.response(name) not in said:
                continue
            response: dict[str, Any] = {"text": catalogs[catalog].text(self.language, key)}
            if buttons:
                response["buttons"] = [
                    {"title": catalogs["flow"].text(self.language, title), "payload": f"/{self.intent(i)}"}
                    for title, i in buttons
                ]
            found[self.response(name)] = [response]
        return found

    # -- the domain -----------------------------------------------------------------------------------

    def domain(self, responses: dict[str, Any]) -> dict[str, Any]:
        source = self.source
        self.refuse_clashes(responses)
        slots = copy.deepcopy(source["slots"])
        for slot in slots.values():
            for mapping in slot.get("mappings") or []:
                if "intent" in mapping:
                    mapping["intent"] = self._intents(mapping["intent"])
                if "not_intent" in mapping:
                    mapping["not_intent"] = self._intents(mapping["not_intent"])
        domain: dict[str, Any] = {
            "version": source["version"],
            "intents": [self.intent(i) for i in self.intents if i not in self.shared],
        }
        entities = [e for e in source["entities"] if not self.project.has("entities", e)]
        if entities:
            domain["entities"] = entities
        domain.update(slots=slots, forms=source["forms"], actions=source["actions"], responses=responses)
        return domain

    def _intents(self, names: Any) -> Any:
        if isinstance(names, list):
            return [self.intent(str(n)) for n in names]
        return self.intent(str(names))

    def refuse_clashes(self, responses: dict[str, Any]) -> None:
        ours = {
            "slots": set(self.source["slots"]),
            "forms": set(self.source["forms"]),
            "actions": set(self.source["actions"]),
            "responses": set(responses),
            "intents": {self.intent(i) for i in self.intents if i not in COMMON_INTENTS},
        }
        clashes = [
            f"{kind[:-1]} `{name}`"
            for kind, names in ours.items()
            for name in sorted(names)
            if self.project.has(kind, name)
        ]
        if clashes:
            raise ProjectError(
                f"the project already declares {', '.join(clashes)}, which loginbot declares too: "
                "nothing was written. Rename yours, or choose another --prefix for intents and responses."
            )

    # -- the training data ----------------------------------------------------------------------------

    def nlu(self) -> tuple[list[dict[str, Any]], int]:
        file = "data/nlu.yml" if self.language == "en" else f"data/nlu_{self.language}.yml"
        blocks = []
        left_out = 0
        taken = dict(self.project.examples)
        for block in _source(file)["nlu"]:
            if "intent" not in block:
                blocks.append(block)  # synonyms, lookup tables and regexes: entity values, shared
                continue
            if block["intent"] in LEFT_OUT_INTENTS:
                continue
            kept = []
            for line in block["examples"].splitlines():
                text = line.strip()[1:].strip()
                key = example_key(text)
                if key in taken:
                    left_out += 1
                    continue
                taken[key] = block["intent"]
                kept.append(f"- {text}\n")
            if kept:
                blocks.append({"intent": self.intent(block["intent"]), "examples": "".join(kept)})
        return blocks, left_out

    def export(self) -> Exported:
        rules = self.rules()
        responses = self.responses(rules)
        domain = self.domain(responses)
        nlu, left_out = self.nlu()
        language, prefix = self.language, self.prefix
        files = {
            DOMAIN_FILE: _dump(_header("loginbot's domain", language, prefix), domain),
            NLU_FILE: _dump(
                _header("loginbot's training data", language, prefix), {"version": "3.1", "nlu": nlu}
            ),
            RULES_FILE: _dump(
                _header("loginbot's rules", language, prefix), {"version": "3.1", "rules": rules}
            ),
        }
        return Exported(
            files,
            domain["intents"],
            self.shared,
            left_out,
            sorted(responses),
            language=language,
            domain_is_file=self.project.domain_is_file,
        )


def choose_language(project: Project, asked: str | None) -> str:
    """The language to export: the one asked, else the one the project's config trains, else English.
    A Rasa model is trained on one language: another one than the config's is refused."""
    configured = project.language
    language = asked or (configured if configured in LANGUAGES else None) or "en"
    if language not in LANGUAGES:
        raise ProjectError(f"--language takes {' or '.join(LANGUAGES)}")
    if configured is not None and configured != language:
        raise ProjectError(
            f"config.yml trains a '{configured}' model and the export would add '{language}' training "
            f"data to it: nothing was written. Export with --language {configured}, or change "
            "`language:` in config.yml"
            if configured in LANGUAGES
            else f"config.yml trains a '{configured}' model; loginbot's training data is in "
            f"{' and '.join(LANGUAGES)}: nothing was written. Set `language:` in config.yml first."
        )
    return language


def export(root: Path, *, language: str | None = None, prefix: str = "loginbot_") -> Exported:
    """Write loginbot's part into the Rasa project at `root`; nothing is written when it refuses."""
    if not PREFIX_PATTERN.match(prefix):
        raise ProjectError(
            f"--prefix {prefix!r}: lowercase letters and digits ending with '_' (like loginbot_), or ''"
        )
    project = read_project(root)
    chosen = choose_language(project, language)
    check_writable(root)
    exported = Exporter(project, chosen, prefix).export()
    write(root, exported.files)
    return exported
