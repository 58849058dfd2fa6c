"""Nothing acknowledged is lost (issue 7): the Slack app's durable inbox and reply outbox.

Slack counts a request as delivered once it has its acknowledgement (the HTTP 200, or the Socket
Mode envelope's ack), and the app acknowledges before the turn runs (`process_before_response` is
off: Slack wants an answer within 3 seconds). Two windows used to lose a message when the process
died: between the acknowledgement and the turn (Slack never sends it again), and between the turn's
commit and the posting of its replies (Slack's retry of the event is then a duplicate, answered with
nothing). Both are closed in the database:

* The inbox (`delivery_inbox`). Every verified delivery that will run a turn (a DM, a mention, a
  slash command, a button or a menu) is recorded as an `Inbound`, before the acknowledgement, by a
  listener middleware (`app.py`): Bolt runs a listener's middleware before its listener runner,
  which acknowledges an event at once (`auto_acknowledgement`) and a command or an action when the
  listener calls `ack()`; Socket Mode acks the envelope only once Bolt returns. One small INSERT; if
  it fails, Bolt answers 500 and Slack delivers the event again later. The entry is done once the
  turn's replies are posted, or once the delivery definitively failed (the user could not be
  identified, Slack refused the post): a delivery Slack reported delivered is answered at least once.
* The outbox (`reply_outbox`). The turn's final commit stores its replies with the conversation
  (`Assistant.handle(outbox=...)`), marked posted once `chat.postMessage` (or the `response_url`)
  took them.
* Recovery (`recovery.py`), when `loginbot serve slack` starts and then in the background: stored
  replies left pending are posted, and pending deliveries are run again, in order per user; a run
  of a delivery already processed is a duplicate (the assistant's delivery-id dedupe), so it changes
  nothing and says nothing, and its replies are the pending ones just posted.

Each entry is held by the process that wrote it (`owner`, `claimed_at`); see `recovery.py` for how
another process takes one over.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from bot.assistant import ReplyOutbox
from bot.flow.engine import UserMessage
from storage import ConversationKey, InboundRecord, StorageError, Store

log = logging.getLogger(__name__)

CHANNEL = "slack"
DEFAULT_GRACE_SECONDS = 30.0


@dataclass(frozen=True)
class Destination:
    """Where a turn's replies go: a conversation the bot posts in (its DM), ephemerally to one user
    in a channel, or through a `response_url` (slash commands and ephemeral clicks)."""

    channel: str | None = None
    ephemeral_in: str | None = None
    response_url: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return asdict(self)

    @classmethod
    def of(cls, data: object) -> Destination:
        if not isinstance(data, dict) or not all(isinstance(v, str | None) for v in data.values()):
            raise ValueError("not a destination")
        return cls(data.get("channel"), data.get("ephemeral_in"), data.get("response_url"))


@dataclass(frozen=True)
class Inbound:
    """A verified delivery that runs a turn, as the inbox keeps it: enough to run it again.

    `destination` is where the replies go, except for a slash command typed in the bot's DM
    (`dm_from`: the channel it was typed in; replies go to the DM when that is the DM, else to the
    command's `response_url`) and for a Home tab button (`home`: replies go to the DM, then the tab
    is published again). Both need the DM's id, a Web API call the acknowledgement cannot wait for.
    """

    team_id: str
    user_id: str
    message: UserMessage
    destination: Destination
    dm_from: str | None = None
    home: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "text": self.message.text,
            "choice": self.message.choice,
            "destination": self.destination.as_json(),
            "dm_from": self.dm_from,
            "home": self.home,
        }

    @classmethod
    def of(cls, record: InboundRecord) -> Inbound:
        """The delivery an inbox entry describes; ValueError when it is not one `payload` wrote."""
        payload = record.payload
        text, choice, dm_from = payload.get("text"), payload.get("choice"), payload.get("dm_from")
        if (
            not isinstance(text, str)
            or not isinstance(choice, str | None)
            or not isinstance(dm_from, str | None)
        ):
            raise ValueError("not a recorded Slack delivery")
        return cls(
            team_id=record.workspace,
            user_id=record.subject,
            message=UserMessage(text=text, choice=choice, delivery_id=record.delivery_id),
            destination=Destination.of(payload.get("destination")),
            dm_from=dm_from,
            home=payload.get("home") is True,
        )


@dataclass(frozen=True)
class Address:
    """Where stored replies go (the outbox's `address`): the user, and the destination of the turn."""

    team_id: str
    user_id: str
    destination: Destination
    locale: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "team": self.team_id,
            "user": self.user_id,
            "destination": self.destination.as_json(),
            "locale": self.locale,
        }

    @classmethod
    def of(cls, data: dict[str, Any]) -> Address:
        team, user, locale = data.get("team"), data.get("user"), data.get("locale")
        if not isinstance(team, str) or not isinstance(user, str) or not isinstance(locale, str | None):
            raise ValueError("not a Slack address")
        return cls(team, user, Destination.of(data.get("destination")), locale)


def process_name() -> str:
    """This process, as the owner of the entries it writes: host, pid, and a nonce (a pid is reused)."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"


class InFlight:
    """How many deliveries this process is running (`with in_flight:` around each), and a wait for
    none: a graceful stop lets the turns it acknowledged finish before closing the assistant."""

    def __init__(self) -> None:
        self.count = 0
        self._idle: asyncio.Event | None = None

    def __enter__(self) -> None:
        self.count += 1

    def __exit__(self, *exc: object) -> None:
        self.count -= 1
        if self.count == 0 and self._idle is not None:
            self._idle.set()

    async def drained(self, timeout: float) -> bool:
        """Wait until no delivery runs, at most `timeout` seconds; whether none runs."""
        try:
            async with asyncio.timeout(timeout):
                while self.count:
                    self._idle = asyncio.Event()
                    await self._idle.wait()
        except TimeoutError:
            return False
        return True


class Deliveries:
    """The inbox and the outbox as one Slack app process uses them (on the assistant's store)."""

    def __init__(
        self, store: Store, *, grace_seconds: float = DEFAULT_GRACE_SECONDS, owner: str | None = None
    ) -> None:
        self.store = store
        self.grace = timedelta(seconds=max(grace_seconds, 0.0))
        self.owner = owner or process_name()
        # Deliveries waiting for the next write, per event loop (`record`).
        self._unwritten: dict[
            asyncio.AbstractEventLoop, list[tuple[InboundRecord, asyncio.Future[int | None]]]
        ] = {}

    async def record(self, inbound: Inbound) -> int | None:
        """Record a delivery before it is acknowledged: its entry's id, or None when it has no
        delivery id (nothing to replay it by) or is recorded already (Slack's retry: the first copy's
        entry stays with whoever holds it). A StorageError goes up: Bolt answers 500, and Slack
        delivers the event again later instead of believing it delivered.

        Deliveries that arrive together are written together: each waits for the next turn of the
        event loop, and one transaction records every delivery that reached this point meanwhile.
        In a burst (a thousand DMs at a shift's start) that is one commit for hundreds of
        acknowledgements instead of one each, the largest part of an acknowledgement's cost."""
        delivery_id = inbound.message.delivery_id
        if not delivery_id:
            return None
        record = InboundRecord(
            channel=CHANNEL,
            workspace=inbound.team_id,
            subject=inbound.user_id,
            delivery_id=delivery_id,
            payload=inbound.payload(),
            owner=self.owner,
        )
        loop = asyncio.get_running_loop()
        recorded: asyncio.Future[int | None] = loop.create_future()
        waiting = self._unwritten.setdefault(loop, [])
        waiting.append((record, recorded))
        if len(waiting) == 1:
            loop.call_soon(self._write, loop)
        return await recorded

    def _write(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._unwritten.pop(loop, [])
        try:
            ids = self.store.record_inbounds([record for record, _ in batch])
        except StorageError as error:
            for _, recorded in batch:
                if not recorded.done():
                    failure = StorageError(str(error))
                    failure.__cause__ = error
                    recorded.set_exception(failure)
            return
        for (_, recorded), entry in zip(batch, ids, strict=True):
            if not recorded.done():  # a request cancelled meanwhile (its client went away)
                recorded.set_result(entry)

    def outbox(self, address: Address) -> ReplyOutbox:
        return ReplyOutbox(owner=self.owner, address=address.as_json())

    def posted(self, entry: int | None, key: ConversationKey, delivery_id: str | None) -> None:
        """The turn's replies were posted (or Slack refused them for good): its stored replies are
        posted and its inbox entry done. If this write fails, both stay pending and a later recovery
        posts the replies again: at least once, never lost."""
        try:
            if delivery_id:
                self.store.mark_posted(key=key, delivery_id=delivery_id, owner=self.owner, inbound_id=entry)
            elif entry is not None:
                self.store.finish_inbound(entry)
        except StorageError:
            log.warning("could not mark a delivery answered; it will be answered again after a restart")

    def done(self, entry: int | None) -> None:
        """The delivery needs nothing more: a duplicate, or it definitively failed (and was said so)."""
        if entry is None:
            return
        try:
            self.store.finish_inbound(entry)
        except StorageError:
            log.warning(
                "could not mark a delivery done; it will be run again (as a duplicate) after a restart"
            )
