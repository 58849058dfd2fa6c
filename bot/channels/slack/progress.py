"""A slow contact-center call in Slack: "Signing you in…" is posted once the call has taken longer
than a moment, and the turn's outcome then takes that message's place (`chat.update`), so that the
DM reads as one answer, not a placeholder followed by another message.

Only a message in a conversation can be updated; in a channel (an ephemeral answer to a mention) or
through a `response_url` the progress is posted the same way, and the outcome follows as usual.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient

from bot.flow.replies import Reply

from . import blocks as kit
from .delivery import Destination

if TYPE_CHECKING:
    from .app import SlackChannel

log = logging.getLogger(__name__)


class PostedProgress:
    """One turn's progress message: `show` is the `Progress` the assistant calls, `replace` puts the
    outcome in its place."""

    def __init__(
        self,
        channel: SlackChannel,
        client: AsyncWebClient,
        destination: Destination,
        user_id: str,
        language: str | None,
    ) -> None:
        self._channel = channel
        self._client = client
        self._destination = destination
        self._user_id = user_id
        self._language = language
        self._ts: str | None = None  # the progress message, once posted in a conversation

    @asynccontextmanager
    async def show(self, reply: Reply) -> AsyncIterator[None]:
        messages = kit.render([reply], language=self._language)
        if self._destination.channel:
            message = messages[0]
            response = await self._client.chat_postMessage(
                channel=self._destination.channel, text=message.text, blocks=message.blocks
            )
            ts = response.get("ts")
            self._ts = ts if isinstance(ts, str) and ts else None
        else:
            await self._channel.deliver(self._client, self._destination, self._user_id, messages)
        yield

    async def replace(self, message: kit.SlackMessage) -> bool:
        """Put `message` in place of the progress message: False when there is none to replace (the
        call was quick, or the answer is not in a conversation) or Slack refused the update (the
        message was deleted meanwhile): then the caller posts it as usual."""
        if self._ts is None or not self._destination.channel:
            return False
        ts, self._ts = self._ts, None
        try:
            await self._client.chat_update(
                channel=self._destination.channel, ts=ts, text=message.text, blocks=message.blocks
            )
        except Exception as error:
            log.warning("could not replace the progress message: %s", type(error).__name__)
            return False
        return True
