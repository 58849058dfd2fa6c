"""The Slack channel's catalog: the same `Catalog` as the flow, loaded from this package's messages.

Why a catalog of its own: checkbox labels, select placeholders and the App Home are Slack controls,
not part of the conversation, so they stay out of the flow's catalogs; but code still never builds
sentences, and English and French keep the same keys (a test checks it).
"""

from __future__ import annotations

from bot.flow.catalog import LANGUAGES, Catalog


def slack_texts() -> Catalog:
    return Catalog.from_package("bot.channels.slack.messages")


def language_of(locale: str | None) -> str | None:
    """Slack's locale ("fr-FR") as one of the catalog languages, or None."""
    code = (locale or "")[:2].lower()
    return code if code in LANGUAGES else None
