"""One terminal window's view of a conversation.

The same user may run `loginbot chat` in two windows: both hold the one conversation stored for
their email. Each window remembers what it last showed (the question, the answers it summed up, the
numbered choices); when the stored conversation no longer matches that (the other window answered
meanwhile), what is typed here is not applied to a question or a summary this window never showed.
The window says so and shows where the conversation stands now, and the next line applies to that.
"""

from __future__ import annotations

from bot.assistant import Assistant, Replies
from bot.channels.render import choice_for_text
from bot.flow.catalog import Catalog
from bot.flow.engine import UserMessage
from bot.flow.replies import Reply, ReplyKind
from bot.flow.views import ConversationView
from bot.progress import Progress
from storage import ConversationKey


def terminal_catalog() -> Catalog:
    return Catalog.from_package("bot.channels.terminal.messages")


def _meaning(conversation: ConversationView | None) -> tuple[object, ...]:
    """What a window must have seen for an answer typed there to mean what its user thinks: the
    question under way, the answers a summary sums up, the choices a number picks. Other changes (a
    notice queued for the next turn, a delivery id) leave an answer's meaning as it was."""
    if conversation is None:
        return ()
    return (
        conversation.step,
        conversation.purpose,
        repr(conversation.values),
        conversation.choices,
        conversation.editing,
        conversation.team_candidates,
    )


class Window:
    """`open`, then `handle` each line typed: the replies to show."""

    def __init__(
        self,
        assistant: Assistant,
        key: ConversationKey,
        language: str | None,
        *,
        progress: Progress | None = None,
    ) -> None:
        self.assistant = assistant
        self.key = key
        self.language = language
        self.progress = progress
        self.shown: Replies = Replies()
        self._seen: tuple[object, ...] = ()

    def _stored(self) -> tuple[object, ...]:
        return _meaning(self.assistant.view(self.key))

    async def open(self) -> Replies:
        self.shown = await self.assistant.open(self.key, language=self.language, progress=self.progress)
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
        self.shown = await self.assistant.handle(
            self.key, message, language=self.language, progress=self.progress
        )
        self._seen = self._stored()
        return self.shown
