"""Fault injection: latency, 429 with Retry-After, seeded 5xx, dropped/silent sockets, lost results,
and the admin faults endpoint."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from bot.backend.simulator import SimulatorCore
from bot.backend.simulator.faults import Faults
from bot.backend.simulator.server import SimulatorServer, build_app
from tests.simulator_server.conftest import StartServer
from tests.simulator_server.support import (
    AVA,
    ORG,
    SAM,
    Agent,
    bearer,
    login_body,
    tokens_for,
    validate_schema,
)


def teams(server: SimulatorServer, token: str) -> httpx.Response:
    return httpx.get(f"{server.base_url}/organization/{ORG}/v2/team", headers=bearer(token))


def test_latency_is_added_to_api_answers(start_server: StartServer) -> None:
    server = start_server(faults=Faults(latency_ms=250))
    token = str(tokens_for(server.base_url, AVA)["access_token"])
    started = time.monotonic()
    answer = teams(server, token)
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.25


def test_rate_limiting_answers_429_with_retry_after(start_server: StartServer) -> None:
    server = start_server(faults=Faults(rate_limit_rate=1.0, retry_after_seconds=7))
    token = str(tokens_for(server.base_url, AVA)["access_token"])  # OAuth is spared by default
    answer = teams(server, token)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"
    assert answer.headers["TrackingID"]
    validate_schema("ApiErrorResponse", answer.json())
    assert httpx.get(f"{server.base_url}/admin/faults").status_code == 200, "admin is never faulted"


def test_seeded_errors_strike_a_share_of_requests_repeatably(start_server: StartServer) -> None:
    def statuses(server: SimulatorServer) -> list[int]:
        token = str(tokens_for(server.base_url, AVA)["access_token"])
        with httpx.Client(headers=bearer(token)) as http:
            return [
                http.get(f"{server.base_url}/organization/{ORG}/v2/dial-plan").status_code for _ in range(120)
            ]

    first = statuses(start_server(faults=Faults(error_rate=0.3, seed=42)))
    second = statuses(start_server(faults=Faults(error_rate=0.3, seed=42)))
    assert first == second, "the same seed gives the same faults"
    failures = [s for s in first if s != 200]
    assert set(failures) <= {500, 503} and {500, 503} & set(failures)
    assert 15 <= len(failures) <= 60, f"about 30% of 120 requests fail, got {len(failures)}"


def test_oauth_is_faulted_only_when_asked(start_server: StartServer) -> None:
    server = start_server(faults=Faults(error_rate=1.0, apply_to_oauth=True))
    answer = httpx.post(f"{server.base_url}/v1/access_token", data={"grant_type": "refresh_token"})
    assert answer.status_code in (500, 503)


def _with_agent(server: SimulatorServer, email: str, scenario: object) -> None:
    token = str(tokens_for(server.base_url, email)["access_token"])

    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            agent = Agent(server.base_url, token, http)
            try:
                await scenario(agent)  # type: ignore[operator]
            finally:
                await agent.close()

    asyncio.run(main())


def test_a_socket_dropped_at_once_after_welcome(start_server: StartServer) -> None:
    server = start_server(faults=Faults(drop_websocket_after=0))

    async def scenario(agent: Agent) -> None:
        await agent.connect()
        assert agent.welcome is not None and agent.welcome["type"] == "Welcome"
        assert await agent.closed()

    _with_agent(server, AVA, scenario)


def test_a_socket_dropped_after_n_messages(start_server: StartServer, core: SimulatorCore) -> None:
    server = start_server(faults=Faults(drop_websocket_after=1))

    async def scenario(agent: Agent) -> None:
        await agent.connect()
        await agent.call("POST", "/v1/agents/reload", tracking_id="TEST-1")
        assert (await agent.result("TEST-1"))["data"]["type"] == "AgentReloginFailed"
        assert await agent.closed()

    _with_agent(server, AVA, scenario)


def test_a_silent_socket_welcomes_then_says_nothing(start_server: StartServer, core: SimulatorCore) -> None:
    server = start_server(faults=Faults(silent_websocket=True))

    async def scenario(agent: Agent) -> None:
        await agent.connect()
        assert agent.welcome is not None
        answer = await agent.call(
            "POST", "/v1/agents/login", login_body("", device="BROWSER", roles=("supervisor",))
        )
        assert answer.status_code == 202
        assert await agent.nothing_within(1.0)

    _with_agent(server, SAM, scenario)
    assert core.session(SAM) is not None, "the login happened; only its notification was muted"


def test_lost_results(start_server: StartServer, core: SimulatorCore) -> None:
    server = start_server(faults=Faults(lose_result_rate=1.0))

    async def scenario(agent: Agent) -> None:
        await agent.connect()
        await agent.call("POST", "/v1/agents/login", login_body("", device="BROWSER", roles=("supervisor",)))
        assert await agent.nothing_within(1.0)
        server.faults = Faults()
        await agent.call("POST", "/v1/agents/reload", tracking_id="TEST-reload")
        assert (await agent.result("TEST-reload"))["data"]["type"] == "AgentReloginSuccess"

    _with_agent(server, SAM, scenario)


def test_admin_faults_endpoint(server: SimulatorServer) -> None:
    url = f"{server.base_url}/admin/faults"
    assert httpx.get(url).json() == Faults().model_dump(mode="json")
    updated = httpx.put(url, json={"rate_limit_rate": 1.0, "retry_after_seconds": 3, "seed": 1})
    assert updated.status_code == 200 and updated.json()["rate_limit_rate"] == 1.0
    token = str(tokens_for(server.base_url, AVA)["access_token"])
    assert teams(server, token).status_code == 429
    patched = httpx.patch(url, json={"rate_limit_rate": 0.0})
    assert patched.json()["retry_after_seconds"] == 3 and patched.json()["rate_limit_rate"] == 0.0
    assert teams(server, token).status_code == 200
    assert httpx.put(url, json={"error_rate": 2}).status_code == 400
    assert httpx.put(url, json={"unknown_fault": True}).status_code == 400
    assert httpx.put(url, content=b"nope").status_code == 400
    assert httpx.put(url, json={}).json() == Faults().model_dump(mode="json"), "PUT replaces everything"


def test_admin_token_when_configured(start_server: StartServer) -> None:
    server = start_server(admin_token="s3cret")
    url = f"{server.base_url}/admin/faults"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"X-Admin-Token": "wrong"}).status_code == 401
    assert httpx.get(url, headers={"X-Admin-Token": "s3cret"}).status_code == 200


@pytest.mark.parametrize("path", ["/admin/faults"])
def test_admin_refuses_non_loopback_clients(core: SimulatorCore, path: str) -> None:
    """The one check that needs a foreign client address: ASGI transport, no socket involved."""
    app = build_app(core)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))

    async def ask() -> int:
        async with httpx.AsyncClient(transport=transport, base_url="http://simulator") as http:
            return (await http.get(path)).status_code

    try:
        assert asyncio.run(ask()) == 403
    finally:
        app.state.simulator.shutdown()
