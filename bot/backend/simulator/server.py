"""The simulator served as the real Webex Contact Center API: OAuth, configuration reads, runtime
calls and the notification websocket, over HTTP on loopback.

A client written for the real API talks to it unchanged: `WXCC_API_URL=http://127.0.0.1:PORT`,
`WXCC_OAUTH_URL=http://127.0.0.1:PORT/v1`. The rules live in the shared `SimulatorCore`; this
module only translates HTTP and websocket traffic to core calls and core outcomes to notifications.

Routes (see `build_app`):

* OAuth (Webex's): `GET|POST /v1/authorize`, `POST /v1/access_token`, `GET /v1/people/me`, and
  the directory search `GET /v1/people?displayName=|email=`.
* Configuration (`cjp:config_read`): `GET /organization/{orgid}/v2/user/by-ci-user-id/{id}`,
  `/agent-profile/{id}`, `/v2/team`, `/v2/dial-plan`, `/v2/auxiliary-code`.
* Runtime (`cjp:user`, 202 + a notification): `POST /v1/notification/subscribe` (200),
  `POST /v1/agents/login`, `PUT /v1/agents/session/state`, `PUT /v1/agents/logout`,
  `POST /v1/agents/reload`; websocket `/v1/notification/subscription/{subscriptionId}`.
* Admin (loopback only, `X-Admin-Token` when configured): `GET|PUT|PATCH /admin/faults`,
  `GET|PUT /admin/outage` (`{"outage": true}`), `GET /admin/requests` (the request log, filtered by
  `?method=` and `?path=`), `POST /admin/tokens/revoke`.

Simulator rules where the real service leaves room:

* Take-over (S12): a subscription with `force: true` closes the user's other websockets after
  sending them `AGENT_MULTI_LOGIN` / `AgentMultiLoginCloseSession`. When the user has a station
  session, the core's `take_over` runs, so every server sharing the core closes that user's sockets
  too. The user's next login within `take_over_window_seconds` (default 30 s) of a forced
  subscription uses the core's `take_over=True`. Without `force`, a user may hold several sockets.
* Results go to every socket of the user on this server (and of the target of an admin logout).
  A user with no socket open loses the result, as with the real service.
* `agentId` in a state change must be the token's own user (403 otherwise); a logout of another
  agent needs an administrator or a supervisor-capable user.
* A websocket URL works once, within `subscription_ttl_seconds` (default 300 s).
* Every HTTP answer carries `TrackingID`: the request's `TrackingId` header, or a new
  `LOGINBOT-<uuid4>`. Runtime notifications carry the same id.
* An API outage (the core's `set_outage`, T2) answers every contact-center API request 503 before it
  reaches the core, as injected 5xx faults do; OAuth and `people/me` (webexapis.com) keep working.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import ipaddress
import json
import logging
import socket
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import uvicorn
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from bot.backend.port import (
    Availability,
    BackendUnavailable,
    CallPreference,
    ContactCenterError,
    FailureReason,
    LoginRequest,
    Role,
    StationSession,
)
from bot.backend.simulator import config_api
from bot.backend.simulator import runtime_messages as messages
from bot.backend.simulator.core import SimulatorCore, new_tracking_id
from bot.backend.simulator.faults import FaultDice, Faults
from bot.backend.simulator.http_schemas import (
    LogInResourceRequest,
    LogOutResourceRequest,
    NotificationRequest,
    StateResourceRequest,
    api_error,
    problems,
)
from bot.backend.simulator.oauth_server import KNOWN_SCOPES, AuthorizationServer, Grant, OAuthError
from bot.backend.simulator.state_file import SimEvent
from bot.backend.simulator.tenant import DEMO_TENANT_FILE, AllowedRoles, UserConfig, load_tenant
from bot.heap import settle_startup_heap

log = logging.getLogger(__name__)

B = TypeVar("B", bound=BaseModel)

RUNTIME_SCOPES = ("cjp:user",)
CONFIG_SCOPES = ("cjp:config_read", "cjp:config")
MAX_RECORDED_REQUESTS = 1000
_MAX_SUBSCRIPTIONS = 10_000
_API_PREFIXES = ("/v1/notification/", "/v1/agents/", "/organization/")
_OAUTH_PATHS = ("/v1/authorize", "/v1/access_token", "/v1/people/me", "/v1/people")
PEOPLE_SCOPES = ("spark:people_read",)
MAX_PEOPLE = 1000  # Webex's largest `max` for a people listing
_ROLE_SETS = {frozenset(role.api_roles): role for role in Role}
_DEVICE_TYPES = ("AGENT_DN", "EXTENSION", "BROWSER")
CLOSE_TAKEN_OVER = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_FAULT = 1011


@dataclass
class RecordedRequest:
    """One received request, for tests to check against Cisco's schemas (no Authorization header)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any  # the parsed JSON body, or None
    tracking_id: str
    status: int | None = None  # the answer's status, once it started (101 never: websockets aren't logged)

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body": self.body,
            "trackingId": self.tracking_id,
            "status": self.status,
        }


@dataclass
class Subscription:
    id: str
    email: str
    agent_id: str
    client_type: str
    keepalive: bool
    created: float
    claimed: bool = False


@dataclass(frozen=True)
class _Item:
    message: dict[str, Any] | None = None
    close: int | None = None  # a close code: close after sending `message` (if any)
    reason: str = ""


@dataclass
class _Socket:
    subscription: Subscription
    websocket: WebSocket
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[_Item] = field(default_factory=asyncio.Queue)
    sent: int = 0

    def post(self, item: _Item) -> None:
        """Queue a message or a close from any thread."""
        with contextlib.suppress(RuntimeError):  # the loop is gone: the socket is gone too
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)


class _Problem(Exception):
    """An HTTP error answered with the API's error envelope."""

    def __init__(self, status: int, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = headers or {}


def tracking_id_of(request: Request) -> str:
    return str(request.scope.get("state", {}).get("tracking_id") or new_tracking_id())


def _is_loopback(host: str | None) -> bool:
    if host is None or host in ("localhost", "testclient"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SimulatorService:
    """Everything the routes share: the core, tokens, faults, subscriptions, sockets, the request log."""

    def __init__(
        self,
        core: SimulatorCore,
        *,
        faults: Faults | None,
        client_id: str | None,
        client_secret: str | None,
        token_ttl_seconds: float,
        refresh_token_ttl_seconds: float,
        code_ttl_seconds: float,
        keepalive_timeout_seconds: float,
        subscription_ttl_seconds: float,
        take_over_window_seconds: float,
        admin_token: str | None,
        redirect_uris: Sequence[str] | None,
        max_recorded_requests: int,
    ) -> None:
        self.core = core
        self.tenant = core.tenant
        self.org_id = core.tenant.organization_id
        self.dice = FaultDice(faults)
        self.auth = AuthorizationServer(
            client_id=client_id,
            client_secret=client_secret,
            token_ttl_seconds=token_ttl_seconds,
            refresh_token_ttl_seconds=refresh_token_ttl_seconds,
            code_ttl_seconds=code_ttl_seconds,
        )
        self.keepalive_timeout_seconds = keepalive_timeout_seconds
        self.subscription_ttl_seconds = subscription_ttl_seconds
        self.take_over_window_seconds = take_over_window_seconds
        self.admin_token = admin_token
        self.redirect_uris = tuple(redirect_uris) if redirect_uris is not None else None
        self.requests: deque[RecordedRequest] = deque(maxlen=max_recorded_requests)
        self._lock = threading.Lock()
        self._subscriptions: OrderedDict[str, Subscription] = OrderedDict()
        self._sockets: dict[str, list[_Socket]] = {}
        self._spare: dict[str, str] = {}  # tracking id -> the subscription a take-over keeps
        self._forced: dict[str, tuple[str, float]] = {}  # agent id -> (forcing subscription, when)
        self._unsubscribe: Callable[[], None] | None = core.subscribe(self._on_core_event)

    # -- lifetime --------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop hearing the core and close every socket (the core may outlive this server)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for sock in self._all_sockets():
            sock.post(_Item(close=CLOSE_GOING_AWAY, reason="server stopping"))

    def _all_sockets(self) -> list[_Socket]:
        with self._lock:
            return [sock for socks in self._sockets.values() for sock in socks]

    # -- users and tokens --------------------------------------------------------------------------

    def bearer(self, request: Request, scopes: Sequence[str]) -> tuple[Grant, UserConfig]:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _Problem(401, "a bearer access token is required")
        grant = self.auth.access_grant(token.strip())
        if grant is None:
            raise _Problem(401, "the access token is invalid, expired or revoked")
        user = self.tenant.user_by_email(grant.email)
        if user is None:
            raise _Problem(401, "the token's user no longer exists")
        if scopes and not grant.has_scope(*scopes):
            raise _Problem(403, f"the token lacks the scope {' or '.join(scopes)}")
        return grant, user

    # -- subscriptions and sockets -------------------------------------------------------------------

    def subscribe(self, user: UserConfig, body: NotificationRequest, tracking_id: str) -> Subscription:
        subscription = Subscription(
            id=f"{body.client_type}-{uuid.uuid4()}",
            email=user.email,
            agent_id=user.ci_user_id,
            client_type=body.client_type,
            keepalive=body.is_keep_alive_enabled,
            created=time.monotonic(),
        )
        with self._lock:
            self._subscriptions[subscription.id] = subscription
            while len(self._subscriptions) > _MAX_SUBSCRIPTIONS:
                self._subscriptions.popitem(last=False)
        if body.force:
            self._force(user, subscription, tracking_id)
        return subscription

    def _force(self, user: UserConfig, subscription: Subscription, tracking_id: str) -> None:
        with self._lock:
            self._forced[user.ci_user_id] = (subscription.id, time.monotonic())
        if self.core.session(user.email) is None:
            self._close_others(user.ci_user_id, tracking_id, keep=subscription.id)
            return
        with self.sparing(tracking_id, subscription.id):
            self.core.take_over(user.email, tracking_id=tracking_id)  # AGENT_MULTI_LOGIN everywhere

    @contextlib.contextmanager
    def sparing(self, tracking_id: str, subscription_id: str) -> Iterator[None]:
        """While a take-over runs under `tracking_id`, its AGENT_MULTI_LOGIN spares this subscription."""
        with self._lock:
            self._spare[tracking_id] = subscription_id
        try:
            yield
        finally:
            with self._lock:
                self._spare.pop(tracking_id, None)

    def consume_forced(self, agent_id: str) -> str | None:
        """The forcing subscription when a forced subscription was made just before, once."""
        with self._lock:
            forced = self._forced.pop(agent_id, None)
        if forced is None or time.monotonic() - forced[1] > self.take_over_window_seconds:
            return None
        return forced[0]

    def claim(self, subscription_id: str) -> Subscription | None:
        with self._lock:
            subscription = self._subscriptions.get(subscription_id)
            if subscription is None or subscription.claimed:
                return None
            if time.monotonic() - subscription.created > self.subscription_ttl_seconds:
                del self._subscriptions[subscription_id]
                return None
            subscription.claimed = True
            return subscription

    def attach(self, sock: _Socket) -> None:
        with self._lock:
            self._sockets.setdefault(sock.subscription.agent_id, []).append(sock)

    def detach(self, sock: _Socket) -> None:
        with self._lock:
            socks = self._sockets.get(sock.subscription.agent_id, [])
            if sock in socks:
                socks.remove(sock)
            if not socks:
                self._sockets.pop(sock.subscription.agent_id, None)
            self._subscriptions.pop(sock.subscription.id, None)

    def sockets_of(self, agent_id: str) -> list[_Socket]:
        with self._lock:
            return list(self._sockets.get(agent_id, []))

    def _close_others(self, agent_id: str, tracking_id: str, keep: str | None) -> None:
        message = messages.multi_login(agent_id=agent_id, org_id=self.org_id, tracking_id=tracking_id)
        for sock in self.sockets_of(agent_id):
            if sock.subscription.id != keep:
                sock.post(_Item(message=message, close=CLOSE_TAKEN_OVER, reason="AGENT_MULTI_LOGIN"))

    def _on_core_event(self, event: SimEvent) -> None:
        """Core events from any front end: a take-over closes this server's sockets of the user."""
        if event.kind != "AGENT_MULTI_LOGIN":
            return
        with self._lock:
            keep = self._spare.get(event.tracking_id)
        self._close_others(event.agent_id, event.tracking_id, keep)

    def deliver(self, agent_ids: Sequence[str], message: dict[str, Any]) -> None:
        """Send a result to the users' sockets, unless the `lose_result_rate` fault eats it."""
        if self.dice.roll(self.dice.faults.lose_result_rate):
            log.info("fault: result %s lost (tracking id %s)", message["data"]["type"], message["trackingId"])
            return
        targets = [sock for agent_id in dict.fromkeys(agent_ids) for sock in self.sockets_of(agent_id)]
        if not targets:
            log.info("no notification socket for %s: result %s lost", agent_ids, message["data"]["type"])
        for sock in targets:
            sock.post(_Item(message=message))

    # -- the websocket ----------------------------------------------------------------------------

    async def run_socket(self, websocket: WebSocket) -> None:
        subscription = self.claim(str(websocket.path_params["subscription_id"]))
        if subscription is None:
            await websocket.close(code=1008)  # before accept: the handshake is refused (403)
            return
        await websocket.accept()
        sock = _Socket(subscription, websocket, asyncio.get_running_loop())
        self.attach(sock)
        try:
            await websocket.send_text(json.dumps(messages.welcome(subscription.agent_id)))
            if self.dice.faults.drop_websocket_after == 0:
                await websocket.close(code=CLOSE_FAULT, reason="simulated fault: socket dropped")
                return
            tasks = [
                asyncio.create_task(self._write(sock), name="simulator-ws-write"),
                asyncio.create_task(self._read(sock), name="simulator-ws-read"),
            ]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            self.detach(sock)
            with contextlib.suppress(Exception):
                await websocket.close(code=CLOSE_GOING_AWAY)

    async def _write(self, sock: _Socket) -> None:
        while True:
            item = await sock.queue.get()
            faults = self.dice.faults
            if item.message is not None and not faults.silent_websocket:
                await sock.websocket.send_text(json.dumps(item.message))
                sock.sent += 1
            if item.close is not None:
                await sock.websocket.close(code=item.close, reason=item.reason)
                return
            limit = faults.drop_websocket_after
            if limit is not None and sock.sent >= limit:
                await sock.websocket.close(code=CLOSE_FAULT, reason="simulated fault: socket dropped")
                return

    async def _read(self, sock: _Socket) -> None:
        """Any client message counts as a keepalive; silence beyond the timeout drops the socket."""
        timeout = self.keepalive_timeout_seconds if sock.subscription.keepalive else None
        while True:
            try:
                message = await asyncio.wait_for(sock.websocket.receive(), timeout)
            except TimeoutError:
                log.info("no keepalive from %s for %.1f s: socket dropped", sock.subscription.email, timeout)
                await sock.websocket.close(code=CLOSE_GOING_AWAY, reason="keepalive timeout")
                return
            if message["type"] == "websocket.disconnect":
                return

    # -- runtime calls ----------------------------------------------------------------------------

    def login_request(self, user: UserConfig, body: LogInResourceRequest) -> LoginRequest:
        role = _ROLE_SETS.get(frozenset(name.strip().lower() for name in body.roles))
        if role is None:
            raise _Problem(400, 'roles must be ["agent"], ["supervisor"] or both')
        device = body.device_type
        if device is None:
            if role.needs_team:
                raise _Problem(400, "deviceType is required for the agent role")
            browser = not body.dial_number or body.dial_number.startswith("webrtc-")
            device = "EXTENSION" if body.is_extension else "BROWSER" if browser else "AGENT_DN"
        if device not in _DEVICE_TYPES:
            raise _Problem(400, f"deviceType must be one of {', '.join(_DEVICE_TYPES)}")
        preference: CallPreference | None = CallPreference.from_device_type(device)
        number = body.dial_number
        if preference is CallPreference.DESKTOP:
            number = ""
            if not self.tenant.profile_of(user).login_voice_options:
                preference = None  # a digital-only station: a browser device with no telephony
        return LoginRequest(role=role, call_preference=preference, dial_number=number, team_id=body.team_id)

    def session_message(
        self, call: str, user: UserConfig, session: StationSession, tid: str
    ) -> dict[str, Any]:
        return messages.session_success(
            call,
            session,
            org_id=self.org_id,
            tracking_id=tid,
            site_id=user.site_id,
            profile_type=config_api.profile_type(user, agent="AGENT"),
        )

    def failure(self, call: str, agent_id: str, tid: str, reason: FailureReason) -> dict[str, Any]:
        return messages.failure(call, agent_id=agent_id, org_id=self.org_id, tracking_id=tid, reason=reason)


# -- the HTTP front: tracking ids, the request log, faults -------------------------------------------


class _Front:
    """Pure ASGI middleware: `TrackingID` on every answer, the request log, and the HTTP faults."""

    def __init__(self, app: ASGIApp, service: SimulatorService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        tid = headers.get("trackingid", "").strip()[:200] or new_tracking_id()
        scope.setdefault("state", {})["tracking_id"] = tid
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        path: str = scope["path"]
        unrecorded = path.startswith("/admin") or path in ("/healthz", "/readyz")  # not API traffic
        record = None if unrecorded else self._record(scope, headers, body, tid)

        async def send_tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"TrackingID", tid.encode())]}
                if record is not None:
                    record.status = int(message["status"])
            await send(message)

        fault = await self._fault(path, tid)
        if fault is not None:
            await fault(scope, replay, send_tracked)
            return
        await self.app(scope, replay, send_tracked)

    def _record(self, scope: Scope, headers: dict[str, str], body: bytes, tid: str) -> RecordedRequest:
        parsed: Any = None
        if body and "json" in headers.get("content-type", ""):
            with contextlib.suppress(ValueError):
                parsed = json.loads(body)
        kept = {k: v for k, v in headers.items() if k not in ("authorization", "x-admin-token", "cookie")}
        record = RecordedRequest(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=kept,
            body=parsed,
            tracking_id=tid,
        )
        self.service.requests.append(record)
        return record

    async def _fault(self, path: str, tid: str) -> Response | None:
        dice = self.service.dice
        faults = dice.faults
        api = path.startswith(_API_PREFIXES)
        if api and self.service.core.outage:
            log.info("simulated API outage: %s answered 503 (tracking id %s)", path, tid)
            return _outage_answer(tid)
        if not (api or (faults.apply_to_oauth and path in _OAUTH_PATHS)):
            return None
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if dice.roll(faults.rate_limit_rate):
            return JSONResponse(
                api_error(tid, 429, "simulated fault: too many requests"),
                status_code=429,
                headers={"Retry-After": str(faults.retry_after_seconds)},
            )
        if dice.roll(faults.error_rate):
            status = dice.choice((500, 503))
            return JSONResponse(api_error(tid, status, f"simulated fault: HTTP {status}"), status_code=status)
        return None


def _outage_answer(tid: str) -> JSONResponse:
    return JSONResponse(api_error(tid, 503, "simulated API outage"), status_code=503)


# -- routes --------------------------------------------------------------------------------------


def _json_problem(request: Request, problem: _Problem) -> JSONResponse:
    headers = dict(problem.headers)
    if problem.status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer error="invalid_token"')
    return JSONResponse(
        api_error(tracking_id_of(request), problem.status, problem.description),
        status_code=problem.status,
        headers=headers,
    )


def _api(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except _Problem as problem:
            return _json_problem(request, problem)
        except BackendUnavailable:  # the outage began after the front let the request in
            return _outage_answer(tracking_id_of(request))

    return endpoint


async def _body(request: Request, model: type[B], *, required: bool = True) -> B:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise _Problem(400, "a JSON request body is required")
        return model.model_validate({})
    try:
        data = json.loads(raw)
    except ValueError:
        raise _Problem(400, "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise _Problem(400, "the request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _Problem(400, "; ".join(problems(error))) from None


def _form(raw: bytes) -> dict[str, str]:
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _oauth_json(error: OAuthError, tid: str) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="oauth"'
    return JSONResponse(
        {"error": error.error, "error_description": error.description, "trackingId": tid},
        status_code=error.status,
        headers=headers,
    )


_CONSENT_FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - loginbot simulator</title></head>
<body><h1>Sign in to the contact-center simulator</h1>
<form method="post" action="/v1/authorize">{hidden}
<label>Email <input type="email" name="login_hint" required autofocus></label>
<button type="submit">Continue</button></form></body></html>
"""


def _routes(service: SimulatorService) -> list[Route | WebSocketRoute]:
    core = service.core
    tenant = service.tenant

    # -- OAuth ------------------------------------------------------------------------------------

    async def authorize(request: Request) -> Response:
        tid = tracking_id_of(request)
        params = dict(request.query_params)
        if request.method == "POST":
            params.update(_form(await request.body()))
        redirect_uri = params.get("redirect_uri", "")
        target = urlsplit(redirect_uri)
        allowed = service.redirect_uris is None or redirect_uri in service.redirect_uris
        if target.scheme not in ("http", "https") or not target.netloc or target.fragment or not allowed:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "redirect_uri is missing or not allowed"},
                status_code=400,
            )
        state = {"state": params["state"]} if params.get("state") else {}

        def refuse(error: str, description: str) -> Response:
            query = {"error": error, "error_description": description, **state}
            return RedirectResponse(_with_query(redirect_uri, query), status_code=302)

        if not service.auth.known_client(params.get("client_id", "")):
            return refuse("access_denied", "unknown client_id")
        if params.get("response_type") != "code":
            return refuse("unsupported_response_type", "only response_type=code is supported")
        scopes = tuple(dict.fromkeys(params.get("scope", "").split()))
        if not scopes or not set(scopes) <= KNOWN_SCOPES:
            return refuse("invalid_scope", "the scope is missing or names an unknown scope")
        challenge = params.get("code_challenge") or None
        method = params.get("code_challenge_method") or None
        if (challenge is None) != (method is None) or (method is not None and method != "S256"):
            return refuse("invalid_request", "PKCE needs code_challenge with code_challenge_method=S256")
        email = params.get("login_hint", "").strip()
        if not email:
            hidden = "".join(
                f'\n<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                for k, v in params.items()
                if k != "login_hint"
            )
            return HTMLResponse(_CONSENT_FORM.format(hidden=hidden))
        user = tenant.user_by_email(email)
        if user is None:
            log.info("authorize refused: no tenant user %s (tracking id %s)", email, tid)
            return refuse("access_denied", "no contact-center user with this email")
        code = service.auth.issue_code(
            client_id=params["client_id"],
            redirect_uri=redirect_uri,
            scopes=scopes,
            email=user.email,
            challenge=challenge,
        )
        return RedirectResponse(_with_query(redirect_uri, {"code": code, **state}), status_code=302)

    async def access_token(request: Request) -> Response:
        tid = tracking_id_of(request)
        form = _form(await request.body())
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            with contextlib.suppress(ValueError):
                decoded = base64.b64decode(basic[6:].strip()).decode()
                client_id, _, client_secret = decoded.partition(":")
        try:
            service.auth.check_client(client_id, client_secret)
            grant_type = form.get("grant_type", "")
            if grant_type == "authorization_code":
                if not form.get("code"):
                    raise OAuthError("invalid_request", "code is required")
                tokens = service.auth.exchange_code(
                    code=form["code"],
                    client_id=client_id,
                    redirect_uri=form.get("redirect_uri"),
                    verifier=form.get("code_verifier"),
                )
            elif grant_type == "refresh_token":
                if not form.get("refresh_token"):
                    raise OAuthError("invalid_request", "refresh_token is required")
                tokens = service.auth.refresh(refresh_token=form["refresh_token"], client_id=client_id)
            else:
                raise OAuthError(
                    "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"
                )
        except OAuthError as error:
            log.info("token request refused: %s (tracking id %s)", error.error, tid)
            return _oauth_json(error, tid)
        return JSONResponse(tokens.as_json(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def person(user: UserConfig) -> dict[str, Any]:
        """A user as Webex's People API describes one."""
        return {
            "id": user.ci_user_id,
            "emails": [user.email],
            "phoneNumbers": [],
            "displayName": user.display_name,
            "nickName": user.first_name or user.display_name,
            "firstName": user.first_name,
            "lastName": user.last_name,
            "orgId": service.org_id,
            "type": "person",
            "loginEnabled": True,
        }

    def people_problem(problem: _Problem, tid: str) -> Response:
        body = {
            "message": problem.description,
            "errors": [{"description": problem.description}],
            "trackingId": tid,
        }
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if problem.status == 401 else {}
        return JSONResponse(body, status_code=problem.status, headers=headers)

    async def people_me(request: Request) -> Response:
        tid = tracking_id_of(request)
        try:
            _, user = service.bearer(request, ())
        except _Problem as problem:
            return people_problem(_Problem(401, problem.description), tid)
        return JSONResponse(person(user))

    async def people_list(request: Request) -> Response:
        """`GET /v1/people`: Webex's directory search. `displayName` matches the start of a display,
        first or last name (case aside), `email` one address; one of them is required, as Webex
        requires of anyone but an administrator. `max`: 1 to 1000 (100 by default)."""
        tid = tracking_id_of(request)
        try:
            service.bearer(request, PEOPLE_SCOPES)
            query = request.query_params
            name = query.get("displayName", "").strip().casefold()
            email = query.get("email", "").strip().casefold()
            if not name and not email:
                raise _Problem(400, "displayName, email or id is required")
            try:
                limit = int(query.get("max", "100"))
            except ValueError:
                raise _Problem(400, "max must be a number") from None
            if not 1 <= limit <= MAX_PEOPLE:
                raise _Problem(400, f"max must be between 1 and {MAX_PEOPLE}")
        except _Problem as problem:
            return people_problem(problem, tid)

        def named(user: UserConfig) -> bool:
            names = (user.display_name, user.first_name or "", user.last_name or "")
            return any(n.casefold().startswith(name) for n in names)

        found = [
            person(user)
            for user in tenant.users
            if (not email or user.email.casefold() == email) and (not name or named(user))
        ]
        return JSONResponse({"items": found[:limit]})

    # -- configuration reads --------------------------------------------------------------------

    def config_user(request: Request) -> UserConfig:
        _, user = service.bearer(request, CONFIG_SCOPES)
        if request.path_params["orgid"] != service.org_id:
            raise _Problem(403, "the token has no access to this organization")
        return user

    async def user_by_ci_id(request: Request) -> Response:
        config_user(request)
        user = tenant.user_by_id(request.path_params["id"])
        if user is None:
            raise _Problem(404, "no user with this CI user id")
        return JSONResponse(config_api.user_json(tenant, user))

    async def agent_profile(request: Request) -> Response:
        config_user(request)
        profile = tenant.agent_profile(request.path_params["id"])
        if profile is None:
            raise _Problem(404, "no desktop profile with this id")
        return JSONResponse(config_api.agent_profile_json(tenant, profile))

    def listing(
        request: Request,
        items: list[dict[str, Any]],
        extra: dict[str, Callable[[dict[str, Any], str], bool]] | None = None,
    ) -> Response:
        try:
            page = config_api.listing(
                tenant, request.url.path, items, dict(request.query_params), extra_fields=extra
            )
        except config_api.ListingError as error:
            raise _Problem(400, str(error)) from None
        return JSONResponse(page)

    async def teams(request: Request) -> Response:
        config_user(request)
        items = [config_api.team_json(tenant, team) for team in tenant.teams]
        return listing(request, items, {"userId": lambda item, value: value in item.get("userIds", [])})

    async def dial_plans(request: Request) -> Response:
        config_user(request)
        return listing(request, [config_api.dial_plan_json(tenant, plan) for plan in tenant.dial_plans])

    async def auxiliary_codes(request: Request) -> Response:
        user = config_user(request)
        codes = list(tenant.auxiliary_codes)
        supervised = request.query_params.get("supervisedUserId")
        if request.query_params.get("desktopProfileFilter", "").lower() == "true" or supervised:
            whose = tenant.user_by_id(supervised) if supervised else user
            if whose is None:
                raise _Problem(404, "no user with this supervisedUserId")
            allowed = {code.id for code in tenant.idle_codes_for(tenant.profile_of(whose))}
            codes = [c for c in codes if c.work_type_code.value != "IDLE_CODE" or c.id in allowed]
        return listing(request, [config_api.auxiliary_code_json(tenant, code) for code in codes])

    # -- runtime --------------------------------------------------------------------------------

    async def subscribe(request: Request) -> Response:
        tid = tracking_id_of(request)
        _, user = service.bearer(request, RUNTIME_SCOPES)
        body = await _body(request, NotificationRequest, required=False)
        if body.allow_multi_login and "client_type" not in body.model_fields_set:
            raise _Problem(400, "allowMultiLogin cannot be used without clientType")
        subscription = service.subscribe(user, body, tid)
        scheme = "wss" if request.url.scheme == "https" else "ws"
        url = f"{scheme}://{request.url.netloc}/v1/notification/subscription/{subscription.id}"
        return JSONResponse({"webSocketUrl": url, "subscriptionId": subscription.id})

    async def agent_login(request: Request) -> Response:
        tid = tracking_id_of(request)
        _, user = service.bearer(request, RUNTIME_SCOPES)
        login = service.login_request(user, await _body(request, LogInResourceRequest))
        forcing = service.consume_forced(user.ci_user_id)
        try:
            if forcing is not None:
                with service.sparing(tid, forcing):
                    outcome = core.station_login(user.email, login, take_over=True, tracking_id=tid)
            else:
                outcome = core.station_login(user.email, login, tracking_id=tid)
            assert outcome.session is not None
            message = service.session_message("login", user, outcome.session, tid)
        except ContactCenterError as error:
            message = service.failure("login", user.ci_user_id, tid, error.reason)
        service.deliver([user.ci_user_id], message)
        return Response(status_code=202)

    async def session_state(request: Request) -> Response:
        tid = tracking_id_of(request)
        _, user = service.bearer(request, RUNTIME_SCOPES)
        body = await _body(request, StateResourceRequest)
        if body.state not in (Availability.AVAILABLE.value, Availability.IDLE.value):
            raise _Problem(400, "state must be Available or Idle")
        if body.agent_id and body.agent_id != user.ci_user_id:
            raise _Problem(403, "the simulator changes only the token user's own state")
        state = Availability(body.state)
        code = None if state is Availability.AVAILABLE else body.aux_code_id
        try:
            outcome = core.set_state(user.email, state, code, tracking_id=tid)
            assert outcome.session is not None
            message = messages.state_success(
                outcome.session,
                org_id=service.org_id,
                tracking_id=tid,
                reason=body.last_state_change_reason,
                changed_by=user.display_name,
            )
        except ContactCenterError as error:
            message = service.failure("state", user.ci_user_id, tid, error.reason)
        service.deliver([user.ci_user_id], message)
        return Response(status_code=202)

    async def agent_logout(request: Request) -> Response:
        tid = tracking_id_of(request)
        _, caller = service.bearer(request, RUNTIME_SCOPES)
        body = await _body(request, LogOutResourceRequest)
        target = caller
        if body.agent_id and body.agent_id != caller.ci_user_id:
            if not (caller.simulator.admin or caller.simulator.allowed_roles is not AllowedRoles.AGENT):
                raise _Problem(403, "only administrators and supervisors may sign out another agent")
            found = tenant.user_by_id(body.agent_id)
            if found is None:
                message = service.failure("logout", body.agent_id, tid, FailureReason.AGENT_NOT_FOUND)
                service.deliver([caller.ci_user_id], message)
                return Response(status_code=202)
            target = found
        before = core.session(target.email)
        try:
            core.logout(target.email, body.logout_reason, tracking_id=tid)
            assert before is not None
            by = caller.display_name if target is not caller else None
            message = messages.logout_success(
                before, org_id=service.org_id, tracking_id=tid, logged_out_by=by
            )
        except ContactCenterError as error:
            message = service.failure("logout", target.ci_user_id, tid, error.reason)
        service.deliver([caller.ci_user_id, target.ci_user_id], message)
        return Response(status_code=202)

    async def reload(request: Request) -> Response:
        tid = tracking_id_of(request)
        _, user = service.bearer(request, RUNTIME_SCOPES)
        session = core.session(user.email)
        if session is None:
            message = service.failure("reload", user.ci_user_id, tid, FailureReason.AGENT_NOT_FOUND)
        else:
            message = service.session_message("reload", user, session, tid)
        service.deliver([user.ci_user_id], message)
        return Response(status_code=202)

    # -- admin ------------------------------------------------------------------------------------

    def admin(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if not _is_loopback(request.client.host if request.client else None):
                return JSONResponse({"error": "admin endpoints answer on loopback only"}, status_code=403)
            if service.admin_token is not None:
                given = request.headers.get("x-admin-token", "")
                if not hmac.compare_digest(given.encode(), service.admin_token.encode()):
                    return JSONResponse({"error": "X-Admin-Token missing or wrong"}, status_code=401)
            try:
                return await handler(request)
            except _Problem as problem:
                return JSONResponse({"error": problem.description}, status_code=problem.status)

        return endpoint

    async def admin_json(request: Request) -> dict[str, Any]:
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            raise _Problem(400, "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise _Problem(400, "the body must be a JSON object")
        return data

    async def faults_endpoint(request: Request) -> Response:
        if request.method in ("PUT", "PATCH"):
            data = await admin_json(request)
            if request.method == "PATCH":
                data = {**service.dice.faults.model_dump(), **data}
            try:
                service.dice.replace(Faults.model_validate(data))
            except ValidationError as error:
                raise _Problem(400, "; ".join(problems(error))) from None
            log.info("faults now %s", service.dice.faults.model_dump_json())
        return JSONResponse(service.dice.faults.model_dump(mode="json"))

    async def outage_endpoint(request: Request) -> Response:
        if request.method == "PUT":
            data = await admin_json(request)
            on = data.get("outage")
            if not isinstance(on, bool) or set(data) != {"outage"}:
                raise _Problem(400, 'the body must be {"outage": true} or {"outage": false}')
            core.set_outage(on)
        return JSONResponse({"outage": core.outage})

    async def requests_endpoint(request: Request) -> Response:
        method = request.query_params.get("method", "").upper()
        path = request.query_params.get("path", "")
        recorded = [
            r.as_json()
            for r in list(service.requests)
            if (not method or r.method == method) and (not path or r.path == path)
        ]
        return JSONResponse(recorded)

    async def revoke(request: Request) -> Response:
        data = await admin_json(request)
        email = data.get("email")
        if not isinstance(email, str) or not email.strip():
            raise _Problem(400, "email is required")
        if tenant.user_by_email(email) is None:
            raise _Problem(404, "no tenant user with this email")
        return JSONResponse({"email": email.strip().lower(), "revoked": service.auth.revoke_user(email)})

    org = "/organization/{orgid}"
    return [
        Route("/v1/authorize", authorize, methods=["GET", "POST"]),
        Route("/v1/access_token", access_token, methods=["POST"]),
        Route("/v1/people/me", people_me, methods=["GET"]),
        Route("/v1/people", people_list, methods=["GET"]),
        Route(f"{org}/v2/user/by-ci-user-id/{{id}}", _api(user_by_ci_id), methods=["GET"]),
        Route(f"{org}/agent-profile/{{id}}", _api(agent_profile), methods=["GET"]),
        Route(f"{org}/v2/team", _api(teams), methods=["GET"]),
        Route(f"{org}/v2/dial-plan", _api(dial_plans), methods=["GET"]),
        Route(f"{org}/v2/auxiliary-code", _api(auxiliary_codes), methods=["GET"]),
        Route("/v1/notification/subscribe", _api(subscribe), methods=["POST"]),
        WebSocketRoute("/v1/notification/subscription/{subscription_id}", service.run_socket),
        Route("/v1/agents/login", _api(agent_login), methods=["POST"]),
        Route("/v1/agents/session/state", _api(session_state), methods=["PUT"]),
        Route("/v1/agents/logout", _api(agent_logout), methods=["PUT"]),
        Route("/v1/agents/reload", _api(reload), methods=["POST"]),
        Route("/admin/faults", admin(faults_endpoint), methods=["GET", "PUT", "PATCH"]),
        Route("/admin/outage", admin(outage_endpoint), methods=["GET", "PUT"]),
        Route("/admin/requests", admin(requests_endpoint), methods=["GET"]),
        Route("/admin/tokens/revoke", admin(revoke), methods=["POST"]),
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    return JSONResponse(
        api_error(tracking_id_of(request), status, str(detail)), status_code=status, headers=headers
    )


def build_app(
    core: SimulatorCore,
    *,
    faults: Faults | None = None,
    client_id: str | None = "loginbot-simulator",
    client_secret: str | None = "simulator-secret",
    token_ttl_seconds: float = 3600.0,
    refresh_token_ttl_seconds: float = 90 * 24 * 3600.0,
    code_ttl_seconds: float = 120.0,
    keepalive_timeout_seconds: float = 16.0,
    subscription_ttl_seconds: float = 300.0,
    take_over_window_seconds: float = 30.0,
    admin_token: str | None = None,
    redirect_uris: Sequence[str] | None = None,
    max_recorded_requests: int = MAX_RECORDED_REQUESTS,
) -> Starlette:
    """The ASGI app serving `core` as the Webex Contact Center API.

    `client_id=None` registers every client id (any secret). The shared `SimulatorService` is
    `app.state.simulator` (its `requests`, `dice`, `auth`); call its `shutdown()` when the app is
    dropped without a lifespan shutdown, so that the core stops calling it.
    """
    service = SimulatorService(
        core,
        faults=faults,
        client_id=client_id,
        client_secret=client_secret,
        token_ttl_seconds=token_ttl_seconds,
        refresh_token_ttl_seconds=refresh_token_ttl_seconds,
        code_ttl_seconds=code_ttl_seconds,
        keepalive_timeout_seconds=keepalive_timeout_seconds,
        subscription_ttl_seconds=subscription_ttl_seconds,
        take_over_window_seconds=take_over_window_seconds,
        admin_token=admin_token,
        redirect_uris=redirect_uris,
        max_recorded_requests=max_recorded_requests,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            service.shutdown()

    app = Starlette(
        routes=[*_routes(service), *_health_routes(service)],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.simulator = service
    app.add_middleware(_Front, service=service)
    return app


def _health_routes(service: SimulatorService) -> list[Route]:
    """`/healthz` and `/readyz` for probes: ready once the tenant is loaded (a simulated outage is
    reported, not hidden: the API then answers 503, as the real one would)."""
    from bot.ops import health

    async def tenant() -> health.Result:
        core = service.core
        users = len(core.tenant.users)
        outage = " (simulated API outage on)" if core.outage else ""
        return health.Result(users > 0, f"{users} users loaded{outage}")

    readiness = health.Readiness({"tenant": tenant})
    return health.routes(lambda: readiness)


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    tenant_file: str | Path | None = None,
    state_path: str | Path | None = None,
    faults: Faults | None = None,
    client_id: str | None = "loginbot-simulator",
    client_secret: str | None = "simulator-secret",
    admin_token: str | None = None,
    outage: bool = False,
    access_log: bool = True,
) -> None:
    """Serve a tenant file (the demo when None) until interrupted (blocking); `outage` starts the
    tenant with its API outage switched on (`PUT /admin/outage` switches it off); `access_log`:
    uvicorn's line per HTTP request (the core's own event log is kept either way)."""
    tenant = load_tenant(tenant_file if tenant_file is not None else DEMO_TENANT_FILE)
    core = SimulatorCore(tenant, Path(state_path) if state_path is not None else None)
    if outage:
        core.set_outage(True)
    app = build_app(
        core, faults=faults, client_id=client_id, client_secret=client_secret, admin_token=admin_token
    )
    settle_startup_heap()
    uvicorn.run(app, host=host, port=port, ws="websockets-sansio", log_level="info", access_log=access_log)


class SimulatorServer:
    """The app on a background thread, on a free loopback port; a context manager.

    `with SimulatorServer(core, faults=...) as server: server.base_url`. Unlike `build_app`, the
    default registers every OAuth client id (`client_id=None`), so that test rigs bring their own.
    Other keyword arguments go to `build_app` (`token_ttl_seconds`, `keepalive_timeout_seconds`, ...).
    """

    def __init__(
        self,
        core: SimulatorCore | None = None,
        *,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str | None = None,
        client_secret: str | None = None,
        **options: Any,
    ) -> None:
        self.core = core if core is not None else SimulatorCore(load_tenant(DEMO_TENANT_FILE))
        self.host = host
        self._port = port
        self.app = build_app(
            self.core, faults=faults, client_id=client_id, client_secret=client_secret, **options
        )
        self.service: SimulatorService = self.app.state.simulator
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        return list(self.service.requests)

    @property
    def faults(self) -> Faults:
        return self.service.dice.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self.service.dice.replace(faults)

    def start(self) -> SimulatorServer:
        if self._thread is not None:
            return self
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self._port))
        self._port = listener.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            ws="websockets-sansio",
            lifespan="on",
            timeout_graceful_shutdown=3,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [listener]}, daemon=True, name=f"simulator-{self._port}"
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                listener.close()
                raise RuntimeError("the simulator server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self.service.shutdown()
        server.should_exit = True
        thread.join(timeout=10)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
