"""The Slack app: Bolt listeners that translate Slack payloads into flow inputs and replies into Block Kit.

Nothing here decides anything about signing in: each delivery that runs a turn is recorded in the
durable inbox (`delivery.py`) by its listener's middleware, then acknowledged (Slack wants an answer
within 3 seconds and retries otherwise); the listener then works out who the user is
(`identity.py`), calls `Assistant.handle` with the platform's delivery id (the event id, the
action's `action_ts`, the command's `trigger_id`) so a retry or a double click is answered with
nothing (X2), and posts the replies (`blocks.py`), which the turn's commit stored until then. A
failure to post is logged and never raised: a listener must not crash, and raw Slack errors never
reach the user.

    app = build_app(assistant, signing_secret=..., token=...)   # no module-level app
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.logger import get_bolt_logger
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.assistant import Assistant, Replies, StoredReplies
from bot.flow.engine import UserMessage
from bot.flow.replies import Attachment, Reply
from bot.limits import too_long
from bot.log import log_context
from bot.ops.metrics import timed_turn
from storage import ConversationKey, OutboundRecord, StorageError

from . import blocks as kit
from .delivery import CHANNEL, Address, Deliveries, Destination, Inbound, InFlight
from .home import HOME_ACTIONS, home_view
from .identity import Identities, IdentityUnavailable, SlackUser
from .progress import PostedProgress
from .texts import language_of, slack_texts

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_EXPIRED = "choice.expired"
MAX_TURNS_AT_ONCE = 64
SETTLE_MARGIN = 0.05  # seconds past a call's grace before settling it (the flow compares inclusively)


def retry_handlers() -> list[AsyncRetryHandler]:
    """429s wait for Retry-After, 500/503 and dropped connections are tried again (slack-sdk's own)."""
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
        AsyncConnectionErrorRetryHandler(max_retry_count=1),
    ]


def make_client(
    token: str | None, *, api_url: str | None = None, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """The Web API client, pointed at `SLACK_API_URL` (a local double in tests) with the retries.
    Without `session`, slack-sdk opens a new aiohttp session (and connection) for every call."""
    base_url = api_url or DEFAULT_API_URL
    if not base_url.endswith("/"):
        base_url += "/"
    return AsyncWebClient(token=token, base_url=base_url, retry_handlers=retry_handlers(), session=session)


AfterTurn = Callable[[list[Reply], str | None], Awaitable[None]]


class SlackChannel:
    """The translation between Slack and the assistant, shared by every listener of one app."""

    def __init__(
        self, assistant: Assistant, identities: Identities, deliveries: Deliveries | None = None
    ) -> None:
        self.assistant = assistant
        self.identities = identities
        self.deliveries = deliveries or Deliveries(assistant.store)
        # Users whose deliveries other processes left unfinished: their new ones wait for the
        # recovery, so that a conversation's messages are answered in order (`recovery.py`).
        self._held: dict[tuple[str, str], asyncio.Event] = {}
        self._locks: dict[ConversationKey, asyncio.Lock] = {}
        # Turns in progress at once; the others wait here, idle. Acknowledging a request is cheap,
        # but with hundreds of turns runnable on the event loop every acknowledgement waited behind
        # them all (a 1,000-user storm: seconds); this keeps the loop's queue short.
        self._admission = asyncio.Semaphore(MAX_TURNS_AT_ONCE)
        self._resumed: set[ConversationKey] = set()  # DMs this process has offered to resume (X2)
        self._settling: set[asyncio.Task[None]] = set()  # `settle_later` tasks, kept until done
        self._ims: dict[tuple[str, str], str] = {}  # (workspace, user) -> the bot's DM channel id
        self.in_flight = InFlight()  # deliveries being run: a graceful stop waits for them

    # --- one delivery -----------------------------------------------------------------------------

    async def run(
        self,
        client: AsyncWebClient,
        inbound: Inbound,
        entry: int | None,
        *,
        after: AfterTurn | None = None,
        replay: bool = False,
    ) -> None:
        """Run a delivery recorded in the inbox as `entry` (None: not recorded), as it arrived or,
        with `replay`, again after a crash (`recovery.py`); its entry is done at the end. An
        exception leaves the entry pending, for a recovery to run it again."""
        with self.in_flight:
            await self._run(client, inbound, entry, after=after, replay=replay)

    async def _run(
        self,
        client: AsyncWebClient,
        inbound: Inbound,
        entry: int | None,
        *,
        after: AfterTurn | None,
        replay: bool,
    ) -> None:
        if not replay:
            await self.backlog_of(inbound.team_id, inbound.user_id)
        destination = await self._destination(client, inbound)
        language = None
        if destination is None:
            self.deliveries.done(entry)
        else:
            replies = await self.converse(
                client,
                inbound.team_id,
                inbound.user_id,
                destination,
                inbound.message,
                after=after,
                entry=entry,
            )
            language = replies.language
        if inbound.home:
            await self.publish_home(client, inbound.team_id, inbound.user_id, language=language)

    async def _destination(self, client: AsyncWebClient, inbound: Inbound) -> Destination | None:
        if not inbound.home and inbound.dm_from is None:
            return inbound.destination
        im = await self.im_channel(client, inbound.team_id, inbound.user_id)
        if inbound.home:
            return Destination(channel=im) if im is not None else None
        return Destination(channel=im) if im is not None and im == inbound.dm_from else inbound.destination

    def hold(self, subjects: set[tuple[str, str]]) -> None:
        """New deliveries of these (workspace, user) wait until `release`: a recovery runs theirs."""
        for subject in subjects:
            self._held.setdefault(subject, asyncio.Event())

    def release(self, subjects: set[tuple[str, str]] | None = None) -> None:
        """Let these users' deliveries through (all, without `subjects`)."""
        for subject in list(self._held) if subjects is None else subjects:
            held = self._held.pop(subject, None)
            if held is not None:
                held.set()

    async def backlog_of(self, team_id: str, user_id: str) -> None:
        """Wait while the recovery runs this user's deliveries left by a crashed process."""
        held = self._held.get((team_id, user_id))
        if held is not None:
            await held.wait()

    # --- one turn ---------------------------------------------------------------------------------

    async def converse(
        self,
        client: AsyncWebClient,
        team_id: str,
        user_id: str,
        destination: Destination,
        message: UserMessage,
        *,
        after: AfterTurn | None = None,
        entry: int | None = None,
    ) -> Replies:
        """Run one turn for a Slack user and post its replies. `after` runs between the turn and the
        posting (a click updates the clicked message there, so the transcript reads in order).
        `entry`: the delivery's inbox entry, done once the replies are posted."""
        async with self._admission:
            user = await self.user(client, team_id, user_id, destination)
            if user is None:
                self.deliveries.done(entry)  # definitively failed, and the user was told why
                return Replies()
            key = conversation_key(team_id, user.email)
            # One lock per conversation around the turn *and* its posting: replies reach Slack in order.
            async with self._lock(key):
                # The turn's commit stores its replies until they are posted (issue 7).
                outbox = self.deliveries.outbox(Address(team_id, user_id, destination, user.locale))
                # A slow sign-in posts "Signing you in…", which the outcome then replaces.
                progress = PostedProgress(self, client, destination, user_id, language_of(user.locale))
                with log_context(channel=CHANNEL, key=key), timed_turn(CHANNEL):
                    replies = await self.assistant.handle(
                        key, message, locale=user.locale, outbox=outbox, progress=progress.show
                    )
                if not replies:
                    # A retried delivery or a double click: already answered (X2). Replies it left
                    # unposted are the recovery's (or still their owner's): never marked here.
                    self.deliveries.done(entry)
                    return Replies()
                language = self.language(replies, user)
                if after is not None:
                    await after(replies, language)
                messages = kit.render(replies, language=language)
                await self.deliver(client, destination, user_id, messages, team_id=team_id, progress=progress)
                # Posted, or refused for good by Slack (logged by `deliver`): either way this is final.
                # A crash before this line leaves them pending for the recovery, which posts them
                # (again, if Slack had already taken them: at least once, never lost).
                self.deliveries.posted(entry, key, message.delivery_id)
            return replies

    async def post_stored(self, client: AsyncWebClient, record: OutboundRecord) -> None:
        """Post replies a turn stored and its process did not post (it died), then mark them posted."""
        assert record.id is not None
        try:
            stored = StoredReplies.of(record)
            address = Address.of(stored.address)
        except ValueError:
            log.warning("dropped stored replies this version cannot read")
            self.deliveries.store.mark_outbound_posted(record.id)
            return
        async with self._lock(record.key):
            language = stored.language or language_of(address.locale)
            messages = kit.render(stored.replies, language=language)
            await self.deliver(
                client, address.destination, address.user_id, messages, team_id=address.team_id
            )
            self.deliveries.store.mark_outbound_posted(record.id)

    def settle_later(self, client: AsyncWebClient, team_id: str, user_id: str) -> None:
        """In the background: `settle` this user's conversation (the recovery calls this for each user
        whose deliveries a dead process left unfinished)."""
        task = asyncio.get_running_loop().create_task(self.settle(client, team_id, user_id))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def settle(self, client: AsyncWebClient, team_id: str, user_id: str) -> None:
        """A contact-center call that a dead process started for this user (a sign-in sent just before
        a crash) and never recorded the outcome of: once past its grace, check how it ended and say
        so in the DM, without waiting for the user's next message (X2). Nothing when no call is in
        flight; a message from the user meanwhile settles it first (and this then says nothing)."""
        try:
            im = await self.im_channel(client, team_id, user_id)
            if im is None:
                return
            destination = Destination(channel=im)
            user = await self.user(client, team_id, user_id, destination)
            if user is None:
                return
            key = conversation_key(team_id, user.email)
            due = self.assistant.interrupted_call_due(key)
            if due is None:
                return
            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + SETTLE_MARGIN)
            async with self._lock(key):
                delivery_id = f"settle:{due.isoformat()}"
                outbox = self.deliveries.outbox(Address(team_id, user_id, destination, user.locale))
                replies = await self.assistant.settle(
                    key, locale=user.locale, outbox=outbox, delivery_id=delivery_id
                )
                if not replies:
                    return
                messages = kit.render(replies, language=self.language(replies, user))
                await self.deliver(client, destination, user_id, messages, team_id=team_id)
                self.deliveries.posted(None, key, delivery_id)
        except StorageError:
            log.warning("could not check a contact-center call left in flight; the user's next message will")
        except Exception:
            log.exception("checking a contact-center call left in flight failed")

    async def resume(self, client: AsyncWebClient, team_id: str, user_id: str, channel: str) -> None:
        """The user opened the DM: greet a newcomer, or (once per process) say where a conversation
        left midway stands, as the terminal does on start. Anything else stays silent: the tab is
        opened often and must not pile up greetings."""
        await self.backlog_of(team_id, user_id)  # say where it stands once the recovery ran
        user = await self.user(client, team_id, user_id, Destination(channel=channel))
        if user is None:
            return
        key = conversation_key(team_id, user.email)
        async with self._lock(key):
            conversation = self.assistant.view(key)
            if conversation is not None and (not conversation.active or key in self._resumed):
                return
            self._resumed.add(key)
            destination = Destination(channel=channel)
            progress = PostedProgress(self, client, destination, user_id, language_of(user.locale))
            replies = await self.assistant.open(key, locale=user.locale, progress=progress.show)
            language = self.language(replies, user)
            messages = kit.render(replies, language=language)
            await self.deliver(client, destination, user_id, messages, progress=progress)

    async def user(
        self, client: AsyncWebClient, team_id: str, user_id: str, destination: Destination
    ) -> SlackUser | None:
        """The Slack user with a verified email, or None once they were told why not (S14)."""
        try:
            user = await self.identities.lookup(client, team_id, user_id)
        except IdentityUnavailable:
            await self.say(client, destination, user_id, "identity.unavailable", None)
            return None
        if not user.email:
            await self.say(client, destination, user_id, "identity.no_email", language_of(user.locale))
            return None
        return user

    @staticmethod
    def language(replies: Replies, user: SlackUser) -> str | None:
        """The conversation's language as the turn left it (the user may have switched), else Slack's."""
        return replies.language or language_of(user.locale)

    def _lock(self, key: ConversationKey) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    # --- posting ----------------------------------------------------------------------------------

    async def say(
        self, client: AsyncWebClient, destination: Destination, user_id: str, key: str, language: str | None
    ) -> None:
        text = slack_texts().text(language, key)
        await self.deliver(
            client, destination, user_id, kit.render([Reply(key=key, text=text)], language=language)
        )

    async def deliver(
        self,
        client: AsyncWebClient,
        destination: Destination,
        user_id: str,
        messages: list[kit.SlackMessage],
        *,
        team_id: str = "",
        progress: PostedProgress | None = None,
    ) -> None:
        for message in messages:
            try:
                if progress is not None and await progress.replace(message):
                    pass  # the first message took the place of the progress message
                elif destination.channel:
                    await client.chat_postMessage(
                        channel=destination.channel, text=message.text, blocks=message.blocks
                    )
                elif destination.ephemeral_in:
                    await client.chat_postEphemeral(
                        channel=destination.ephemeral_in,
                        user=user_id,
                        text=message.text,
                        blocks=message.blocks,
                    )
                elif destination.response_url:
                    await self._respond(
                        destination.response_url,
                        text=message.text,
                        blocks=message.blocks,
                        response_type="ephemeral",
                        replace_original=False,
                    )
            except Exception as error:  # logged, never shown raw and never fatal to a listener
                log.warning("could not post a reply to Slack: %s", _describe(error))
                return
            if message.files:
                await self.upload(client, destination, team_id, user_id, message.files)

    async def upload(
        self,
        client: AsyncWebClient,
        destination: Destination,
        team_id: str,
        user_id: str,
        files: tuple[Attachment, ...],
    ) -> None:
        """A reply's files (the failure report's chart), through `files_upload_v2`
        (files.getUploadURLExternal, the upload, files.completeUploadExternal). They go where the
        message went when that is a conversation; an ephemeral answer (a slash command or a mention in
        a channel) cannot carry a file, and the report is not for the channel: it goes to the DM."""
        channel = destination.channel or await self.im_channel(client, team_id, user_id)
        if channel is None:
            return
        for attachment in files:
            try:
                await client.files_upload_v2(
                    channel=channel,
                    file=attachment.data,
                    filename=attachment.filename,
                    title=attachment.title,
                    alt_txt=attachment.title,
                )
            except Exception as error:
                log.warning("could not upload a file to Slack: %s", _describe(error))

    async def update(
        self,
        client: AsyncWebClient,
        body: dict[str, Any],
        block_id: str,
        answer: str,
    ) -> None:
        """Replace the clicked controls by the answer chosen: `chat.update` on a normal message,
        the `response_url` on an ephemeral one (which `chat.update` cannot reach)."""
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        context = [kit.answer_block(block_id, answer)]
        try:
            if not container.get("is_ephemeral") and message.get("blocks") and channel:
                await client.chat_update(
                    channel=channel,
                    ts=str(container.get("message_ts") or message.get("ts") or ""),
                    text=message.get("text") or answer,
                    blocks=kit.with_answer(message["blocks"], block_id, answer),
                )
            elif body.get("response_url"):
                await self._respond(body["response_url"], text=answer, blocks=context, replace_original=True)
        except Exception as error:
            log.warning("could not update the clicked message: %s", _describe(error))

    async def _respond(self, url: str, **kwargs: Any) -> None:
        if not url.startswith(("https://", "http://")):
            log.warning("ignored a response_url that is not a URL")
            return
        response = await AsyncWebhookClient(url, retry_handlers=retry_handlers()).send(**kwargs)
        if response.status_code >= 400:
            log.warning("response_url answered %s", response.status_code)

    async def im_channel(self, client: AsyncWebClient, team_id: str, user_id: str) -> str | None:
        """The bot's DM with the user (`conversations.open`), remembered: it never changes."""
        cached = self._ims.get((team_id, user_id))
        if cached:
            return cached
        try:
            response = await client.conversations_open(users=user_id)
        except Exception as error:
            log.warning("conversations.open failed: %s", _describe(error))
            return None
        channel = (response.get("channel") or {}).get("id")
        if isinstance(channel, str) and channel:
            self._ims[(team_id, user_id)] = channel
            return channel
        return None

    async def publish_home(
        self, client: AsyncWebClient, team_id: str, user_id: str, *, language: str | None = None
    ) -> None:
        """The App Home tab, in `language` (the conversation's after a turn just run), else in the
        stored conversation's language, else in Slack's."""
        try:
            user = await self.identities.lookup(client, team_id, user_id)
        except IdentityUnavailable:
            return
        if language is None:
            language = language_of(user.locale)
            if user.email:
                try:
                    conversation = self.assistant.view(conversation_key(team_id, user.email))
                    language = (conversation.language if conversation else None) or language
                except StorageError:
                    pass
        try:
            view = await home_view(self.assistant, user.email, language)
            await client.views_publish(user_id=user_id, view=view)
        except Exception as error:
            log.warning("could not publish the App Home: %s", _describe(error))


def conversation_key(team_id: str, email: str) -> ConversationKey:
    """Conversations are keyed by workspace and user email, never by Slack channel (STYLE.md)."""
    return ConversationKey(CHANNEL, team_id, email.strip().casefold())


# --- the Bolt app ---------------------------------------------------------------------------------


def build_app(
    assistant: Assistant,
    *,
    signing_secret: str,
    token: str | None = None,
    client: AsyncWebClient | None = None,
    api_url: str | None = None,
    channel: SlackChannel | None = None,
) -> AsyncApp:
    """The Slack app for `assistant`. Tests inject `client` (pointed at a local Web API double);
    then no `auth.test` is made at start. `serve` passes its `channel`, to run the recovery on it."""
    # AsyncApp (unlike App) never calls `auth.test` at construction: the bot's identity is asked
    # lazily at the first request, so an injected client needs no `token_verification_enabled`.
    if client is None:
        client = make_client(token, api_url=api_url)
    # Bolt reads SLACK_BOT_TOKEN by itself and warns that it is unused, since the app gets a client
    # made from that very token: a warning at every start that asks nothing of the operator.
    logging.getLogger(get_bolt_logger(AsyncApp).name).addFilter(_QUIET_TOKEN_FROM_ENVIRONMENT)
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )
    _register(app, channel or SlackChannel(assistant, Identities()))
    return app


class _TokenFromEnvironment(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_QUIET_TOKEN_FROM_ENVIRONMENT = _TokenFromEnvironment()


def _team_of(body: dict[str, Any]) -> str:
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    return str(body.get("team_id") or (body.get("user") or {}).get("team_id") or "")


# --- from a payload to the delivery it asks for (pure: run before the acknowledgement) --------------


def _dm_message(body: dict[str, Any]) -> Inbound | None:
    """What a person typed in the bot's DM: no bots, no edits, joins or other subtypes."""
    event = body.get("event") or {}
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return None
    user_id, text = event.get("user"), event.get("text")
    if not isinstance(user_id, str) or not isinstance(text, str):
        return None
    return Inbound(
        team_id=_team_of(body) or str(event.get("team") or ""),
        user_id=user_id,
        message=UserMessage(text=text, delivery_id=str(body.get("event_id") or "") or None),
        destination=Destination(channel=str(event.get("channel"))),
    )


def _mention(body: dict[str, Any]) -> Inbound | None:
    event = body.get("event") or {}
    user_id, text = event.get("user"), event.get("text")
    if event.get("bot_id") or not isinstance(user_id, str) or not isinstance(text, str):
        return None
    return Inbound(
        team_id=_team_of(body) or str(event.get("team") or ""),
        user_id=user_id,
        message=UserMessage(
            text=_MENTION.sub(" ", text).strip(), delivery_id=str(body.get("event_id") or "") or None
        ),
        destination=Destination(ephemeral_in=str(event.get("channel"))),  # others in the channel see nothing
    )


def _command(body: dict[str, Any]) -> Inbound:
    name = str(body.get("command", "")).lstrip("/")
    text = str(body.get("text") or "").strip()
    delivery_id = body.get("trigger_id") if isinstance(body.get("trigger_id"), str) else None
    if name == "login" and text:
        # "/login as supervisor on extension 1001": the words are read like a typed message.
        message = UserMessage(text=f"{name} {text}", delivery_id=delivery_id)
    elif name == "loginbot":
        # "/loginbot why can't ava.lead@example.com sign in?", "/loginbot failure report": anything
        # one would type in the DM, answered where the command was typed (privately in a channel).
        message = UserMessage(text=text, delivery_id=delivery_id)
        if not text:
            message = UserMessage(choice="cmd:help", delivery_id=delivery_id)
    else:
        message = UserMessage(choice=f"cmd:{name}", delivery_id=delivery_id)
    return Inbound(
        team_id=str(body.get("team_id", "")),
        user_id=str(body.get("user_id", "")),
        message=message,
        destination=Destination(response_url=str(body.get("response_url") or "")),
        dm_from=str(body.get("channel_id") or ""),  # typed in the DM: answered there
    )


def _first_action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    return first if isinstance(first, dict) else {}


def _choice(body: dict[str, Any]) -> Inbound | None:
    """A button pressed or an option picked in one of the flow's questions."""
    action = _first_action(body)
    picked = kit.picked(action, ((body.get("state") or {}).get("values")) or {})
    user_id = (body.get("user") or {}).get("id")
    if picked is None or not isinstance(user_id, str):
        return None
    container = body.get("container") or {}
    channel_id = (body.get("channel") or {}).get("id") or container.get("channel_id")
    if container.get("is_ephemeral") or not channel_id:
        destination = Destination(response_url=str(body.get("response_url") or ""))
    else:
        destination = Destination(channel=str(channel_id))
    return Inbound(
        team_id=_team_of(body),
        user_id=user_id,
        message=UserMessage(text=picked.text, choice=picked.choice, delivery_id=action.get("action_ts")),
        destination=destination,
    )


def _home_action(body: dict[str, Any]) -> Inbound | None:
    """A button of the Home tab (Sign in, Sign out, automatic sign-in): answered in the DM."""
    action = _first_action(body)
    user_id, value = str((body.get("user") or {}).get("id") or ""), action.get("value")
    if not user_id or not isinstance(value, str) or not value.startswith("cmd:"):
        return None
    return Inbound(
        team_id=_team_of(body),
        user_id=user_id,
        message=UserMessage(choice=value, delivery_id=action.get("action_ts")),
        destination=Destination(),
        home=True,
    )


_INBOUND = "loginbot_inbound"  # the listener's delivery, in Bolt's context
_ENTRY = "loginbot_inbox_entry"  # its inbox entry


def _recorded(
    channel: SlackChannel, parse: Callable[[dict[str, Any]], Inbound | None]
) -> Callable[..., Awaitable[None]]:
    """A listener middleware: the delivery the listener will run, recorded in the inbox before Bolt
    acknowledges it (Bolt runs a listener's middleware before the listener runner, which acks an
    event automatically, and a command or an action when the listener calls `ack()`)."""

    async def record(
        body: dict[str, Any], context: AsyncBoltContext, next_: Callable[[], Awaitable[None]]
    ) -> None:
        inbound = parse(body)
        if inbound is not None:
            context[_INBOUND] = inbound
            context[_ENTRY] = await channel.deliveries.record(inbound)  # raises: a 500, Slack retries
        await next_()

    return record


def _recorded_delivery(context: AsyncBoltContext) -> tuple[Inbound, int | None] | None:
    inbound = context.get(_INBOUND)
    if not isinstance(inbound, Inbound):
        return None
    entry = context.get(_ENTRY)
    return inbound, entry if isinstance(entry, int) else None


def _register(app: AsyncApp, channel: SlackChannel) -> None:
    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.warning("a Slack listener failed: %s", _describe(error))

    async def on_event(context: AsyncBoltContext, client: AsyncWebClient) -> None:
        recorded = _recorded_delivery(context)
        if recorded is not None:
            await channel.run(client, *recorded)

    app.event("message", middleware=[_recorded(channel, _dm_message)])(on_event)
    app.event("app_mention", middleware=[_recorded(channel, _mention)])(on_event)

    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        user_id = event.get("user")
        if not isinstance(user_id, str):
            return
        team_id = _team_of(body)
        if event.get("tab") == "messages" and event.get("channel"):
            await channel.resume(client, team_id, user_id, str(event["channel"]))
        else:
            await channel.publish_home(client, team_id, user_id)

    async def on_acked(ack: AsyncAck, context: AsyncBoltContext, client: AsyncWebClient) -> None:
        """A slash command or a Home-tab button (answered in the DM, then the tab is published again)."""
        await ack()
        recorded = _recorded_delivery(context)
        if recorded is not None:
            await channel.run(client, *recorded)

    for command in ("/login", "/logout", "/loginbot"):
        app.command(command, middleware=[_recorded(channel, _command)])(on_acked)

    async def on_choice(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        recorded = _recorded_delivery(context)
        picked = kit.picked(action, ((body.get("state") or {}).get("values")) or {})
        if recorded is None or picked is None:
            return

        async def answered(replies: list[Reply], language: str | None) -> None:
            if replies[0].key == _EXPIRED:
                return  # a button of an earlier question: leave that message as it was
            label = picked.label or _auto_label(channel.assistant, picked.choice, language)
            answer = kit.escape(slack_texts().text(language, "chosen", label=label))
            await channel.update(client, body, str(action.get("block_id", "")), answer)

        await channel.run(client, *recorded, after=answered)

    for matcher in (kit.CHOOSE_ACTION, kit.SELECT_ACTION, kit.AUTO_CONTINUE):
        app.action(matcher, middleware=[_recorded(channel, _choice)])(on_choice)

    @app.action(kit.AUTO_CHECK)
    async def on_checkbox(ack: AsyncAck) -> None:
        await ack()  # the box is read when Continue is clicked

    @app.options(kit.TEAM_SEARCH_ACTION)
    async def on_team_search(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        options: list[dict[str, Any]] = []
        try:
            user_id = str((body.get("user") or {}).get("id") or "")
            searched = str(body.get("value") or "")
            user = await channel.identities.lookup(client, _team_of(body), user_id)
            if user.email and not too_long(searched):  # over the input limit: no options, never searched
                context = await channel.assistant.context_for(user.email)
                teams = context.profile.teams if context.profile else ()
                options = kit.team_options(teams, searched)
        except Exception as error:
            log.warning("could not answer a team search: %s", _describe(error))
        await ack(options=options)

    home_actions = re.compile("^(" + "|".join(re.escape(a) for a in HOME_ACTIONS) + ")$")
    app.action(home_actions, middleware=[_recorded(channel, _home_action)])(on_acked)


def _auto_label(assistant: Assistant, choice: str | None, language: str | None) -> str:
    key = "label.auto_yes" if choice == kit.AUTO_YES else "label.auto_no"
    return assistant.engine.catalog.text(language, key)


def _describe(error: BaseException) -> str:
    """A log line for a Slack failure: the API's error code, never a token or the whole response."""
    response = getattr(error, "response", None)
    code = response.get("error") if response is not None and hasattr(response, "get") else None
    return f"{type(error).__name__}: {code}" if code else type(error).__name__
