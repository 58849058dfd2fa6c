"""`RestClient`: one HTTP exchange with the contact center, with the retries that are safe.

Why these rules:

* Every request carries `TrackingId: LOGINBOT-<uuid4>` so that an administrator can find it in
  Cisco's logs; the service's own `TrackingID` response header is kept, because that is the id it
  knows the call by.
* Reads (and other idempotent calls: reload, subscribe) are retried with exponential backoff on a
  5xx or a network error. Runtime writes (login, state, logout) are never retried on those: the
  service may have acted already, and only a `reload` can tell (the adapter does that).
* 429 means the service did *not* act, so any call waits `Retry-After` (bounded) and tries again.
* 401 means the token expired or was revoked: the token source refreshes once and the call is
  repeated once; the service did not act on a 401.
* Logs name the method, path, status and tracking id; never a header, a token or a body.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from bot.backend.wxcc.config import WxccConfig
from bot.log import set_tracking_id
from bot.ops.metrics import record_backend_call

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


def new_tracking_id() -> str:
    return f"LOGINBOT-{uuid.uuid4()}"


class TokenSource(Protocol):
    """Gives the bearer token of the user a call acts for; refreshes it when asked."""

    async def __call__(self, *, force_refresh: bool = False) -> str: ...


class ApiError(Exception):
    """The service answered with an error status."""

    def __init__(self, status: int, tracking_id: str, body: object = None) -> None:
        super().__init__(f"HTTP {status} (tracking id {tracking_id})")
        self.status = status
        self.tracking_id = tracking_id
        self.body = body


class NetworkError(Exception):
    """No answer. `maybe_sent` is False only when the connection was never made."""

    def __init__(self, tracking_id: str, *, maybe_sent: bool, detail: str) -> None:
        super().__init__(f"network error ({detail}), tracking id {tracking_id}")
        self.tracking_id = tracking_id
        self.maybe_sent = maybe_sent


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any
    tracking_id: str  # the service's `TrackingID` header, else the one sent


def _retryable_read(error: BaseException) -> bool:
    return isinstance(error, NetworkError) or (isinstance(error, ApiError) and error.status >= 500)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class RestClient:
    """Calls on an injected `httpx.AsyncClient`; knows nothing of the port's types."""

    def __init__(self, http: httpx.AsyncClient, config: WxccConfig, *, sleep: Sleep = asyncio.sleep) -> None:
        self._http = http
        self._config = config
        self._sleep = sleep
        self._slots = asyncio.Semaphore(max(1, config.max_connections))

    @property
    def http(self) -> httpx.AsyncClient:
        return self._http

    async def call(
        self,
        method: str,
        url: str,
        *,
        token: TokenSource,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool = False,
        tracking_id: str | None = None,
    ) -> ApiResponse:
        """One logical call; `idempotent` allows retries on 5xx and network errors."""
        tid = tracking_id or new_tracking_id()
        if not idempotent:
            return await self._authorized(method, url, token, json, params, tid)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(max(1, self._config.read_attempts)),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            retry=retry_if_exception(_retryable_read),
            sleep=self._sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    log.info("retrying %s %s (attempt %d)", method, url, attempt.retry_state.attempt_number)
                return await self._authorized(method, url, token, json, params, tid)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _authorized(
        self,
        method: str,
        url: str,
        token: TokenSource,
        json: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        tid: str,
    ) -> ApiResponse:
        try:
            return await self._rate_limited(method, url, await token(), json, params, tid)
        except ApiError as error:
            if error.status != 401:
                raise
            log.info("%s %s: 401, refreshing the token once (tracking id %s)", method, url, error.tracking_id)
        return await self._rate_limited(method, url, await token(force_refresh=True), json, params, tid)

    async def _rate_limited(
        self,
        method: str,
        url: str,
        bearer: str,
        json: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        tid: str,
    ) -> ApiResponse:
        waited = 0.0
        while True:
            response = await self._send(method, url, bearer, json, params, tid)
            if response.status_code != 429:
                return self._result(method, url, response, tid)
            delay = _retry_after(response)
            budget = self._config.max_retry_after_seconds - waited
            if delay is None or delay > budget:
                return self._result(method, url, response, tid)  # raises RATE_LIMITED
            log.info("%s %s: 429, waiting %.1f s as Retry-After asks", method, url, delay)
            await self._sleep(delay)
            waited += max(delay, 0.05)

    async def _send(
        self,
        method: str,
        url: str,
        bearer: str,
        json: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        tid: str,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {bearer}", "TrackingId": tid, "Accept": "application/json"}
        started = time.monotonic()
        try:
            async with asyncio.timeout(self._config.queue_timeout_seconds):
                await self._slots.acquire()
        except TimeoutError:
            log.warning("%s %s: no connection free in time, tracking id %s", method, url, tid)
            raise NetworkError(tid, maybe_sent=False, detail="PoolTimeout") from None
        sent = time.monotonic()  # the call's own latency, after its wait for a free connection
        try:
            response = await self._http.request(
                method,
                url,
                headers=headers,
                json=json,
                params=params,
                timeout=self._config.http_timeout_seconds,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            record_backend_call(method, url, type(error).__name__, time.monotonic() - sent)
            log.warning("%s %s: cannot connect (%s), tracking id %s", method, url, type(error).__name__, tid)
            raise NetworkError(tid, maybe_sent=False, detail=type(error).__name__) from None
        except httpx.HTTPError as error:
            record_backend_call(method, url, type(error).__name__, time.monotonic() - sent)
            log.warning("%s %s: no answer (%s), tracking id %s", method, url, type(error).__name__, tid)
            raise NetworkError(tid, maybe_sent=True, detail=type(error).__name__) from None
        finally:
            self._slots.release()
        record_backend_call(method, url, response.status_code, time.monotonic() - sent)
        set_tracking_id(response.headers.get("TrackingID") or tid)
        log.debug(
            "%s %s -> %d in %.0f ms, tracking id %s",
            method,
            url,
            response.status_code,
            (time.monotonic() - started) * 1000,
            response.headers.get("TrackingID") or tid,
        )
        return response

    @staticmethod
    def _result(method: str, url: str, response: httpx.Response, tid: str) -> ApiResponse:
        tracking_id = response.headers.get("TrackingID") or tid
        try:
            body: Any = response.json() if response.content else None
        except ValueError:
            body = None
        if response.status_code >= 400:
            log.warning("%s %s -> HTTP %d, tracking id %s", method, url, response.status_code, tracking_id)
            raise ApiError(response.status_code, tracking_id, body)
        return ApiResponse(response.status_code, body, tracking_id)
