"""The tenant's API outage (T2) over HTTP, `loginbot simulator --outage`, and the admin request log."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.backend.simulator import SimulatorCore
from bot.backend.simulator.server import SimulatorServer
from tests.channels.processes import start_simulator
from tests.simulator_server.conftest import StartServer
from tests.simulator_server.support import (
    AVA,
    ORG,
    SAM,
    bearer,
    login_body,
    tokens_for,
    validate_schema,
)


def outage(server: SimulatorServer, on: bool | None = None, **headers: str) -> httpx.Response:
    url = f"{server.base_url}/admin/outage"
    if on is None:
        return httpx.get(url, headers=headers)
    return httpx.put(url, json={"outage": on}, headers=headers)


def team_listing(base_url: str, token: str) -> httpx.Response:
    return httpx.get(f"{base_url}/organization/{ORG}/v2/team", headers=bearer(token))


def test_an_outage_answers_every_api_call_503_until_switched_off(
    server: SimulatorServer, core: SimulatorCore
) -> None:
    token = str(tokens_for(server.base_url, AVA)["access_token"])
    assert outage(server).json() == {"outage": False}

    assert outage(server, True).json() == {"outage": True}
    assert core.outage, "the switch is the core's, shared by every front end"
    read = team_listing(server.base_url, token)
    assert read.status_code == 503 and read.headers["TrackingID"]
    validate_schema("ApiErrorResponse", read.json())
    login = httpx.post(
        f"{server.base_url}/v1/agents/login",
        json=login_body("", device="BROWSER", roles=("supervisor",)),
        headers=bearer(token, "TEST-during-outage"),
    )
    assert login.status_code == 503 and login.headers["TrackingID"] == "TEST-during-outage"
    assert [e for e in core.events(AVA) if e.kind == "StationLogin"] == [], "the core never saw it"
    subscribe = httpx.post(f"{server.base_url}/v1/notification/subscribe", json={}, headers=bearer(token))
    assert subscribe.status_code == 503

    # webexapis.com is another service: sign-in and people/me keep working during the outage.
    other = str(tokens_for(server.base_url, SAM)["access_token"])
    assert httpx.get(f"{server.base_url}/v1/people/me", headers=bearer(other)).status_code == 200

    assert outage(server, False).json() == {"outage": False}
    assert not core.outage
    assert team_listing(server.base_url, token).status_code == 200


def test_an_outage_switched_on_the_core_shows_over_http(server: SimulatorServer, core: SimulatorCore) -> None:
    core.set_outage(True)
    assert outage(server).json() == {"outage": True}
    token = str(tokens_for(server.base_url, AVA)["access_token"])
    assert team_listing(server.base_url, token).status_code == 503


@pytest.mark.parametrize(
    "body",
    [b'{"outage": "yes"}', b"{}", b'{"outage": true, "for": 60}', b"[true]", b"on"],
)
def test_the_outage_switch_refuses_anything_but_a_boolean(
    server: SimulatorServer, core: SimulatorCore, body: bytes
) -> None:
    answer = httpx.put(f"{server.base_url}/admin/outage", content=body)
    assert answer.status_code == 400, answer.text
    assert not core.outage


def test_the_outage_switch_is_an_admin_endpoint(start_server: StartServer, core: SimulatorCore) -> None:
    server = start_server(admin_token="s3cret")
    assert outage(server, True).status_code == 401
    assert not core.outage
    assert outage(server, True, **{"X-Admin-Token": "s3cret"}).json() == {"outage": True}


def test_the_request_log_over_http(server: SimulatorServer) -> None:
    token = str(tokens_for(server.base_url, AVA)["access_token"])
    team_listing(server.base_url, token)
    httpx.post(
        f"{server.base_url}/v1/agents/login",
        json=login_body("", device="BROWSER", roles=("supervisor",)),
        headers=bearer(token, "TEST-logged"),
    )
    url = f"{server.base_url}/admin/requests"
    everything = httpx.get(url).json()
    assert [(r["method"], r["path"]) for r in everything] == [
        ("GET", "/v1/authorize"),
        ("POST", "/v1/access_token"),
        ("GET", f"/organization/{ORG}/v2/team"),
        ("POST", "/v1/agents/login"),
    ], "oldest first, admin requests not logged"
    logins = httpx.get(url, params={"method": "post", "path": "/v1/agents/login"}).json()
    assert len(logins) == 1
    assert logins[0]["status"] == 202 and logins[0]["trackingId"] == "TEST-logged"
    assert logins[0]["body"]["roles"] == ["supervisor"]
    assert token not in httpx.get(url).text, "no Authorization header, no token"


def test_the_simulator_command_starts_with_an_outage(tmp_path: Path) -> None:
    """`loginbot simulator --outage` as a real process; `PUT /admin/outage` ends it."""
    process, base_url = start_simulator(tmp_path, "--outage")
    try:
        assert httpx.get(f"{base_url}/admin/outage").json() == {"outage": True}
        # The outage answers before the token is even looked at; afterwards, the missing token counts.
        assert team_listing(base_url, "no-token").status_code == 503
        httpx.put(f"{base_url}/admin/outage", json={"outage": False}).raise_for_status()
        assert team_listing(base_url, "no-token").status_code == 401
    finally:
        process.kill()


def test_the_simulator_command_logs_requests_unless_told_not_to(tmp_path: Path) -> None:
    """An access line per request by default; `--no-access-log` for load tests (the core's own event
    log, which the storm benchmark reads, stays)."""
    for options, logged in (((), True), (("--no-access-log",), False)):
        process, base_url = start_simulator(tmp_path, *options)
        try:
            assert team_listing(base_url, "no-token").status_code == 401
            httpx.get(f"{base_url}/admin/outage").raise_for_status()  # a barrier after that request
        finally:
            process.kill()
        assert ('"GET /organization/' in process.transcript()) is logged, process.transcript()
