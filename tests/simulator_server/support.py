"""Helpers for the simulator-server tests: Cisco's schemas, the OAuth dance, and a websocket client.

Everything talks to a real `SimulatorServer` on 127.0.0.1 with httpx and the `websockets` client.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jsonschema
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

SCHEMAS = Path(__file__).with_name("schemas")
_OPENAPI = json.loads((SCHEMAS / "wxcc-openapi-schemas.json").read_text())
NOTIFICATIONS = json.loads((SCHEMAS / "notifications.json").read_text())
_PROSE_LIMITS = {
    "dialNumber": 43,
    "deviceId": 43,
    "teamId": 36,
    "agentId": 36,
    "auxCodeId": 36,
    "logoutReason": 128,
    "clientType": 20,
    "lastStateChangeReason": 128,
}

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-secret"
REDIRECT_URI = "http://127.0.0.1:9/callback"
ALL_SCOPES = "cjp:user cjp:config_read spark:people_read"
ORG = "demo-org"

AVA = "ava.lead@example.com"
SAM = "sam.supervisor@example.com"
ALEX = "alex.agent@example.com"
DANA = "dana.digital@example.com"
BUSY = "busy.agent@example.com"
ROOT = "root.admin@example.com"
BUSY_NUMBER = "+14155550123"


# -- schemas -----------------------------------------------------------------------------------------


def _with_components(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A schema whose `#/components/...` references resolve inside itself."""
    return {**schema, "components": _OPENAPI["components"]}


def validate_response(key: str, body: object) -> None:
    """`key` is `"METHOD path status"`: `GET /organization/{orgid}/v2/team 200`."""
    jsonschema.Draft202012Validator(_with_components(_OPENAPI["responses"][key])).validate(body)


def validate_schema(name: str, body: object) -> None:
    schema = {"$ref": f"#/components/schemas/{name}"}
    jsonschema.Draft202012Validator(_with_components(schema)).validate(body)


def validate_request(method: str, path: str, body: object) -> bool:
    """Strict check of a request body: Cisco's schema, prose limits, no undefined property."""
    schema = _OPENAPI["requests"].get(f"{method} {path}")
    if schema is None:
        return False
    if "$ref" in schema:
        schema = _OPENAPI["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    strict = json.loads(json.dumps(schema))
    strict["additionalProperties"] = False
    for name, limit in _PROSE_LIMITS.items():
        if name in strict["properties"]:
            strict["properties"][name].setdefault("maxLength", limit)
    jsonschema.Draft202012Validator(strict).validate(body)
    return True


def validate_notification(message: Mapping[str, Any]) -> None:
    """A websocket message as API-FACTS.md describes it."""
    if message.get("type") == "Welcome":
        jsonschema.validate(message, NOTIFICATIONS["welcome"])
        return
    jsonschema.validate(message, NOTIFICATIONS["envelope"])
    result = message["data"]["type"]
    expected_outer = NOTIFICATIONS["outer"].get(result)
    if expected_outer is not None:
        assert message["type"] == expected_outer, f"{result} arrives as {expected_outer}"
    if result in ("AgentStationLoginSuccess", "AgentReloginSuccess"):
        jsonschema.validate(message["data"], NOTIFICATIONS["loginSuccess"])
    if result.endswith("Failed"):
        jsonschema.validate(message["data"], NOTIFICATIONS["failure"])


# -- OAuth -------------------------------------------------------------------------------------------


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(
    email: str | None, *, scope: str = ALL_SCOPES, challenge: str | None = None
) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "state-123",
    }
    if email is not None:
        params["login_hint"] = email
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return params


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def get_code(base_url: str, email: str, *, scope: str = ALL_SCOPES, challenge: str | None = None) -> str:
    answer = httpx.get(
        f"{base_url}/v1/authorize", params=authorize_params(email, scope=scope, challenge=challenge)
    )
    query = redirect_query(answer)
    assert query["state"] == "state-123"
    return query["code"]


def exchange(base_url: str, code: str, verifier: str | None = None) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    if verifier is not None:
        form["code_verifier"] = verifier
    return httpx.post(f"{base_url}/v1/access_token", data=form)


def refresh(base_url: str, refresh_token: str) -> httpx.Response:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    return httpx.post(f"{base_url}/v1/access_token", data=form)


def tokens_for(base_url: str, email: str, *, scope: str = ALL_SCOPES) -> dict[str, Any]:
    verifier, challenge = pkce()
    answer = exchange(base_url, get_code(base_url, email, scope=scope, challenge=challenge), verifier)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def bearer(token: str, tracking_id: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if tracking_id:
        headers["TrackingId"] = tracking_id
    return headers


# -- runtime: a user with a notification socket ---------------------------------------------------------


@dataclass
class Agent:
    """One user's HTTP client and notification socket, on the test's event loop."""

    base_url: str
    token: str
    http: httpx.AsyncClient
    socket: ClientConnection | None = None
    welcome: dict[str, Any] | None = None

    async def subscribe(self, **body: Any) -> dict[str, Any]:
        payload = {
            "isKeepAliveEnabled": False,
            "clientType": "loginbot-test",
            "allowMultiLogin": False,
            "force": False,
        }
        payload.update(body)
        answer = await self.http.post(
            f"{self.base_url}/v1/notification/subscribe", json=payload, headers=bearer(self.token)
        )
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def connect(self, **body: Any) -> dict[str, Any]:
        subscription = await self.subscribe(**body)
        self.socket = await connect(subscription["webSocketUrl"], ping_interval=None, open_timeout=5)
        self.welcome = await self.receive()
        return subscription

    async def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        assert self.socket is not None
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
        validate_notification(message)
        return message

    async def result(self, tracking_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The result of the call sent with `tracking_id` (other messages are skipped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.receive(max(0.01, deadline - loop.time()))
            if message.get("trackingId") == tracking_id:
                return message

    async def nothing_within(self, seconds: float) -> bool:
        """True when no message arrives (and the socket stays open) for `seconds`."""
        try:
            await self.receive(seconds)
        except TimeoutError:
            return True
        return False

    async def closed(self, timeout: float = 10.0) -> bool:
        """True when the server closes the socket within `timeout` (messages meanwhile are read)."""
        assert self.socket is not None
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.socket.recv()
        except ConnectionClosed:
            return True
        except TimeoutError:
            return False

    async def call(
        self, method: str, path: str, body: Any = None, *, tracking_id: str | None = None
    ) -> httpx.Response:
        tid = tracking_id or f"TEST-{secrets.token_hex(8)}"
        return await self.http.request(
            method, f"{self.base_url}{path}", json=body, headers=bearer(self.token, tid)
        )

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
            self.socket = None


def login_body(
    number: str, team: str = "", *, roles: tuple[str, ...] = ("agent",), device: str = "AGENT_DN"
) -> dict[str, Any]:
    return {
        "dialNumber": number,
        "teamId": team,
        "isExtension": device == "EXTENSION",
        "roles": list(roles),
        "deviceType": device,
        "deviceId": number,
    }
