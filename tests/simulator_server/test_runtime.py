"""Runtime calls over real sockets: subscribe, Welcome, keepalive, results matched by TrackingId,
take-over, request validation and authorization."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from bot.backend.port import Availability, CallPreference
from bot.backend.simulator import SimulatorCore
from bot.backend.simulator.server import SimulatorServer
from tests.simulator_server.conftest import StartServer
from tests.simulator_server.support import (
    ALEX,
    AVA,
    BUSY,
    BUSY_NUMBER,
    DANA,
    ROOT,
    SAM,
    Agent,
    bearer,
    login_body,
    tokens_for,
    validate_notification,
    validate_request,
    validate_response,
    validate_schema,
)


def run_with(
    server: SimulatorServer, email: str, scenario: Callable[[Agent], Awaitable[None]], **scope: Any
) -> None:
    """Run `scenario` with a connected agent on a fresh event loop, closing everything after."""
    token = str(tokens_for(server.base_url, email, **scope)["access_token"])

    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            agent = Agent(server.base_url, token, http)
            try:
                await scenario(agent)
            finally:
                await agent.close()

    asyncio.run(main())


# -- subscription and socket --------------------------------------------------------------------------


def test_subscribe_and_welcome(server: SimulatorServer) -> None:
    async def scenario(agent: Agent) -> None:
        subscription = await agent.connect(clientType="AgentDesktop")
        validate_response("POST /v1/notification/subscribe 200", subscription)
        assert subscription["webSocketUrl"].startswith(f"ws://127.0.0.1:{server.port}/v1/notification/")
        assert subscription["subscriptionId"].startswith("AgentDesktop-")
        assert agent.welcome == {"type": "Welcome", "data": {"agentId": "ci-ava-lead"}}

    run_with(server, AVA, scenario)


def test_a_websocket_url_works_once(server: SimulatorServer) -> None:
    async def scenario(agent: Agent) -> None:
        subscription = await agent.connect()
        with pytest.raises(Exception, match="403"):
            from websockets.asyncio.client import connect

            await connect(subscription["webSocketUrl"], open_timeout=5)

    run_with(server, AVA, scenario)


def test_silence_drops_a_keepalive_socket_and_keepalives_keep_it(start_server: StartServer) -> None:
    server = start_server(keepalive_timeout_seconds=0.5)

    async def scenario(agent: Agent) -> None:
        await agent.connect(isKeepAliveEnabled=True)
        assert await agent.closed(timeout=10), "a silent client is dropped"
        await agent.connect(isKeepAliveEnabled=True)
        assert agent.socket is not None
        for _ in range(15):  # 1.5 s of keepalives every 0.1 s: three times the timeout
            await agent.socket.send(json.dumps({"keepalive": "true"}))
            await asyncio.sleep(0.1)
        tid = "TEST-still-open"
        await agent.call("POST", "/v1/agents/reload", tracking_id=tid)
        assert (await agent.result(tid))["data"]["type"] == "AgentReloginFailed"

    run_with(server, AVA, scenario)


def test_without_keepalive_enabled_silence_is_fine(start_server: StartServer) -> None:
    server = start_server(keepalive_timeout_seconds=0.2)

    async def scenario(agent: Agent) -> None:
        await agent.connect(isKeepAliveEnabled=False)
        await asyncio.sleep(0.6)
        tid = "TEST-no-keepalive"
        await agent.call("POST", "/v1/agents/reload", tracking_id=tid)
        assert (await agent.result(tid))["data"]["reason"] == "AGENT_NOT_FOUND"

    run_with(server, AVA, scenario)


# -- login ------------------------------------------------------------------------------------------


def test_login_success_is_notified_with_the_tracking_id(server: SimulatorServer, core: SimulatorCore) -> None:
    async def scenario(agent: Agent) -> None:
        await agent.connect()
        tid = "LOGINBOT-3f1c1f5e-7d1b-4d0f-9a57-2b7c6f7d1e01"
        answer = await agent.call(
            "POST",
            "/v1/agents/login",
            login_body("+14155550101", "t-vip", roles=("supervisor", "agent")),
            tracking_id=tid,
        )
        assert answer.status_code == 202 and answer.headers["TrackingID"] == tid
        message = await agent.result(tid)
        assert message["type"] == "StationLogin" and message["orgId"] == "demo-org"
        data = message["data"]
        assert data["type"] == "AgentStationLoginSuccess" and data["trackingId"] == tid
        assert data["agentId"] == "ci-ava-lead" and data["teamId"] == "t-vip"
        assert data["dialNumber"] == data["deviceId"] == "+14155550101" and data["deviceType"] == "AGENT_DN"
        assert data["subStatus"] == "Idle" and data["auxCodeId"] == "aux-break"
        assert sorted(data["roles"]) == ["agent", "supervisor"] and data["siteId"] == "site-sf"
        assert "telephony" in data["channelsMap"]

    run_with(server, AVA, scenario)
    session = core.session(AVA)
    assert session is not None and session.dial_number == "+14155550101"
    assert session.tracking_id == "LOGINBOT-3f1c1f5e-7d1b-4d0f-9a57-2b7c6f7d1e01"


@pytest.mark.parametrize(
    ("email", "body", "reason"),
    [
        (AVA, login_body(BUSY_NUMBER, roles=("supervisor",)), "DUPLICATE_LOCATION"),
        (AVA, login_body("+1 555 0100", roles=("supervisor",)), "INVALID_DIAL_NUMBER"),
        (ALEX, login_body("2001", "", device="EXTENSION"), "TEAM_REQUIRED"),
        (ALEX, login_body("2001", "t-billing", device="EXTENSION"), "TEAM_NOT_ASSIGNED"),
        (SAM, login_body("+14155550110", "t-supervisors", roles=("agent",)), "ROLE_NOT_PERMITTED"),
    ],
)
def test_login_failures_are_notified_with_the_reason(
    server: SimulatorServer, core: SimulatorCore, email: str, body: dict[str, Any], reason: str
) -> None:
    async def scenario(agent: Agent) -> None:
        await agent.connect()
        tid = f"TEST-{reason}"
        assert (await agent.call("POST", "/v1/agents/login", body, tracking_id=tid)).status_code == 202
        message = await agent.result(tid)
        data = message["data"]
        assert message["type"] == "StationLogin" and data["type"] == "AgentStationLoginFailed"
        assert data["reason"] == reason and isinstance(data["reasonCode"], int)
        assert data["trackingId"] == tid and data["orgId"] == "demo-org" and data["agentId"]

    run_with(server, email, scenario)
    assert core.session(email) is None
    assert core.events(email)[-1].tracking_id == f"TEST-{reason}"


def test_digital_only_browser_login(server: SimulatorServer, core: SimulatorCore) -> None:
    async def scenario(agent: Agent) -> None:
        await agent.connect()
        body = login_body("webrtc-ci-dana-digital", "t-chat-email", device="BROWSER")
        await agent.call("POST", "/v1/agents/login", body, tracking_id="TEST-dana")
        data = (await agent.result("TEST-dana"))["data"]
        assert data["type"] == "AgentStationLoginSuccess"
        assert data["deviceType"] == "BROWSER" and data["deviceId"] == "webrtc-ci-dana-digital"
        assert "telephony" not in data["channelsMap"]

    run_with(server, DANA, scenario)
    session = core.session(DANA)
    assert session is not None and session.call_preference is None and session.dial_number == ""


def test_a_second_login_without_force_is_refused(server: SimulatorServer, core: SimulatorCore) -> None:
    async def scenario(agent: Agent) -> None:
        await agent.connect()
        await agent.call("POST", "/v1/agents/login", login_body("", device="BROWSER", roles=("supervisor",)))
        await agent.call(
            "POST",
            "/v1/agents/login",
            login_body("", device="BROWSER", roles=("supervisor",)),
            tracking_id="TEST-2",
        )
        assert (await agent.result("TEST-2"))["data"]["reason"] == "SESSION_ALREADY_ACTIVE"

    run_with(server, SAM, scenario)


# -- state, logout, reload ------------------------------------------------------------------------------


def test_state_changes(server: SimulatorServer, core: SimulatorCore) -> None:
    async def scenario(agent: Agent) -> None:
        await agent.connect()
        await agent.call(
            "POST", "/v1/agents/login", login_body("2001", "t-customer-care", device="EXTENSION")
        )
        available = {
            "state": "Available",
            "auxCodeId": "0",
            "lastStateChangeReason": "ready",
            "agentId": "ci-alex-agent",
        }
        await agent.call("PUT", "/v1/agents/session/state", available, tracking_id="TEST-available")
        message = await agent.result("TEST-available")
        assert message["type"] == "AgentStateChange"
        assert message["data"]["type"] == "AgentStateChangeSuccess"
        assert message["data"]["subStatus"] == "Available" and message["data"]["auxCodeId"] == "0"
        await agent.call(
            "PUT",
            "/v1/agents/session/state",
            {"state": "Idle", "auxCodeId": "aux-lunch"},
            tracking_id="TEST-idle",
        )
        data = (await agent.result("TEST-idle"))["data"]
        assert data["subStatus"] == "Idle" and data["auxCodeId"] == "aux-lunch"
        await agent.call(
            "PUT", "/v1/agents/session/state", {"state": "Idle", "auxCodeId": "nope"}, tracking_id="TEST-bad"
        )
        failed = (await agent.result("TEST-bad"))["data"]
        assert failed["type"] == "AgentStateChangeFailed" and failed["reason"] == "BAD_REQUEST"

    run_with(server, ALEX, scenario)
    session = core.session(ALEX)
    assert session is not None and session.state is Availability.IDLE and session.idle_code == "aux-lunch"


def test_logout_is_refused_during_an_interaction(server: SimulatorServer, core: SimulatorCore) -> None:
    async def scenario(agent: Agent) -> None:
        await agent.connect()
        await agent.call(
            "POST",
            "/v1/agents/login",
            login_body("2001", "t-customer-care", device="EXTENSION"),
            tracking_id="TEST-in",
        )
        await agent.result("TEST-in")
        core.start_interaction(ALEX)
        await agent.call("PUT", "/v1/agents/logout", {"logoutReason": "done"}, tracking_id="TEST-out-1")
        refused = await agent.result("TEST-out-1")
        assert refused["type"] == "Logout" and refused["data"]["type"] == "AgentLogoutFailed"
        assert refused["data"]["reason"] == "ACTIVE_INTERACTION"
        core.end_interaction(ALEX)
        await agent.call(
            "PUT",
            "/v1/agents/logout",
            {"logoutReason": "done", "agentId": "ci-alex-agent"},
            tracking_id="TEST-out-2",
        )
        done = (await agent.result("TEST-out-2"))["data"]
        assert done["type"] == "AgentLogoutSuccess" and done["status"] == "LoggedOut"
        await agent.call("PUT", "/v1/agents/logout", {"logoutReason": "again"}, tracking_id="TEST-out-3")
        assert (await agent.result("TEST-out-3"))["data"]["reason"] == "NOT_LOGGED_IN"

    run_with(server, ALEX, scenario)
    assert core.session(ALEX) is None


def test_an_administrator_may_sign_out_another_agent(server: SimulatorServer, core: SimulatorCore) -> None:
    core.end_interaction(BUSY)

    async def scenario(agent: Agent) -> None:
        await agent.connect()
        await agent.call(
            "PUT",
            "/v1/agents/logout",
            {"logoutReason": "admin", "agentId": "ci-busy-agent"},
            tracking_id="TEST-admin",
        )
        data = (await agent.result("TEST-admin"))["data"]
        assert (
            data["type"] == "AgentLogoutSuccess"
            and data["agentId"] == "ci-busy-agent"
            and data["loggedOutBy"]
        )

    run_with(server, ROOT, scenario)
    assert core.session(BUSY) is None


def test_reload_with_and_without_a_session(server: SimulatorServer) -> None:
    async def busy(agent: Agent) -> None:
        await agent.connect()
        await agent.call("POST", "/v1/agents/reload", tracking_id="TEST-reload-busy")
        message = await agent.result("TEST-reload-busy")
        data = message["data"]
        assert data["type"] == "AgentReloginSuccess" and data["agentId"] == "ci-busy-agent"
        assert data["dialNumber"] == BUSY_NUMBER and data["subStatus"] == "Available"
        assert data["interactionIds"], "busy.agent is talking to a customer"

    async def ava(agent: Agent) -> None:
        await agent.connect()
        await agent.call("POST", "/v1/agents/reload", tracking_id="TEST-reload-ava")
        data = (await agent.result("TEST-reload-ava"))["data"]
        assert data["type"] == "AgentReloginFailed" and data["reason"] == "AGENT_NOT_FOUND"

    run_with(server, BUSY, busy)
    run_with(server, AVA, ava)


# -- take-over (S12) -----------------------------------------------------------------------------------


def test_a_forced_subscription_takes_the_session_over(server: SimulatorServer, core: SimulatorCore) -> None:
    token = str(tokens_for(server.base_url, AVA)["access_token"])

    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            here, there = Agent(server.base_url, token, http), Agent(server.base_url, token, http)
            try:
                await there.connect()
                body = login_body("1001", "t-vip", roles=("supervisor", "agent"), device="EXTENSION")
                await there.call("POST", "/v1/agents/login", body, tracking_id="TEST-first")
                await there.result("TEST-first")
                await here.connect(force=True)
                message = await there.receive()
                assert message["type"] == "AGENT_MULTI_LOGIN"
                assert message["data"]["type"] == "AgentMultiLoginCloseSession"
                assert message["data"]["agentId"] == "ci-ava-lead"
                assert await there.closed()
                await here.call("POST", "/v1/agents/login", body, tracking_id="TEST-here")
                data = (await here.result("TEST-here"))["data"]
                assert data["type"] == "AgentStationLoginSuccess", (
                    "the login right after a forced subscription takes over"
                )
                await here.call("POST", "/v1/agents/login", body, tracking_id="TEST-again")
                assert (await here.result("TEST-again"))["data"]["reason"] == "SESSION_ALREADY_ACTIVE"
            finally:
                await here.close()
                await there.close()

    asyncio.run(main())
    kinds = [event.kind for event in core.events(AVA)]
    assert kinds.count("AGENT_MULTI_LOGIN") == 2 and "TakeOver" in kinds


def test_take_over_reaches_another_server_on_the_same_core(
    start_server: StartServer, core: SimulatorCore
) -> None:
    first, second = start_server(), start_server()
    first_token = str(tokens_for(first.base_url, AVA)["access_token"])
    second_token = str(tokens_for(second.base_url, AVA)["access_token"])

    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            there, here = Agent(first.base_url, first_token, http), Agent(second.base_url, second_token, http)
            try:
                await there.connect()
                await there.call(
                    "POST",
                    "/v1/agents/login",
                    login_body("", device="BROWSER", roles=("supervisor",)),
                    tracking_id="T1",
                )
                await there.result("T1")
                await here.connect(force=True)
                assert (await there.receive())["type"] == "AGENT_MULTI_LOGIN"
                assert await there.closed()
                await here.call("POST", "/v1/agents/reload", tracking_id="T2")
                assert (await here.result("T2"))["data"]["type"] == "AgentReloginSuccess"
            finally:
                await here.close()
                await there.close()

    asyncio.run(main())


def test_a_forced_subscription_without_session_still_closes_other_sockets(server: SimulatorServer) -> None:
    token = str(tokens_for(server.base_url, SAM)["access_token"])

    async def main() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            one, two = Agent(server.base_url, token, http), Agent(server.base_url, token, http)
            try:
                await one.connect()
                await two.connect(force=True)
                assert (await one.receive())["type"] == "AGENT_MULTI_LOGIN"
                assert await one.closed()
            finally:
                await one.close()
                await two.close()

    asyncio.run(main())


# -- validation and authorization ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/agents/login", b"{not json"),
        ("POST", "/v1/agents/login", {"teamId": "t-vip", "roles": ["agent"]}),
        ("POST", "/v1/agents/login", {"dialNumber": "+1" + "2" * 42, "roles": ["agent"]}),
        ("POST", "/v1/agents/login", {"dialNumber": "1001", "roles": ["agent"], "teamId": "t" * 37}),
        ("POST", "/v1/agents/login", {"dialNumber": "1001", "roles": "agent"}),
        ("POST", "/v1/agents/login", {"dialNumber": "1001", "roles": ["boss"], "deviceType": "AGENT_DN"}),
        ("POST", "/v1/agents/login", {"dialNumber": "1001", "roles": ["agent"], "deviceType": "PHONE"}),
        ("POST", "/v1/notification/subscribe", {"clientType": "c" * 21}),
        ("PUT", "/v1/agents/logout", {"logoutReason": "r" * 129}),
        ("PUT", "/v1/agents/logout", {}),
        ("PUT", "/v1/agents/session/state", {"state": "Available"}),
        ("PUT", "/v1/agents/session/state", {"state": "Busy", "auxCodeId": "0"}),
        ("PUT", "/v1/agents/session/state", [1, 2]),
    ],
)
def test_schema_violations_are_400_with_the_error_envelope(
    server: SimulatorServer, core: SimulatorCore, method: str, path: str, body: Any
) -> None:
    token = str(tokens_for(server.base_url, AVA)["access_token"])
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer = httpx.request(
        method,
        f"{server.base_url}{path}",
        content=content,
        headers={**bearer(token, "TEST-400"), "Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    assert answer.headers["TrackingID"] == "TEST-400"
    validate_schema("ApiErrorResponse", answer.json())
    assert answer.json()["trackingId"] == "TEST-400" and answer.json()["error"]["key"] == "400"
    assert core.events(AVA) == [], "a refused request reaches no rule"


def test_missing_invalid_and_insufficient_tokens(server: SimulatorServer) -> None:
    url = f"{server.base_url}/v1/agents/login"
    body = login_body("+14155550101", roles=("supervisor",))
    missing = httpx.post(url, json=body)
    assert missing.status_code == 401 and missing.headers["TrackingID"].startswith("LOGINBOT-")
    validate_schema("ApiErrorResponse", missing.json())
    assert httpx.post(url, json=body, headers=bearer("forged")).status_code == 401
    config_only = str(tokens_for(server.base_url, AVA, scope="cjp:config_read")["access_token"])
    forbidden = httpx.post(url, json=body, headers=bearer(config_only))
    assert forbidden.status_code == 403
    validate_schema("ApiErrorResponse", forbidden.json())
    subscribe = httpx.post(
        f"{server.base_url}/v1/notification/subscribe", json={}, headers=bearer(config_only)
    )
    assert subscribe.status_code == 403


def test_unknown_paths_and_methods_answer_the_envelope(server: SimulatorServer) -> None:
    missing = httpx.get(f"{server.base_url}/v1/agents/nothing", headers={"TrackingId": "TEST-404"})
    assert missing.status_code == 404 and missing.headers["TrackingID"] == "TEST-404"
    validate_schema("ApiErrorResponse", missing.json())
    wrong_method = httpx.get(f"{server.base_url}/v1/agents/login")
    assert wrong_method.status_code == 405


def test_the_request_log_keeps_bodies_but_not_tokens(server: SimulatorServer) -> None:
    async def scenario(agent: Agent) -> None:
        await agent.connect(isKeepAliveEnabled=True, clientType="loginbot")
        await agent.call(
            "POST",
            "/v1/agents/login",
            login_body("+14155550101", roles=("supervisor",)),
            tracking_id="TEST-log",
        )
        await agent.result("TEST-log")
        await agent.call(
            "PUT",
            "/v1/agents/session/state",
            {"state": "Available", "auxCodeId": "0", "agentId": "ci-ava-lead"},
        )
        await agent.call("PUT", "/v1/agents/logout", {"logoutReason": "bye"})

    run_with(server, AVA, scenario)
    recorded = server.requests
    assert all("authorization" not in r.headers for r in recorded)
    checked = [validate_request(r.method, r.path, r.body) for r in recorded if r.body is not None]
    assert sum(checked) == 4, "subscribe, login, state and logout bodies match Cisco's schemas"
    login = next(r for r in recorded if r.path == "/v1/agents/login")
    assert login.tracking_id == "TEST-log" and login.body["dialNumber"] == "+14155550101"


def test_every_notification_matches_the_documented_shapes(server: SimulatorServer) -> None:
    seen: list[dict[str, Any]] = []

    async def scenario(agent: Agent) -> None:
        await agent.connect()
        assert agent.welcome is not None
        seen.append(agent.welcome)
        calls = [
            ("POST", "/v1/agents/reload", None),
            (
                "POST",
                "/v1/agents/login",
                login_body("1002", "t-vip", roles=("supervisor", "agent"), device="EXTENSION"),
            ),
            ("PUT", "/v1/agents/session/state", {"state": "Available", "auxCodeId": "0"}),
            ("POST", "/v1/agents/reload", None),
            ("PUT", "/v1/agents/logout", {"logoutReason": "bye"}),
            ("PUT", "/v1/agents/logout", {"logoutReason": "bye"}),
        ]
        for index, (method, path, body) in enumerate(calls):
            await agent.call(method, path, body, tracking_id=f"TEST-{index}")
            seen.append(await agent.result(f"TEST-{index}"))

    run_with(server, AVA, scenario)
    for message in seen:
        validate_notification(message)
    assert [m["data"].get("type") for m in seen[1:]] == [
        "AgentReloginFailed",
        "AgentStationLoginSuccess",
        "AgentStateChangeSuccess",
        "AgentReloginSuccess",
        "AgentLogoutSuccess",
        "AgentLogoutFailed",
    ]
    assert CallPreference.EXTENSION.device_type == seen[4]["data"]["deviceType"]
