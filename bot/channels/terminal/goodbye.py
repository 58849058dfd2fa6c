"""Leaving the terminal chat by saying so: "exit", "bye", « au revoir » end it like Ctrl-D.

The words are the flow catalog's (`words.exit`, in both languages). A message is a goodbye when it
is one of them, possibly with polite words around it ("ok, bye", « merci, au revoir »). A few words
are goodbyes only next to such a word (`words.exit_after_lead`): « salut » alone says hello, while
« merci, salut » takes leave. Nothing is lost by leaving: the conversation is saved every turn, and
the next `loginbot chat` picks it up where it was.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from bot.flow.catalog import Catalog
from bot.flow.replies import Reply, ReplyKind

_PUNCTUATION = re.compile(r"[.!?,;…¡¿\"«»“”()]+")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})


def _fold(text: str) -> str:
    """Lower case, plain letters (a typed "a plus" is « à plus »), no punctuation, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES).casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_PUNCTUATION.sub(" ", plain).split())


def _phrases(catalog: Catalog, key: str) -> list[str]:
    # Longest first, so that "thank you" is taken whole before "thank" could be.
    folded = {_fold(word) for word in catalog.words(None, key)}
    return sorted((w for w in folded if w), key=len, reverse=True)


def _strip_leads(text: str, leads: Sequence[str]) -> tuple[str, bool]:
    """`text` without the polite words at either end, and whether there were any."""
    stripped = False
    changed = True
    while changed and text:
        changed = False
        for lead in leads:
            if text.startswith(lead + " "):
                text, changed = text[len(lead) + 1 :], True
            elif text.endswith(" " + lead):
                text, changed = text[: -len(lead) - 1], True
            if changed:
                stripped = True
                break
    return text, stripped


def is_goodbye(text: str, catalog: Catalog | None = None) -> bool:
    catalog = catalog or Catalog.default()
    folded = _fold(text)
    # ":q" is all punctuation but the "q": it is checked before punctuation is taken out.
    if text.strip().casefold() in catalog.words(None, "exit"):
        return True
    if not folded:
        return False
    rest, polite = _strip_leads(folded, _phrases(catalog, "exit_lead"))
    if rest in _phrases(catalog, "exit"):
        return True
    return polite and rest in _phrases(catalog, "exit_after_lead")


def farewell(shown: Sequence[Reply], language: str | None, catalog: Catalog | None = None) -> Reply:
    """The last line of the chat: when a question was waiting for an answer, that the answers given
    so far are kept for the next time."""
    catalog = catalog or Catalog.default()
    midway = any(reply.kind is ReplyKind.PROMPT and reply.step for reply in shown)
    key = "bye.saved" if midway else "bye.done"
    return Reply(key=key, text=catalog.text(language, key), kind=ReplyKind.INFO)
