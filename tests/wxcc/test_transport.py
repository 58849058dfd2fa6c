"""The adapter's default transport (`bot/backend/wxcc/transport.py`): httpx's requests sent by
aiohttp, with httpx's answers and httpx's errors, whose meaning the adapter relies on (a request
that never left may be tried again; one that may have been sent may not)."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.backend.wxcc.transport import AiohttpTransport


async def _with_server(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    test: Callable[[httpx.AsyncClient, str], Awaitable[Any]],
) -> Any:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client = httpx.AsyncClient(
        timeout=2.0, transport=AiohttpTransport(max_connections=4, keepalive_expiry=2.0)
    )
    try:
        return await test(client, f"http://127.0.0.1:{port}")
    finally:
        await client.aclose()
        await runner.cleanup()


def test_a_request_and_its_answer_go_through_unchanged() -> None:
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.StreamResponse:
        seen["method"], seen["query"] = request.method, dict(request.query)
        seen["headers"], seen["body"] = request.headers.copy(), await request.read()
        body = gzip.compress(json.dumps({"ok": True}).encode())
        return web.Response(
            status=201,
            body=body,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip", "TrackingID": "T-1"},
        )

    async def test(client: httpx.AsyncClient, url: str) -> httpx.Response:
        return await client.post(
            f"{url}/v1/agents/login",
            params={"page": 0},
            json={"teamId": "t1"},
            headers={"Authorization": "Bearer abc", "TrackingId": "LOGINBOT-1"},
        )

    response = asyncio.run(_with_server(handler, test))
    assert response.status_code == 201
    assert response.json() == {"ok": True}
    assert response.headers["TrackingID"] == "T-1"
    assert seen["method"] == "POST" and seen["query"] == {"page": "0"}
    assert json.loads(seen["body"]) == {"teamId": "t1"}
    assert seen["headers"]["Authorization"] == "Bearer abc"
    assert seen["headers"]["TrackingId"] == "LOGINBOT-1"
    assert seen["headers"]["Content-Type"] == "application/json"


def test_redirects_are_not_followed() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": "/elsewhere"})

    async def test(client: httpx.AsyncClient, url: str) -> httpx.Response:
        return await client.get(f"{url}/v1/authorize")

    response = asyncio.run(_with_server(handler, test))
    assert response.status_code == 302
    assert response.headers["Location"] == "/elsewhere"


def test_a_refused_connection_is_a_connect_error_nothing_was_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused

    async def run() -> None:
        async with httpx.AsyncClient(
            transport=AiohttpTransport(max_connections=1, keepalive_expiry=2.0)
        ) as client:
            await client.get(f"http://127.0.0.1:{port}/x")

    with pytest.raises(httpx.ConnectError):
        asyncio.run(run())


def test_no_answer_in_time_is_a_read_timeout_it_may_have_been_sent() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(1.0)
        return web.Response(text="late")

    async def test(client: httpx.AsyncClient, url: str) -> httpx.Response:
        return await client.get(f"{url}/slow", timeout=0.2)

    with pytest.raises(httpx.ReadTimeout):
        asyncio.run(_with_server(handler, test))


def test_a_connection_dropped_without_an_answer_is_not_a_connect_error() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0.1)
        return web.Response(text="never")

    async def test(client: httpx.AsyncClient, url: str) -> httpx.Response:
        return await client.post(f"{url}/v1/agents/login", json={})

    with pytest.raises(httpx.HTTPError) as raised:
        asyncio.run(_with_server(handler, test))
    assert not isinstance(raised.value, httpx.ConnectError | httpx.ConnectTimeout)
