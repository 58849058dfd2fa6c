"""Liveness and readiness, for load balancers, systemd and Kubernetes probes.

* `GET /healthz`: the process is up and its event loop answers (200 `{"status": "alive"}`).
* `GET /readyz`: every check passes (200), else 503; the body names each check with what was
  found, never a secret: the database reachable, its schema at this code's migration head, the
  contact center reachable, the start-up recovery of other processes' unfinished deliveries done.
* `GET /metrics`: Prometheus' text format (`bot/ops/metrics.py`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from bot.assistant import Assistant
    from storage import Store

CHECK_TIMEOUT = 3.0  # seconds one check may take before it counts as failed


@dataclass(frozen=True)
class Result:
    ok: bool
    detail: str


Check = Callable[[], Awaitable[Result]]


class Readiness:
    """Named checks, run at once at each probe."""

    def __init__(self, checks: Mapping[str, Check]) -> None:
        self.checks = dict(checks)

    async def run(self) -> tuple[bool, dict[str, dict[str, object]]]:
        names = list(self.checks)
        results = await asyncio.gather(*(self._one(self.checks[name]) for name in names))
        report = {name: {"ok": r.ok, "detail": r.detail} for name, r in zip(names, results, strict=True)}
        return all(r.ok for r in results), report

    @staticmethod
    async def _one(check: Check) -> Result:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                return await check()
        except TimeoutError:
            return Result(False, f"no answer within {CHECK_TIMEOUT:.0f} s")
        except Exception as error:  # a probe answers, whatever broke
            return Result(False, f"check failed ({type(error).__name__})")


def database_check(store: Store) -> Check:
    async def check() -> Result:
        from storage import StorageError
        from storage.operations import ping, schema_at_head

        def probe() -> Result:
            started = time.perf_counter()
            try:
                ping(store)
                at_head, current, head = schema_at_head(store)
            except StorageError as error:
                return Result(False, f"unreachable ({error})")
            elapsed = (time.perf_counter() - started) * 1000
            if not at_head:
                return Result(False, f"schema at {current}, this version needs {head}")
            return Result(True, f"reachable in {elapsed:.0f} ms, schema at head {head}")

        return await asyncio.to_thread(probe)

    return check


def backend_check(backend: object) -> Check:
    """The contact center: the simulator in this process is always there; the real API (or a served
    simulator) counts as reachable when its base URL answers HTTP at all."""
    config = getattr(backend, "config", None)
    api_url = getattr(config, "api_url", None)

    async def check() -> Result:
        if not isinstance(api_url, str):
            return Result(True, "the simulator, in this process")
        import httpx

        try:
            async with httpx.AsyncClient(timeout=CHECK_TIMEOUT - 0.5) as client:
                answer = await client.get(api_url)
        except httpx.HTTPError as error:
            return Result(False, f"{api_url} unreachable ({type(error).__name__})")
        return Result(True, f"{api_url} answered HTTP {answer.status_code}")

    return check


def assistant_checks(assistant: Assistant) -> dict[str, Check]:
    """The checks every chat server shares: its database and its contact center."""
    return {"database": database_check(assistant.store), "backend": backend_check(assistant.backend)}


def flag_check(ready: Callable[[], bool], *, done: str, waiting: str) -> Check:
    async def check() -> Result:
        return Result(True, done) if ready() else Result(False, waiting)

    return check


def routes(
    readiness: Callable[[], Readiness | None],
    *,
    metrics: Callable[[], tuple[bytes, str]] | None = None,
) -> list[Route]:
    """`/healthz`, `/readyz` and (when `metrics` is given) `/metrics`. `readiness` is read at each
    probe: None while the process is still starting."""

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(request: Request) -> Response:
        current = readiness()
        if current is None:
            return JSONResponse({"status": "starting", "checks": {}}, status_code=503)
        ok, report = await current.run()
        return JSONResponse(
            {"status": "ready" if ok else "not ready", "checks": report}, status_code=200 if ok else 503
        )

    found = [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
    ]
    if metrics is not None:

        async def metrics_endpoint(request: Request) -> Response:
            body, content_type = await asyncio.to_thread(metrics)
            return Response(body, media_type=content_type)

        found.append(Route("/metrics", metrics_endpoint, methods=["GET"]))
    return found
