"""Message catalogs (S15): every sentence the assistant says, keyed by purpose, in English and French.

Code never builds sentences; it picks a key and fills named placeholders. A missing key in one
language falls back to English, and a missing placeholder is left visible instead of crashing.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources

import yaml

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"


class _Keep(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Catalog:
    def __init__(self, messages: Mapping[str, Mapping[str, object]]) -> None:
        self._messages = messages

    @classmethod
    @cache
    def from_package(cls, package: str) -> Catalog:
        """The catalog in `package`'s `en.yml` and `fr.yml`, loaded once: the same object on every call."""
        loaded: dict[str, Mapping[str, object]] = {}
        for language in LANGUAGES:
            text = resources.files(package).joinpath(f"{language}.yml").read_text("utf-8")
            loaded[language] = yaml.safe_load(text)
        return cls(loaded)

    @classmethod
    def default(cls) -> Catalog:
        return cls.from_package("bot.flow.messages")

    def _lookup(self, language: str | None, key: str) -> object | None:
        for lang in (language or DEFAULT_LANGUAGE, DEFAULT_LANGUAGE):
            node: object = self._messages.get(lang, {})
            for part in key.split("."):
                node = node.get(part) if isinstance(node, Mapping) else None
            if node is not None:
                return node
        return None

    def has(self, key: str, language: str | None = None) -> bool:
        return isinstance(self._lookup(language, key), str)

    def text(self, language: str | None, key: str, **params: object) -> str:
        template = self._lookup(language, key)
        if not isinstance(template, str):
            return key
        return template.format_map(_Keep(params)).strip()

    def words(self, language: str | None, key: str) -> tuple[str, ...]:
        """Words that mean something to the flow (field names, "restart"), in both languages."""
        found: list[str] = []
        for lang in LANGUAGES:
            node = self._lookup(lang, "words." + key)
            if isinstance(node, list):
                found.extend(str(w).casefold() for w in node)
        return tuple(found)

    def keys(self, language: str) -> set[str]:
        def walk(node: object, prefix: str) -> set[str]:
            if isinstance(node, Mapping):
                return set().union(*(walk(v, f"{prefix}{k}.") for k, v in node.items())) if node else set()
            return {prefix.rstrip(".")}

        return walk(self._messages.get(language, {}), "")
