"""One process serving the Slack app over HTTP, as an ASGI application with a lifespan.

`loginbot serve slack` runs it under uvicorn (one process) or gunicorn (`--workers N`,
`hosting.py`). Everything a process must own is built at the lifespan's start, in the process
that serves (after gunicorn's fork): the database engine, the contact-center clients, the Slack
Web API session, the inbox's owner name and the recovery task. What is only read (the language
recognizer, the message catalogs) is built before, once, and shared by the forked workers.

Routes: Bolt at `/slack/events`, the OAuth callback of a real tenant, and `/healthz`, `/readyz`,
`/metrics` (`bot/ops/health.py`). `/readyz` says ready once the database answers at the schema's
head, the contact center answers, and the start-up recovery of what other processes left
unfinished has run.

A graceful stop (SIGTERM: uvicorn stops accepting connections and answers those in flight, then
ends the lifespan) waits up to `DRAIN_SECONDS` for the turns already acknowledged, then stops the
recovery and closes the clients. A turn still running then stays pending in the inbox, and
another process (or this one's successor) runs it again after the recovery grace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.routing import Router
from starlette.types import Message, Receive, Scope, Send

from bot.ops import health
from bot.ops.metrics import ACK_SECONDS, exposition

from .server import EVENTS_PATH, build_asgi, oauth_callback_routes

if TYPE_CHECKING:
    import aiohttp

    from bot.assistant import Assistant
    from bot.settings import Settings

    from .app import SlackChannel
    from .recovery import Backlog

log = logging.getLogger(__name__)

DRAIN_SECONDS = 20.0  # under gunicorn's graceful timeout (30 s), which then kills the worker
OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


@dataclass
class _Serving:
    assistant: Assistant
    session: aiohttp.ClientSession
    channel: SlackChannel
    backlog: Backlog
    recovery: asyncio.Task[None]
    asgi: Any
    readiness: health.Readiness


class SlackProcess:
    """The ASGI application of one serving process (see the module's docstring)."""

    def __init__(
        self, settings: Settings, *, assistant: Assistant | None = None, on_ready: str | None = None
    ) -> None:
        self.settings = settings
        self._assistant = assistant  # built already (one process, no fork): used once, at the start
        self.on_ready = on_ready  # a line printed once serving (the workers' start, for scripts)
        self.serving: _Serving | None = None
        self._ops = Router(routes=health.routes(self._readiness, metrics=self._metrics))

    def _readiness(self) -> health.Readiness | None:
        return self.serving.readiness if self.serving is not None else None

    def _metrics(self) -> tuple[bytes, str]:
        return exposition(self.serving.assistant.store if self.serving is not None else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope.get("path") in OPS_PATHS:
            await self._ops(scope, receive, send)
        elif self.serving is None:
            await _unavailable(send)
        elif scope.get("method") == "POST" and scope.get("path") == EVENTS_PATH:
            await self.serving.asgi(scope, receive, _timed(send))
        else:
            await self.serving.asgi(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as error:
                    # The message only: a setting's problem, said as `loginbot` says it.
                    await send({"type": "lifespan.startup.failed", "message": f"loginbot: {error}"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def start(self) -> None:
        import aiohttp

        from bot.app import build_assistant
        from bot.heap import settle_startup_heap

        from .app import SlackChannel, build_app, make_client
        from .delivery import Deliveries
        from .identity import Identities
        from .recovery import hold_backlog, keep_recovering

        settings = self.settings
        assert settings.slack_signing_secret is not None and settings.slack_bot_token is not None
        assistant, self._assistant = self._assistant or build_assistant(settings), None
        session = aiohttp.ClientSession()
        client = make_client(
            settings.slack_bot_token.get_secret_value(), api_url=settings.slack_api_url, session=session
        )
        deliveries = Deliveries(assistant.store, grace_seconds=settings.slack_recovery_grace)
        channel = SlackChannel(assistant, Identities(), deliveries)
        app = build_app(
            assistant,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            client=client,
            channel=channel,
        )
        backlog = hold_backlog(channel)
        recovery = asyncio.create_task(keep_recovering(channel, client, backlog))
        readiness = health.Readiness(
            {
                **health.assistant_checks(assistant),
                "recovery": health.flag_check(
                    lambda: backlog.recovered,
                    done="deliveries left unfinished by other processes recovered",
                    waiting="recovering deliveries left unfinished by other processes",
                ),
            }
        )
        asgi = build_asgi(app, routes=oauth_callback_routes(assistant))
        self.serving = _Serving(assistant, session, channel, backlog, recovery, asgi, readiness)
        settle_startup_heap()
        if self.on_ready:
            print(self.on_ready.format(pid=_pid()), flush=True)

    async def stop(self) -> None:
        serving, self.serving = self.serving, None
        if serving is None:
            return
        if not await serving.channel.in_flight.drained(DRAIN_SECONDS):
            log.warning(
                "stopping with %d deliveries still running: another process will run them again",
                serving.channel.in_flight.count,
            )
        serving.recovery.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving.recovery
        await serving.session.close()
        await serving.assistant.aclose()


def _pid() -> int:
    import os

    return os.getpid()


def _timed(send: Send) -> Send:
    """`send`, observing the time from now to the answer's start (the acknowledgement)."""
    started = time.perf_counter()

    async def timed(message: Message) -> None:
        if message["type"] == "http.response.start":
            ACK_SECONDS.observe(time.perf_counter() - started)
        await send(message)

    return timed


async def _unavailable(send: Send) -> None:
    body = b"starting"
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
