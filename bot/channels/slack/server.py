"""Serving the Slack app: HTTP (Bolt's ASGI adapter under uvicorn) or Socket Mode.

HTTP mode listens on 127.0.0.1 by default: put a TLS-terminating proxy or a tunnel in front for
Slack to reach `/slack/events` (events, slash commands, interactivity and options all arrive there,
signed; Bolt answers 401 to a bad or stale signature before any listener runs). Socket Mode
(`SLACK_APP_TOKEN`, xapp-) needs no public URL at all, which suits a workstation or a locked-down
network. On a real contact-center tenant the OAuth redirect of `bot/backend/wxcc` is served beside
the Slack route (HTTP mode) or on its own loopback listener (Socket Mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

from slack_bolt.adapter.asgi.http_response import AsgiHttpResponse
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from bot.assistant import Assistant
from bot.channels.slack.delivery import DEFAULT_GRACE_SECONDS, Deliveries

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
MAX_BODY_BYTES = 1_000_000  # Slack's largest payloads (a long message, a big view) are far below this


class _NoRejectedBodies(logging.Filter):
    """Bolt logs a request whose signature does not match with its whole body (at INFO): a forged or
    stale request's body is anyone's text, and a real one's holds users' messages. The line is kept,
    without the body, the signature or the timestamp."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Invalid request signature detected"):
            record.msg = "refused a Slack request: invalid or stale signature"
            record.args = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_NO_REJECTED_BODIES = _NoRejectedBodies()


def build_asgi(app: AsyncApp, *, routes: Sequence[BaseRoute] = ()) -> Starlette:
    """One ASGI application: Bolt at `/slack/events` (POST), plus `routes` (the OAuth callback)."""
    from slack_bolt.logger import get_bolt_logger
    from slack_bolt.middleware import RequestVerification

    logging.getLogger(get_bolt_logger(RequestVerification).name).addFilter(_NO_REJECTED_BODIES)
    return Starlette(routes=[Route(EVENTS_PATH, endpoint=_WellFormed(app), methods=["POST"]), *routes])


class _WellFormed:
    """Bolt parses a body before it checks the signature, and answers 500 with a traceback when the
    body is not what Slack sends (broken JSON, bytes that are not UTF-8, a JSON list). Such requests
    get a plain 400 here and never reach Bolt or the flow (X1); everything else goes to Bolt as is,
    and its signature check answers 401 to a forged or stale request.

    This is Bolt's ASGI adapter (`AsyncSlackRequestHandler`) with the body parsed once: the adapter
    had Bolt parse it again, after the checks here had (a form-encoded click carries the whole
    message it was clicked in: parsing it twice was ~5 % of the server's CPU in the storm)."""

    def __init__(self, app: AsyncApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > MAX_BODY_BYTES:
                await _plain(send, 413, "request too large")
                return
            if not message.get("more_body"):
                break
        try:
            headers = {name.decode(): value.decode() for name, value in scope.get("headers") or []}
            query = scope.get("query_string", b"").decode()
        except UnicodeDecodeError:
            await _plain(send, 400, "malformed request")
            return
        stamp = headers.get("x-slack-request-timestamp")
        if stamp is not None and not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            # Bolt's check would take it for a number and fail (500): not signed by Slack, so 401.
            log.warning("refused a Slack request: malformed X-Slack-Request-Timestamp")
            await _plain(send, 401, "invalid request")
            return
        content_type = headers.get("content-type", "").split(";")[0].strip()
        request = _request(body, content_type, query=query, headers=headers)
        if request is None:
            await _plain(send, 400, "malformed request")
            return
        try:
            response = await self.app.async_dispatch(request)
        except Exception:
            log.warning("Bolt could not read a request", exc_info=True)
            await _plain(send, 400, "malformed request")
            return
        answer = AsgiHttpResponse(status=response.status, headers=response.headers, body=response.body)
        await send(answer.get_response_start())
        await send(answer.get_response_body())


_BOLT_IDS = (
    "enterprise_id",
    "team_id",
    "user_id",
    "actor_enterprise_id",
    "actor_team_id",
    "actor_user_id",
    "channel_id",
    "thread_ts",
)


def _parses(body: bytes, content_type: str) -> bool:
    """Whether a body is what Slack sends, as far as Bolt reads it."""
    return _request(body, content_type) is not None


def _request(
    body: bytes, content_type: str, *, query: str = "", headers: dict[str, str] | None = None
) -> AsyncBoltRequest | None:
    """The request as Bolt reads it, its body parsed once; None when the body is not what Slack sends."""
    from slack_bolt.request.internals import parse_body

    try:
        text = body.decode("utf-8")
        parsed = parse_body(text, content_type)
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(parsed, dict):
        return None
    # The shapes Bolt's own middleware reads without checking: anything else is not from Slack.
    if any(k in parsed and not isinstance(parsed[k], dict) for k in ("event", "container", "view", "state")):
        return None
    if any(k in parsed and not isinstance(parsed[k], dict | str | None) for k in ("user", "team", "channel")):
        return None
    actions = parsed.get("actions", [])
    # An action's `action_ts` is its delivery id (X2): kept in the conversation, so a string.
    if not isinstance(actions, list) or not all(
        isinstance(a, dict) and isinstance(a.get("action_ts", ""), str) for a in actions
    ):
        return None
    try:
        # Bolt takes a parsed body only in Socket Mode; then the request is made an HTTP one again,
        # with the raw text its signature check reads (`raw_body`, checked in HTTP mode only).
        request = AsyncBoltRequest(body=parsed, query=query, headers=dict(headers or {}), mode="socket_mode")
    except Exception:
        return None
    request.raw_body = text
    request.mode = "http"
    if not _bolt_reads(request.context):
        return None
    return request


def _bolt_reads(context: AsyncBoltContext) -> bool:
    """Whether Bolt read the ids of a request (before it checks the signature) as the strings it
    takes them for: it passes them on, the team id to the Web API's `auth.test`."""
    return all(isinstance(context.get(name), str | None) for name in _BOLT_IDS) and isinstance(
        context.get("response_url"), str | None
    )


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def oauth_callback_routes(assistant: Assistant) -> list[BaseRoute]:
    """The route hook for the real-API backend: its OAuth redirect (`bot/backend/wxcc/callback.py`),
    at the path of `LOGINBOT_OAUTH_REDIRECT_URI`, when the backend signs users in with OAuth (S14).
    The simulator has no such step, so nothing is mounted for it."""
    oauth = getattr(assistant.backend, "oauth", None)
    if oauth is None:
        return []
    from bot.backend.wxcc.callback import callback_route

    path = urlsplit(oauth.redirect_uri).path or "/oauth/callback"
    return [callback_route(oauth, path)]


async def serve_http(
    app: AsyncApp,
    assistant: Assistant,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    sockets: list[socket.socket] | None = None,
) -> None:
    """`sockets`: listen on these instead of binding."""
    import uvicorn

    asgi = build_asgi(app, routes=oauth_callback_routes(assistant))
    config = uvicorn.Config(asgi, host=host, port=port, log_level="warning", lifespan="off")
    await uvicorn.Server(config).serve(sockets=sockets)


async def serve_socket_mode(app: AsyncApp, assistant: Assistant, *, app_token: str) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    with _standalone_oauth_callback(assistant):
        await AsyncSocketModeHandler(app, app_token).start_async()


@contextlib.contextmanager
def _standalone_oauth_callback(assistant: Assistant) -> Iterator[None]:
    """Socket Mode has no HTTP server of its own: the OAuth redirect gets its loopback listener, as
    in the terminal chat."""
    oauth = getattr(assistant.backend, "oauth", None)
    if oauth is None:
        yield
        return
    from bot.backend.wxcc.callback import serve_callback

    with serve_callback(oauth, host=urlsplit(oauth.redirect_uri).hostname or DEFAULT_HOST):
        yield


async def run(
    assistant: Assistant,
    *,
    signing_secret: str,
    token: str,
    app_token: str | None = None,
    api_url: str | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    sockets: list[socket.socket] | None = None,
    recovery_grace: float = DEFAULT_GRACE_SECONDS,
) -> None:
    """`loginbot serve slack`: Socket Mode when an app token is given, else HTTP; closes the
    assistant (backend connections, database) on the way out. Web API calls share one aiohttp
    session, so they reuse connections (a new one per call cost a 1,000-user storm dearly).

    Beside the server runs the recovery (`recovery.py`): deliveries a crashed process acknowledged
    and did not finish are run again, and replies it stored and did not post are posted; the users
    concerned are held from before the first request until theirs are done (`recovery_grace`:
    seconds after which another process's unfinished entry is taken to be orphaned)."""
    import aiohttp

    from bot.channels.slack.app import SlackChannel, build_app, make_client
    from bot.channels.slack.identity import Identities
    from bot.channels.slack.recovery import hold_backlog, keep_recovering

    session = aiohttp.ClientSession()
    client = make_client(token, api_url=api_url, session=session)
    channel = SlackChannel(assistant, Identities(), Deliveries(assistant.store, grace_seconds=recovery_grace))
    app = build_app(assistant, signing_secret=signing_secret, client=client, channel=channel)
    recovery = asyncio.create_task(keep_recovering(channel, client, hold_backlog(channel)))
    try:
        if app_token:
            await serve_socket_mode(app, assistant, app_token=app_token)
        else:
            await serve_http(app, assistant, host=host, port=port, sockets=sockets)
    except asyncio.CancelledError:
        pass
    finally:
        recovery.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await recovery
        await session.close()
        await assistant.aclose()
