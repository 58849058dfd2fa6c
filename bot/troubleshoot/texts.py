"""The troubleshooting catalogs (English and French, same keys), on the flow's `Catalog` class."""

from __future__ import annotations

from bot.flow.catalog import LANGUAGES, Catalog


def texts() -> Catalog:
    return Catalog.from_package("bot.troubleshoot.messages")


def language_of(language: str | None) -> str:
    """`en` or `fr`: anything else (None, "en-US", "de") falls back sensibly."""
    code = (language or "").strip().lower()[:2]
    return code if code in LANGUAGES else "en"
