"""What the code does with the message catalogs, read from its syntax tree (for test_catalog_texts).

A text is filled where the code calls something with its key as a string (`say("auto.extension",
extension=...)`, `w("account.roles", roles=...)`), possibly a key's tail that a helper prefixes
(`reject("extension.unknown", ...)` for `invalid.extension.unknown`), or an f-string that builds it
(`f"failure.{reason.value}"`). The keyword arguments of that call are the placeholders it fills; a
call that passes `**params` fills what its function puts in dictionaries and keyword arguments.
A placeholder is a list when the code fills it with `", ".join(...)`, directly or through a name.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path

from bot.flow.catalog import LANGUAGES, Catalog

ROOT = Path(__file__).resolve().parents[2]
CODE = ("bot", "intents")
CATALOGS = {
    "bot.flow.messages": Catalog.default(),
    "bot.troubleshoot.messages": Catalog.from_package("bot.troubleshoot.messages"),
    "bot.identity.messages": Catalog.from_package("bot.identity.messages"),
    "bot.channels.slack.messages": Catalog.from_package("bot.channels.slack.messages"),
    "bot.channels.rasa.messages": Catalog.from_package("bot.channels.rasa.messages"),
}


@dataclass(frozen=True)
class Text:
    package: str
    key: str

    @property
    def catalog(self) -> Catalog:
        return CATALOGS[self.package]

    def template(self, language: str) -> str:
        node: object = self.catalog._messages[language]
        for part in self.key.split("."):
            assert isinstance(node, dict), self
            node = node[part]
        assert isinstance(node, str), self
        return node

    def placeholders(self) -> set[str]:
        return {name for lang in LANGUAGES for name in placeholders(self.template(lang))}

    def __str__(self) -> str:
        return f"{self.package.removeprefix('bot.').removesuffix('.messages')}:{self.key}"


@dataclass
class Site:
    """One call that names a catalog key: where, the key as written, and what it fills."""

    where: str  # file:function
    literal: str | None = None
    pattern: re.Pattern[str] | None = None  # an f-string key
    keywords: set[str] = field(default_factory=set)
    lists: set[str] = field(default_factory=set)  # keywords filled with a joined list
    splat: bool = False  # passes **something
    vocabulary: set[str] = field(default_factory=set)  # names its function fills in any way

    def names(self, key: str) -> bool:
        if self.literal is not None:
            return key == self.literal or ("." in self.literal and key.endswith("." + self.literal))
        assert self.pattern is not None
        tails = [key.split(".", n)[-1] for n in range(key.count(".") + 1)]
        return any(self.pattern.fullmatch(tail) for tail in tails)

    def fills(self, name: str) -> bool:
        return name in self.keywords or (self.splat and name in self.vocabulary)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def texts() -> list[Text]:
    found = []
    for package, catalog in CATALOGS.items():
        for key in sorted(catalog.keys("en")):
            if catalog.has(key, "en") and not key.startswith("words."):
                found.append(Text(package, key))
    return found


# --- the code ------------------------------------------------------------------------------------


def _is_join(node: ast.AST, joined: set[str]) -> bool:
    """Whether `node` is (or contains) `", ".join(...)`, or a name assigned one in the function.
    `"".join(...)` glues characters into one word: not a list."""
    for inner in ast.walk(node):
        if (
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Attribute)
            and inner.func.attr == "join"
            and isinstance(inner.func.value, ast.Constant)
            and inner.func.value.value
        ):
            return True
        if isinstance(inner, ast.Name) and inner.id in joined:
            return True
    return False


def _key_of(node: ast.AST) -> tuple[str | None, re.Pattern[str] | None]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
        return node.value, None
    first = node.values[0] if isinstance(node, ast.JoinedStr) and node.values else None
    # An f-string names keys when it starts with a key's head, like f"failure.{reason.value}".
    if isinstance(node, ast.JoinedStr) and isinstance(first, ast.Constant) and "." in str(first.value):
        parts = [
            re.escape(v.value) if isinstance(v, ast.Constant) and isinstance(v.value, str) else r"[^.]+"
            for v in node.values
        ]
        return None, re.compile("".join(parts))
    return None, None


def _strings(node: ast.AST) -> set[str]:
    """The strings an expression can be: a constant, or either branch of `a if c else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    if isinstance(node, ast.BoolOp):  # `check.reason or "number.invalid"`
        return set().union(*(_strings(v) for v in node.values))
    return set()


@dataclass
class _Facts:
    vocabulary: set[str] = field(default_factory=set)
    joined: set[str] = field(default_factory=set)
    keys: dict[str, set[str]] = field(default_factory=dict)  # local name -> the keys assigned to it


def _function_facts(function: ast.AST) -> _Facts:
    """What a function fills by name (keyword arguments, dictionary keys, `params["x"] = ...`),
    which of its local names hold a joined list, and which hold a key (`key = "a" if c else "b"`)."""
    facts = _Facts()
    vocabulary, joined = facts.vocabulary, facts.joined
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            vocabulary.update(k.arg for k in node.keywords if k.arg)
        elif isinstance(node, ast.Dict):
            vocabulary.update(
                k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)
            )
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            vocabulary.add(node.slice.value)
        if isinstance(node, ast.Assign) and _is_join(node.value, set()):
            joined.update(t.id for t in node.targets if isinstance(t, ast.Name))
        if isinstance(node, ast.Assign) and _strings(node.value):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    facts.keys.setdefault(target.id, set()).update(_strings(node.value))
    return facts


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """Each function (methods included) with its name; the module itself for code at top level."""
    yield "<module>", tree
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node


def _keys_passed(argument: ast.AST, facts: _Facts) -> list[tuple[str | None, re.Pattern[str] | None]]:
    literal, pattern = _key_of(argument)
    if literal is not None or pattern is not None:
        return [(literal, pattern)]
    if isinstance(argument, ast.Name) and argument.id in facts.keys:
        return [(key, None) for key in sorted(facts.keys[argument.id])]
    return [(literal, None) for literal in sorted(_strings(argument))]


@cache
def _scan() -> tuple[tuple[Site, ...], tuple[Site, ...], frozenset[str]]:
    """(calls naming a key, calls passing a key held in data such as a table row, every string)."""
    found: list[Site] = []
    dynamic: list[Site] = []
    strings: set[str] = set()
    for package in CODE:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            strings.update(
                n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            )
            seen: set[int] = set()
            for name, function in reversed(list(_functions(tree))):  # innermost function first
                facts = _function_facts(function)
                for node in ast.walk(function):
                    if not isinstance(node, ast.Call) or id(node) in seen:
                        continue
                    seen.add(id(node))
                    site = partial(
                        Site,
                        where=f"{path.relative_to(ROOT)}:{name}",
                        keywords={k.arg for k in node.keywords if k.arg},
                        lists={k.arg for k in node.keywords if k.arg and _is_join(k.value, facts.joined)},
                        splat=any(k.arg is None for k in node.keywords),
                        vocabulary=facts.vocabulary,
                    )
                    named = [key for argument in node.args for key in _keys_passed(argument, facts)]
                    found.extend(site(literal=literal, pattern=pattern) for literal, pattern in named)
                    if not named and node.args and isinstance(node.args[0], ast.Attribute) and node.keywords:
                        dynamic.append(site())  # `say(spec.announce, role=..., team=...)`
    return tuple(found), tuple(dynamic), frozenset(strings)


def sites() -> tuple[Site, ...]:
    return _scan()[0]


def filled(text: Text, name: str) -> bool:
    """Whether the code fills placeholder `name` of `text`: a call naming the key passes it, or the
    key is data (a table's field) and a call passing such a field passes it."""
    if any(site.fills(name) for site in sites_of(text)):
        return True
    _, dynamic, strings = _scan()
    held = any(text.key == s or ("." in s and text.key.endswith("." + s)) for s in strings)
    return held and any(site.fills(name) for site in dynamic)


def sites_of(text: Text) -> list[Site]:
    return [site for site in sites() if site.names(text.key)]


def list_placeholders(text: Text) -> set[str]:
    """The placeholders of `text` that some call fills with a joined list."""
    return {name for site in sites_of(text) for name in site.lists} & text.placeholders()


def mentioned(key: str) -> list[str]:
    """Where the code names `key` as a string (exactly, or as a tail a helper prefixes)."""
    return sorted({site.where for site in sites() if site.literal is not None and site.names(key)})
