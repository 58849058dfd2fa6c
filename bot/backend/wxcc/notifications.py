"""`NotificationChannel`: one user's notification websocket, and the calls waiting on it.

Why a channel per user: the runtime API answers 202 and delivers each outcome on the websocket of
the subscription made with the *same user's* token, so each user needs their own subscription.
The channel stays open between calls, because that is where an unsolicited `AGENT_MULTI_LOGIN`
(another place took the session over) arrives.

How a call waits: it registers its tracking id with `expect()` *before* sending its request, so a
result that arrives quickly cannot be missed; the reader routes each result by `trackingId`. If
the service answers with another tracking id than the one sent, `rekey()` moves the waiter, and
results seen meanwhile are kept briefly for exactly that case.

A socket that drops fails every waiter with `ChannelLost` (the adapter then asks `reload` what
happened; it never re-sends) and the channel reconnects on its own, a few times, with backoff,
unless it was closed on purpose or because another place took the session over. `close()` stops a
reconnection in progress and waits for every task of the channel, so none outlives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from bot.backend.wxcc.config import WxccConfig
from bot.backend.wxcc.rest import RestClient, TokenSource

log = logging.getLogger(__name__)

Message = dict[str, Any]
MULTI_LOGIN = "AGENT_MULTI_LOGIN"
_RECONNECT_ATTEMPTS = 3


class ChannelLost(Exception):
    """The websocket closed while a call waited for its result."""


def is_multi_login(message: Message) -> bool:
    data = message.get("data")
    inner = data.get("type") if isinstance(data, dict) else None
    return message.get("type") == MULTI_LOGIN or inner == "AgentMultiLoginCloseSession"


def tracking_id_of(message: Message) -> str:
    data = message.get("data")
    inner = data.get("trackingId") if isinstance(data, dict) else None
    return str(message.get("trackingId") or inner or "")


class NotificationChannel:
    """Subscribe, connect, wait for `Welcome`, keep alive, route results, reconnect."""

    def __init__(
        self,
        *,
        rest: RestClient,
        config: WxccConfig,
        token: TokenSource,
        label: str,
        on_multi_login: Callable[[Message], None],
    ) -> None:
        self._rest = rest
        self._config = config
        self._token = token
        self._label = label  # the user's email, for logs
        self._on_multi_login = on_multi_login
        self._socket: ClientConnection | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._reconnecting: asyncio.Task[None] | None = None
        self._empty_drops = 0  # sockets lost in a row without delivering a single message
        self._waiters: dict[str, asyncio.Future[Message]] = {}
        self._unclaimed: deque[Message] = deque(maxlen=32)
        self._lock = asyncio.Lock()
        self._closing = False
        self.taken_over = False  # another place forced a subscription: do not reconnect by ourselves
        self.agent_id = ""

    @property
    def connected(self) -> bool:
        return self._socket is not None

    async def ensure(self, *, force: bool = False) -> None:
        """Be subscribed and connected; with `force`, replace this user's other subscriptions."""
        async with self._lock:
            if force and self._socket is not None:
                await self._drop_socket()  # our own socket must not read our own take-over as foreign
            if self._socket is not None:
                return
            self._closing = False
            body = {
                "isKeepAliveEnabled": True,
                "clientType": self._config.client_type[:20],
                "allowMultiLogin": False,
                "force": force,
            }
            response = await self._rest.call(
                "POST", self._url("/v1/notification/subscribe"), token=self._token, json=body, idempotent=True
            )
            url = str((response.body or {}).get("webSocketUrl", ""))
            # No permessage-deflate: the messages are a few hundred bytes, and a compressor per user
            # cost ~40 kB each (a thousand users signed in: 40 MB) and CPU at every keepalive.
            socket = await asyncio.wait_for(
                connect(
                    url,
                    open_timeout=self._config.http_timeout_seconds,
                    ping_interval=None,
                    compression=None,
                ),
                self._config.http_timeout_seconds,
            )
            try:
                welcome = json.loads(await asyncio.wait_for(socket.recv(), self._config.http_timeout_seconds))
            except BaseException:  # a timeout, a closed socket, not JSON, or cancelled by `close`
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(socket.close(), 2)
                raise
            if welcome.get("type") != "Welcome":
                await socket.close()
                raise ChannelLost(f"expected Welcome, got {welcome.get('type')!r}")
            self.agent_id = str((welcome.get("data") or {}).get("agentId", ""))
            self.taken_over = False
            self._socket = socket
            self._tasks = [
                asyncio.create_task(self._read(socket), name=f"wxcc-read-{self._label}"),
                asyncio.create_task(self._keepalive(socket), name=f"wxcc-keepalive-{self._label}"),
            ]
            log.info("notifications open for %s (forced: %s)", self._label, force)

    def expect(self, tracking_id: str) -> asyncio.Future[Message]:
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        # A waiter failed by a dropped socket while its request was failing anyway is never awaited:
        # its `ChannelLost` is seen here, so that asyncio does not log it as an exception lost.
        future.add_done_callback(_seen)
        self._waiters[tracking_id] = future
        return future

    def rekey(self, sent: str, returned: str) -> None:
        """The service named the call `returned`, not `sent`: wait under its name too."""
        if sent == returned or sent not in self._waiters:
            return
        future = self._waiters.pop(sent)
        self._waiters[returned] = future
        for message in list(self._unclaimed):
            if tracking_id_of(message) == returned and not future.done():
                self._unclaimed.remove(message)
                future.set_result(message)

    def forget(self, *tracking_ids: str) -> None:
        for tid in tracking_ids:
            future = self._waiters.pop(tid, None)
            if future is not None and not future.done():
                future.cancel()

    async def close(self) -> None:
        """Close the socket and stop a reconnection in progress; every task of the channel is done
        when this returns (none is left pending when the event loop ends)."""
        self._closing = True
        reconnecting, self._reconnecting = self._reconnecting, None
        if reconnecting is not None and reconnecting is not asyncio.current_task():
            reconnecting.cancel()
            await asyncio.gather(reconnecting, return_exceptions=True)
        async with self._lock:
            self._closing = True  # an `ensure` that ran meanwhile reopened it: closed all the same
            await self._drop_socket()

    # -- internals ----------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self._config.api_url.rstrip('/')}{path}"

    async def _drop_socket(self) -> None:
        socket, self._socket = self._socket, None
        tasks, self._tasks = self._tasks, []
        current = asyncio.current_task()
        others = [task for task in tasks if task is not current]
        for task in others:
            task.cancel()
        if socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(socket.close(), 2)
        await asyncio.gather(*others, return_exceptions=True)
        self._fail_waiters("notification channel closed")

    def _fail_waiters(self, why: str) -> None:
        waiters, self._waiters = self._waiters, {}
        for future in waiters.values():
            if not future.done():
                future.set_exception(ChannelLost(why))

    async def _keepalive(self, socket: ClientConnection) -> None:
        with contextlib.suppress(WebSocketException, OSError):
            while True:
                await asyncio.sleep(self._config.keepalive_seconds)
                await socket.send(json.dumps({"keepalive": "true"}))

    async def _read(self, socket: ClientConnection) -> None:
        received = 0
        try:
            async for raw in socket:
                received += 1
                self._dispatch(raw)
        except (WebSocketException, OSError) as error:
            log.info("notifications of %s lost: %s", self._label, type(error).__name__)
        if self._socket is not socket:
            return  # replaced or closed on purpose
        self._socket = None
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        self._tasks = []
        self._fail_waiters("websocket lost")
        # A socket that closes before delivering anything, again and again, is not worth reopening
        # in the background: the next call opens one anyway (and explains if it cannot).
        self._empty_drops = 0 if received else self._empty_drops + 1
        if self._closing or self.taken_over or self._reconnecting is not None:
            return
        if self._empty_drops > _RECONNECT_ATTEMPTS:
            log.info("notifications of %s keep dropping: reconnecting at the next call only", self._label)
            return
        self._reconnecting = asyncio.get_running_loop().create_task(
            self._reconnect(), name=f"wxcc-reconnect-{self._label}"
        )

    def _dispatch(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            log.warning("notifications of %s: a message that is not JSON was ignored", self._label)
            return
        if not isinstance(message, dict) or "keepalive" in message:
            return
        if is_multi_login(message):
            self.taken_over = True
            log.info("%s: session taken over elsewhere (AGENT_MULTI_LOGIN)", self._label)
            self._on_multi_login(message)
            return
        tid = tracking_id_of(message)
        future = self._waiters.pop(tid, None)
        if future is not None and not future.done():
            future.set_result(message)
        else:
            self._unclaimed.append(message)
            log.debug(
                "notifications of %s: %s not awaited (tracking id %s)", self._label, message.get("type"), tid
            )

    async def _reconnect(self) -> None:
        try:
            for attempt in range(1, _RECONNECT_ATTEMPTS + 1):
                await asyncio.sleep(min(0.2 * 2**attempt, 2.0))
                if self._closing or self.taken_over or self._socket is not None:
                    return
                try:
                    await self.ensure()
                    return
                except Exception as error:  # keep trying; the next call will try again anyway
                    log.info("reconnect %d of %s failed: %s", attempt, self._label, type(error).__name__)
        finally:
            if self._reconnecting is asyncio.current_task():
                self._reconnecting = None


def _seen(future: asyncio.Future[Message]) -> None:
    if not future.cancelled():
        future.exception()
