"""Recovery: what a process acknowledged and did not finish is finished by another one (issue 7).

`loginbot serve slack` (HTTP or Socket Mode) calls `hold_backlog` before it serves, then runs
`keep_recovering` beside the server:

1. Start-up. The inbox entries and stored replies other processes left pending (any age) are the
   backlog; new deliveries of those users wait (`SlackChannel.backlog_of`) until it is recovered, so
   each conversation is answered in order: a message acknowledged before the crash comes before
   what the user says after the restart. (Users whose entries their holder, a live sibling,
   finishes meanwhile are let through as soon as that is seen.)
2. Once every backlog entry is older than the grace period, each user's stored replies are posted
   (oldest first), then their pending deliveries are run again (oldest first); users are recovered
   concurrently. A delivery that was processed before the crash is a duplicate: it changes nothing
   and says nothing (its replies were the stored ones just posted).
3. Then, every grace period, the same sweep (a process that died while others kept serving leaves
   entries only they can finish), and once an hour the done entries older than a day are deleted.

Several processes on one database (PostgreSQL, or `--workers` on SQLite). A process leaves alone the
entries another live process holds: entries are written claimed by their process (`owner`,
`claimed_at`), and a process takes over only an entry that is still pending, held by another
owner, and claimed more than the grace period ago (`LOGINBOT_SLACK_RECOVERY_GRACE`, 30 s by default:
far longer than a turn and its posting take). A take-over is an optimistic update on the entry's
`claims` count (`Store.claim_inbound`/`claim_outbound`), so of two processes recovering at once
exactly one gets each entry, and no entry is run or posted twice by two recoveries. Liveness is
only inferred from age: a process that has no other way to tell a crashed predecessor from a busy
sibling must wait for the grace period, which is why the start-up waits for its backlog to age
(bounded by the grace) instead of replaying at once. Should a live process ever take longer than the
grace, the replay is still safe: the turn runner's optimistic versions and delivery-id dedupe make
the slower of the two a duplicate (no step advances twice, nothing is sent to the contact center
twice), and only the process whose commit won stored replies; only the posting of those replies
may then happen twice.

A delivery whose turn had started a contact-center call before the crash (a "Save and continue"
sent on the wire) replays as a duplicate and says nothing; the user's conversation then holds the
call in flight. `SlackChannel.settle` checks it once its grace (`LOGINBOT_IN_FLIGHT_GRACE`, 60 s
from the call) has passed, with a session read, never by sending it again, and tells the user how
it ended in the DM without waiting for their next message.

Limits, by design: a reply is posted at least once, not exactly once (a crash after `chat.postMessage`
succeeded and before it was marked posted posts it again); a click's update of the message it
answered is not replayed (the reply below it says what was chosen); an entry whose replay failed
twice (it crashed its process each time, say) is given up, with a warning, rather than crash every
start-up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from storage import InboundRecord, OutboundRecord, StorageError

from .app import SlackChannel
from .delivery import CHANNEL, Address, Deliveries, Inbound

log = logging.getLogger(__name__)

KEEP_DONE = timedelta(days=1)  # done entries are kept a day (diagnostics), then deleted
PURGE_EVERY = 3600.0  # seconds
MIN_SWEEP_EVERY = 1.0  # seconds, whatever the grace
MAX_REPLAYS = 2  # an entry claimed this many times by recoveries and still pending is given up
BATCH = 500  # entries read per sweep; a bigger backlog takes several sweeps
BACKLOG_POLL = 1.0  # seconds between looks at whether the backlog's holders finished it themselves
READY_MARGIN = timedelta(milliseconds=50)  # past the grace for sure (the sweep compares strictly)


@dataclass
class Backlog:
    """What other processes left pending when this one started: whose deliveries wait, and until when."""

    subjects: set[tuple[str, str]] = field(default_factory=set)
    ready_at: datetime | None = None  # when every entry of it is past the grace period
    recovered: bool = False  # the start-up recovery ran (the readiness check waits for it)


def hold_backlog(channel: SlackChannel) -> Backlog:
    """Before serving: the backlog, its users' new deliveries held until `keep_recovering` ran it.

    Reads the database only; a failure leaves nothing held (the sweeps recover later)."""
    deliveries = channel.deliveries
    try:
        inbound, outbound = _pending(deliveries)
    except StorageError:
        log.warning("could not read the deliveries left pending; they will be recovered later")
        return Backlog()
    backlog = Backlog(subjects=_subjects(inbound, outbound))
    claimed = [e.claimed_at for e in inbound if e.claimed_at is not None]
    claimed += [r.claimed_at for r in outbound if r.claimed_at is not None]
    if claimed:
        backlog.ready_at = max(claimed) + deliveries.grace + READY_MARGIN
        log.warning(
            "%d deliveries and %d replies left unfinished by another process: recovering them",
            len(inbound),
            len(outbound),
        )
    channel.hold(backlog.subjects)
    return backlog


async def keep_recovering(channel: SlackChannel, client: AsyncWebClient, backlog: Backlog) -> None:
    """Recover the backlog (then let its users' deliveries through), then sweep every grace period
    and purge once an hour, until cancelled (the server stops)."""
    grace = channel.deliveries.grace.total_seconds()
    try:
        await _backlog_aged(channel, backlog)
        while await _sweep_safely(channel, client) >= BATCH:
            pass  # a backlog bigger than a batch: all of it before the held users go on
        backlog.recovered = True
    finally:
        channel.release()
    purged_at = 0.0
    while True:
        if time.monotonic() - purged_at >= PURGE_EVERY:
            purge(channel)
            purged_at = time.monotonic()
        await asyncio.sleep(max(grace, MIN_SWEEP_EVERY))
        await _sweep_safely(channel, client)


async def _backlog_aged(channel: SlackChannel, backlog: Backlog) -> None:
    """Wait until the backlog is past the grace period. Meanwhile, users whose entries were finished
    by the process holding them (a busy sibling, not a crashed one) are let through at once."""
    while backlog.ready_at is not None and backlog.subjects:
        remaining = (backlog.ready_at - datetime.now(UTC)).total_seconds()
        if remaining <= 0:
            return
        await asyncio.sleep(min(remaining, BACKLOG_POLL))
        try:
            still = _subjects(*_pending(channel.deliveries))
        except StorageError:
            continue
        channel.release(backlog.subjects - still)
        backlog.subjects &= still


def _pending(
    deliveries: Deliveries, *, claimed_before: datetime | None = None
) -> tuple[Sequence[InboundRecord], Sequence[OutboundRecord]]:
    """The entries and stored replies other processes left pending (claimed before `claimed_before`,
    when given), at most `BATCH` of each."""
    store, owner = deliveries.store, deliveries.owner
    inbound = store.pending_inbound(
        channel=CHANNEL, exclude_owner=owner, claimed_before=claimed_before, limit=BATCH
    )
    outbound = store.pending_outbound(
        channel=CHANNEL, exclude_owner=owner, claimed_before=claimed_before, limit=BATCH
    )
    return inbound, outbound


def _subjects(inbound: Sequence[InboundRecord], outbound: Sequence[OutboundRecord]) -> set[tuple[str, str]]:
    subjects = {(entry.workspace, entry.subject) for entry in inbound}
    subjects.update(s for s in map(_subject_of, outbound) if s is not None)
    return subjects


def purge(channel: SlackChannel) -> None:
    try:
        channel.deliveries.store.purge_deliveries(before=datetime.now(UTC) - KEEP_DONE)
    except StorageError:
        log.warning("could not delete old deliveries")


async def _sweep_safely(channel: SlackChannel, client: AsyncWebClient) -> int:
    try:
        return await sweep(channel, client)
    except StorageError:
        log.warning("could not recover unfinished deliveries; trying again later")
    except Exception:
        log.exception("recovering unfinished deliveries failed")
    return 0


async def sweep(channel: SlackChannel, client: AsyncWebClient) -> int:
    """Take over, post and run what other processes left pending past the grace period; the most
    entries of one kind read (`BATCH` when there may be more)."""
    deliveries = channel.deliveries
    inbound, outbound = _pending(deliveries, claimed_before=datetime.now(UTC) - deliveries.grace)
    # Per user, in order: the replies of turns already committed, then the deliveries after them.
    per_user: dict[tuple[str, str] | None, tuple[list[OutboundRecord], list[InboundRecord]]] = {}
    for replies in outbound:
        per_user.setdefault(_subject_of(replies), ([], []))[0].append(replies)
    for entry in inbound:
        per_user.setdefault((entry.workspace, entry.subject), ([], []))[1].append(entry)
    await asyncio.gather(*(_recover_user(channel, client, o, i) for o, i in per_user.values()))
    return max(len(outbound), len(inbound))


async def _recover_user(
    channel: SlackChannel,
    client: AsyncWebClient,
    outbound: Sequence[OutboundRecord],
    inbound: Sequence[InboundRecord],
) -> None:
    store, owner = channel.deliveries.store, channel.deliveries.owner
    replayed: set[tuple[str, str]] = set()
    try:
        for replies in outbound:
            claimed_replies = store.claim_outbound(replies, owner=owner)
            if claimed_replies is None:
                continue  # another process took them
            if claimed_replies.claims > MAX_REPLAYS + 1:
                log.warning("gave up posting replies that failed to post %d times", MAX_REPLAYS)
                store.mark_outbound_posted(_id(claimed_replies.id))
                continue
            await channel.post_stored(client, claimed_replies)
        for entry in inbound:
            claimed = store.claim_inbound(entry, owner=owner)
            if claimed is None:
                continue
            if claimed.claims > MAX_REPLAYS + 1:
                log.warning("gave up a delivery whose replay failed %d times", MAX_REPLAYS)
                store.finish_inbound(_id(claimed.id))
                continue
            try:
                delivery = Inbound.of(claimed)
            except ValueError:
                log.warning("dropped a recorded delivery this version cannot read")
                store.finish_inbound(_id(claimed.id))
                continue
            await channel.run(client, delivery, claimed.id, replay=True)
            replayed.add((delivery.team_id, delivery.user_id))
    except StorageError:
        log.warning("could not recover a user's unfinished deliveries; trying again later")
    except Exception:
        log.exception("recovering a user's unfinished deliveries failed")
    # A replayed delivery that had started a contact-center call (a sign-in sent just before the
    # crash) is a duplicate and says nothing: the call's outcome is told once its grace has passed.
    for team_id, user_id in replayed:
        channel.settle_later(client, team_id, user_id)


def _subject_of(replies: OutboundRecord) -> tuple[str, str] | None:
    try:
        address = Address.of(dict(replies.payload.get("address") or {}))
    except (ValueError, TypeError):
        return None
    return address.team_id, address.user_id


def _id(entry_id: int | None) -> int:
    assert entry_id is not None  # records read from the store have their id
    return entry_id
