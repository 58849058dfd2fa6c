"""One terminal window's view of a conversation.

The same user may run `loginbot chat` in two windows: both hold the one conversation stored for
their email. Each window remembers what it last showed (the question, the answers it summed up, the
numbered choices); when the stored conversation no longer matches that (the other window answered
meanwhile), what is typed here is not applied to a question or a summary this window never showed.
The window says so and shows where the conversation stands now, and the next line applies to that.
"""

from __future__ import annotations

from typing import Any

from bot.assistant import Assistant, Replies
from bot.channels.render import choice_for_text
from bot.flow.catalog import Catalog
from bot.flow.engine import UserMessage
from bot.flow.replies import Reply, ReplyKind
from storage import ConversationKey

# The parts of a stored conversation that decide what an answer means: the question under way, the
# answers a summary sums up, the choices a number picks. Other changes (a notice queued for the next
# turn, a delivery id) leave an answer's meaning as it was.
_MEANING = ("step", "purpose", "answers", "choices", "editing", "team_candidates")


def terminal_catalog() -> Catalog:
    return Catalog.from_package("bot.channels.terminal.messages")


def _meaning(state: dict[str, Any] | None) -> tuple[object, ...]:
    if state is None:
        return ()
    return tuple(repr(state.get(name)) for name in _MEANING)


class Window:
    """`open`, then `handle` each line typed: the replies to show."""

    def __init__(self, assistant: Assistant, key: ConversationKey, language: str | None) -> None:
        self.assistant = assistant
        self.key = key
        self.language = language
        self.shown: Replies = Replies()
        self._seen: tuple[object, ...] = ()

    def _stored(self) -> tuple[object, ...]:
        stored = self.assistant.store.load_conversation(self.key)
        return _meaning(stored.state if stored is not None else None)

    async def open(self) -> Replies:
        self.shown = await self.assistant.open(self.key, language=self.language)
        self._seen = self._stored()
        return self.shown

    async def handle(self, text: str) -> Replies:
        if self._stored() != self._seen:
            language = self.shown.language or self.language
            said = text if len(text) <= 40 else text[:39] + "…"
            notice = Reply(
                key="terminal.other_window",
                text=terminal_catalog().text(language, "other_window", said=said),
                kind=ReplyKind.ERROR,
            )
            now = await self.open()
            self.shown = Replies([notice, *now], now.language)
            return self.shown
        message = UserMessage(text=text, choice=choice_for_text(text, self.shown))
        self.shown = await self.assistant.handle(self.key, message, language=self.language)
        self._seen = self._stored()
        return self.shown
