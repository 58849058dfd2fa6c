"""The adapter wired to the simulator served over HTTP on loopback, for tests/wxcc and the contract suite.

`simulated_backend(core)` starts `SimulatorServer(core)`, authorizes every demo user through the
real OAuth flow (authorize -> the simulator's redirect -> our callback route -> tokens stored
encrypted) and returns a `WxccBackend` that runs on one background event loop, because the contract
suite runs each call in its own `asyncio.run` while the adapter's sockets belong to one loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from bot.backend.port import (
    Availability,
    LoginRequest,
    NotificationListener,
    Outcome,
    StationSession,
    UserProfile,
)
from bot.backend.simulator import SimulatorCore
from bot.backend.simulator.faults import Faults
from bot.backend.wxcc import WxccBackend, WxccConfig
from bot.backend.wxcc.callback import build_callback_app
from bot.backend.wxcc.oauth import OAuth
from tests.wxcc.support import config, oauth, store

T = TypeVar("T")


def wxcc_config(base_url: str, **overrides: object) -> WxccConfig:
    return config(api_url=base_url, oauth_url=f"{base_url}/v1", **overrides)


async def authorize(auth: OAuth, email: str) -> None:
    """The browser's part: open the authorize URL, follow the redirect to our callback route."""
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(auth.authorize_url(email), follow_redirects=False)
        assert answer.status_code in (302, 303), answer.text
        location = urlsplit(answer.headers["location"])
    app = build_callback_app(auth)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8765"
    ) as cb:
        done = await cb.get(f"{location.path}?{location.query}")
        assert done.status_code == 200, done.text


class LoopThread:
    """One event loop on a daemon thread; `run(coro)` executes there and waits for the result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="wxcc-test-loop")
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


class OnOneLoop:
    """A `ContactCenter` that forwards each call to a `WxccBackend` living on a `LoopThread`."""

    def __init__(self, backend: WxccBackend, loop: LoopThread) -> None:
        self.inner = backend
        self._loop = loop

    async def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop.loop)
        return await asyncio.wrap_future(future)

    async def get_profile(self, email: str) -> UserProfile:
        return await self._call(self.inner.get_profile(email))

    async def get_session(self, user: UserProfile) -> StationSession | None:
        return await self._call(self.inner.get_session(user))

    async def station_login(
        self, user: UserProfile, request: LoginRequest, *, take_over: bool = False
    ) -> Outcome:
        return await self._call(self.inner.station_login(user, request, take_over=take_over))

    async def take_over(self, user: UserProfile) -> Outcome:
        return await self._call(self.inner.take_over(user))

    async def set_state(
        self, user: UserProfile, state: Availability, idle_code_id: str | None = None
    ) -> Outcome:
        return await self._call(self.inner.set_state(user, state, idle_code_id))

    async def logout(self, user: UserProfile, reason: str = "Signed out from loginbot") -> Outcome:
        return await self._call(self.inner.logout(user, reason))

    async def people_named(self, requester: str, prefix: str) -> list[tuple[str, str]]:
        return await self._call(self.inner.people_named(requester, prefix))

    def add_listener(self, listener: NotificationListener) -> None:
        self.inner.add_listener(listener)

    async def aclose(self) -> None:
        await self._call(self.inner.aclose())


@contextlib.contextmanager
def simulated_backend(
    core: SimulatorCore,
    tmp_path: Path,
    *,
    faults: Faults | None = None,
    emails: list[str] | None = None,
    http: httpx.AsyncClient | None = None,
    **overrides: object,
) -> Iterator[tuple[OnOneLoop, Any]]:
    """(backend on one loop, the server) for a fresh core; every demo user pre-authorized."""
    from bot.backend.simulator.server import SimulatorServer

    with SimulatorServer(core, faults=faults) as server:
        cfg = wxcc_config(str(server.base_url).rstrip("/"), **overrides)
        auth = oauth(cfg, store(tmp_path))
        loop = LoopThread()
        try:
            users = emails if emails is not None else [u.email for u in core.tenant.users]
            for email in users:
                loop.run(authorize(auth, email))
            backend = OnOneLoop(WxccBackend(cfg, tokens=auth, http=http), loop)
            try:
                yield backend, server
            finally:
                loop.run(backend.inner.aclose())
        finally:
            loop.stop()
