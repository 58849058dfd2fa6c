"""The troubleshooting catalogs (English and French, same keys), on the flow's `Catalog` class."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from bot.flow.catalog import LANGUAGES, Catalog


@cache
def texts() -> Catalog:
    loaded = {}
    for language in LANGUAGES:
        text = resources.files("bot.troubleshoot.messages").joinpath(f"{language}.yml").read_text("utf-8")
        loaded[language] = yaml.safe_load(text)
    return Catalog(loaded)


def language_of(language: str | None) -> str:
    """`en` or `fr`: anything else (None, "en-US", "de") falls back sensibly."""
    code = (language or "").strip().lower()[:2]
    return code if code in LANGUAGES else "en"
