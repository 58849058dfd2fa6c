"""The ASGI layer in front of rasa-sdk's Sanic app: what reaches rasa-sdk has been checked.

* Routes: `/health`, `/readyz` and `/actions` (GET), `/webhook` (POST). Another path is 404,
  another method 405 (with `Allow`), before rasa-sdk sees the request.
* The shared token (Rasa's `action_endpoint: token:`, sent as `?token=`), compared in constant time,
  before the body is read: a caller without it costs a header parse.
* The body is bounded before it is read: a `Content-Length` above the limit is refused at once and a
  body sent without one is counted as it arrives (413 either way). A `deflate` body is inflated here,
  by bounded steps, so that a small compressed body cannot grow past the decoded limit (413); rasa-sdk
  then gets the inflated body without the encoding, and never inflates anything itself.
* A body that is not an action call rasa-sdk can run (malformed JSON, wrong shapes) is 400, as
  rasa-sdk answers an empty body.

Refusals are logged without the body: it may hold a user's messages.
"""

from __future__ import annotations

import hmac
import json
import logging
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

INVALID_BODY = {"error": "Invalid body request"}  # rasa-sdk's own answer to an empty body
ROUTES = {
    "/health": ("GET", "HEAD"),
    "/readyz": ("GET", "HEAD"),
    "/actions": ("GET", "HEAD"),
    "/webhook": ("POST",),
}
_INFLATE_STEP = 64 * 1024


@dataclass(frozen=True)
class Limits:
    body_bytes: int  # as sent (compressed or not)
    decoded_bytes: int  # once inflated


class Refused(Exception):
    def __init__(self, status: int, body: dict[str, str], why: str) -> None:
        super().__init__(why)
        self.status = status
        self.body = body
        self.why = why


def problem(action_call: Any) -> str | None:
    """Why a webhook body is not an action call rasa-sdk can run, or None."""
    if not isinstance(action_call, dict):
        return "the body is not a JSON object"
    next_action = action_call.get("next_action")
    if next_action is None:
        return None  # rasa-sdk answers `null`
    if not isinstance(next_action, str):
        return "next_action is not a string"
    tracker = action_call.get("tracker")
    if not isinstance(tracker, dict):
        return "tracker is missing or not an object"
    if not isinstance(tracker.get("sender_id"), str):
        return "tracker.sender_id is missing or not a string"  # rasa-sdk reads it unchecked: a 500
    if "latest_message" in tracker and not isinstance(tracker["latest_message"], dict):
        return "tracker.latest_message is not an object"  # read unchecked after the action ran: a 500
    expected = {"slots": dict, "latest_message": dict, "events": list, "active_loop": dict}
    for name, kind in expected.items():
        if tracker.get(name) is not None and not isinstance(tracker[name], kind):
            return f"tracker.{name} has the wrong type"
    if not all(isinstance(e, dict) for e in tracker.get("events") or []):
        return "tracker.events holds something else than events"
    domain = action_call.get("domain")
    if domain is not None and not isinstance(domain, dict):
        return "domain is not an object"
    return None


def inflate(body: bytes, limit: int) -> bytes:
    """A `deflate` (zlib) body inflated by bounded steps: `Refused` (413) past `limit` bytes, (400)
    when it is not a complete zlib stream."""
    inflater = zlib.decompressobj()
    out = bytearray()
    pending = body
    try:
        while pending:
            out += inflater.decompress(pending, _INFLATE_STEP)
            if len(out) > limit:
                raise Refused(413, {"error": "Request body too large."}, "inflated body over the limit")
            pending = inflater.unconsumed_tail
        out += inflater.flush()
    except zlib.error:
        raise Refused(400, INVALID_BODY, "the body is not deflate data") from None
    if not inflater.eof or inflater.unused_data or len(out) > limit:
        raise Refused(400, INVALID_BODY, "the body is not one complete deflate stream")
    return bytes(out)


class Guard:
    """The ASGI application `loginbot serve actions` runs: the checks above, then rasa-sdk's `app`."""

    def __init__(self, app: ASGIApp, *, token: str, limits: Limits) -> None:
        self.app = app
        self._token = token.encode()
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # lifespan: Sanic's start-up and shutdown
            return
        try:
            await self._http(scope, receive, send)
        except Refused as refused:
            client = (scope.get("client") or ("?",))[0]
            level = logging.WARNING if refused.status in (401, 413) else logging.INFO
            log.log(level, "refused a %s %s from %s: %s", scope["method"], scope["path"], client, refused.why)
            await _json(send, refused.status, refused.body, allow=_allow(scope, refused))

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        allowed = ROUTES.get(path)
        if allowed is None:
            raise Refused(404, {"error": "Not found."}, "unknown path")
        if method not in allowed:
            raise Refused(405, {"error": "Method not allowed."}, "method not allowed")
        if path != "/webhook":
            await self.app(scope, receive, send)
            return
        self._check_token(scope)
        headers = {name.decode("latin-1").lower(): value for name, value in scope.get("headers") or []}
        body = await self._read(headers, receive)
        encoding = headers.get("content-encoding", b"").decode("latin-1").strip().lower()
        if encoding == "deflate":
            body = inflate(body, self.limits.decoded_bytes)
        elif encoding not in ("", "identity"):
            raise Refused(415, {"error": "Unsupported content encoding."}, "unsupported content encoding")
        if body:  # an empty body: rasa-sdk answers 400 itself
            try:
                why = problem(json.loads(body))
            except ValueError:  # not JSON, not UTF-8
                why = "the body is not JSON"
            if why:
                raise Refused(400, INVALID_BODY, why)
        await self.app(_with_body(scope, body), _replay(body, receive), send)

    def _check_token(self, scope: Scope) -> None:
        if not self._token:
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = (query.get("token") or [""])[0].encode("latin-1", "replace")
        if not hmac.compare_digest(given, self._token):
            raise Refused(401, {"error": "Missing or wrong token."}, "missing or wrong token")

    async def _read(self, headers: dict[str, bytes], receive: Receive) -> bytes:
        limit = self.limits.body_bytes
        too_large = Refused(413, {"error": "Request body too large."}, "body over the limit")
        declared = headers.get("content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    raise too_large
            except ValueError:
                raise Refused(400, INVALID_BODY, "malformed Content-Length") from None
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise Refused(400, INVALID_BODY, "the client went away")
            body += message.get("body", b"")
            if len(body) > limit:
                raise too_large
            if not message.get("more_body"):
                return bytes(body)


def _allow(scope: Scope, refused: Refused) -> str | None:
    return ", ".join(ROUTES[scope["path"]]) if refused.status == 405 else None


def _with_body(scope: Scope, body: bytes) -> Scope:
    """The request as rasa-sdk gets it: the body as read here (inflated), no encoding, its length."""
    dropped = (b"content-encoding", b"content-length", b"transfer-encoding")
    headers = [(k, v) for k, v in scope.get("headers") or [] if k.lower() not in dropped]
    headers.append((b"content-length", str(len(body)).encode()))
    return {**scope, "headers": headers}


def _replay(body: bytes, then: Receive) -> Receive:
    """The body read here, in one message; then the connection's own messages (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _json(send: Send, status: int, body: dict[str, str], *, allow: str | None = None) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if allow:
        headers.append((b"allow", allow.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
