"""What the 1,000-user benchmark (bench/storm.py) made the adapter do: bound the requests in flight,
keep decrypted tokens, and read organization-wide configuration once for everyone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.backend.port import AuthorizationRequired
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorCore, load_tenant
from bot.backend.wxcc.rest import NetworkError, RestClient
from bot.secrets import Cipher
from storage import Store
from tests.wxcc.simulated import simulated_backend
from tests.wxcc.support import SECRET, config, oauth, store

EMAIL = "ava.lead@example.com"


async def _token(*, force_refresh: bool = False) -> str:
    return "a-token"


def test_requests_in_flight_never_exceed_the_pool() -> None:
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.005)
        in_flight -= 1
        return httpx.Response(200, json={})

    async def burst() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            rest = RestClient(http, config(max_connections=3))
            calls = [rest.call("GET", "http://wxcc.test/x", token=_token, idempotent=True) for _ in range(30)]
            await asyncio.gather(*calls)

    asyncio.run(burst())
    assert peak == 3


def test_a_request_that_waits_too_long_for_a_connection_was_never_sent() -> None:
    sent: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        await asyncio.sleep(0.5)
        return httpx.Response(200, json={})

    async def two() -> list[Any]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            rest = RestClient(http, config(max_connections=1, queue_timeout_seconds=0.05))
            first = rest.call("POST", "http://wxcc.test/first", token=_token)
            second = rest.call("POST", "http://wxcc.test/second", token=_token)
            return list(await asyncio.gather(first, second, return_exceptions=True))

    first, second = asyncio.run(two())
    assert not isinstance(first, BaseException)
    assert isinstance(second, NetworkError) and second.maybe_sent is False
    assert sent == ["/first"]


class CountingStore:
    """The `Store`, counting token reads."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.reads = 0

    def load_tokens(self, *, email: str) -> Any:
        self.reads += 1
        return self.inner.load_tokens(email=email)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_tokens_are_read_once_and_forgotten_with_the_store(tmp_path: Path) -> None:
    db = CountingStore(store(tmp_path))
    cipher = Cipher(SECRET)
    db.inner.save_tokens(
        email=EMAIL,
        access_token_encrypted=cipher.encrypt("access-1"),
        refresh_token_encrypted=cipher.encrypt("refresh-1"),
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    auth = oauth(config(), db)  # type: ignore[arg-type]

    async def run() -> None:
        async with httpx.AsyncClient() as http:
            assert [await auth.access_token(EMAIL, http) for _ in range(5)] == ["access-1"] * 5
            assert db.reads == 1
            auth.forget(EMAIL)
            with pytest.raises(AuthorizationRequired):
                await auth.access_token(EMAIL, http)

    asyncio.run(run())


def test_organization_configuration_is_read_once_for_users_signing_in_together(tmp_path: Path) -> None:
    core = SimulatorCore(load_tenant(DEMO_TENANT_FILE))
    users = ["ava.lead@example.com", "sam.supervisor@example.com", "alex.agent@example.com"]
    with simulated_backend(core, tmp_path, emails=users) as (backend, server):
        before = len(server.requests)

        async def together() -> list[Any]:
            return await asyncio.gather(*(backend.get_profile(email) for email in users))

        profiles = asyncio.run(together())
        paths = [r.path for r in server.requests[before:]]
    assert [p.email for p in profiles] == users
    assert all(p.dial_plans for p in profiles) and all(p.idle_codes for p in profiles)
    assert sum(path.endswith("/v2/dial-plan") for path in paths) == 1
    assert sum(path.endswith("/v2/auxiliary-code") for path in paths) == 1
    assert sum(path.endswith("/v2/team") for path in paths) == len(users)  # each user's own teams


def test_the_requests_in_flight_are_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pydantic import ValidationError

    from bot.backend.wxcc.adapter import WxccBackend
    from bot.settings import Settings

    monkeypatch.chdir(tmp_path)  # no .env file of the developer's
    required = {
        "LOGINBOT_SECRET_KEY": SECRET,
        "WXCC_ORG_ID": "demo-org",
        "WXCC_CLIENT_ID": "loginbot-test",
        "WXCC_CLIENT_SECRET": "not-a-real-secret",
    }
    for name, value in required.items():
        monkeypatch.setenv(name, value)
    tokens = store(tmp_path)
    assert WxccBackend.from_settings(Settings(), store=tokens).config.max_connections == 16
    monkeypatch.setenv("WXCC_MAX_CONNECTIONS", "48")
    assert WxccBackend.from_settings(Settings(), store=tokens).config.max_connections == 48
    for wrong in ("0", "many", "100000"):
        monkeypatch.setenv("WXCC_MAX_CONNECTIONS", wrong)
        with pytest.raises(ValidationError):
            Settings()
