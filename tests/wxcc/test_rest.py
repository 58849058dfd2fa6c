"""`RestClient` on an `httpx.MockTransport`: headers, safe retries, 429, 401."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from bot.backend.wxcc.rest import ApiError, NetworkError, RestClient
from tests.wxcc.support import config


class Recorder:
    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []
        self.slept: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def client(recorder: Recorder) -> RestClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    return RestClient(http, config(), sleep=recorder.sleep)


class Tokens:
    def __init__(self) -> None:
        self.refreshed = 0

    async def __call__(self, *, force_refresh: bool = False) -> str:
        self.refreshed += force_refresh
        return "fresh-token" if self.refreshed else "old-token"


def call(recorder: Recorder, method: str = "GET", **kwargs: object):  # type: ignore[no-untyped-def]
    return asyncio.run(client(recorder).call(method, "http://wxcc.test/x", token=Tokens(), **kwargs))  # type: ignore[arg-type]


def test_headers_and_the_service_tracking_id() -> None:
    recorder = Recorder(httpx.Response(200, json={"ok": 1}, headers={"TrackingID": "SVC-1"}))
    response = call(recorder, idempotent=True)
    sent = recorder.requests[0]
    assert re.fullmatch(r"LOGINBOT-[0-9a-f-]{36}", sent.headers["TrackingId"])
    assert sent.headers["Authorization"] == "Bearer old-token"
    assert (response.body, response.tracking_id) == ({"ok": 1}, "SVC-1")


def test_reads_are_retried_on_5xx_and_network_errors() -> None:
    recorder = Recorder(
        httpx.Response(503), httpx.ConnectError("down"), httpx.Response(200, json={}), httpx.Response(200)
    )
    assert call(recorder, idempotent=True).status == 200
    assert len(recorder.requests) == 3
    assert len({r.headers["TrackingId"] for r in recorder.requests}) == 1, "one logical call, one id"


def test_writes_are_never_retried_on_5xx() -> None:
    recorder = Recorder(httpx.Response(500), httpx.Response(202))
    with pytest.raises(ApiError) as caught:
        call(recorder, "POST", json={"a": 1})
    assert caught.value.status == 500 and len(recorder.requests) == 1


def test_a_write_that_may_have_left_is_reported_as_maybe_sent() -> None:
    with pytest.raises(NetworkError) as caught:
        call(Recorder(httpx.ReadTimeout("slow")), "POST", json={})
    assert caught.value.maybe_sent
    with pytest.raises(NetworkError) as caught:
        call(Recorder(httpx.ConnectError("refused")), "POST", json={})
    assert not caught.value.maybe_sent


def test_429_waits_for_retry_after_even_for_writes() -> None:
    recorder = Recorder(httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(202))
    assert call(recorder, "POST", json={}).status == 202
    assert recorder.slept == [2.0] and len(recorder.requests) == 2


def test_429_beyond_the_bound_is_rate_limited() -> None:
    recorder = Recorder(httpx.Response(429, headers={"Retry-After": "60"}))
    with pytest.raises(ApiError) as caught:
        call(recorder, "POST", json={})
    assert caught.value.status == 429 and recorder.slept == []


def test_401_refreshes_once_and_repeats() -> None:
    recorder = Recorder(httpx.Response(401), httpx.Response(200, json={}))
    assert call(recorder, idempotent=True).status == 200
    assert [r.headers["Authorization"] for r in recorder.requests] == [
        "Bearer old-token",
        "Bearer fresh-token",
    ]
