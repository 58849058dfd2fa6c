"""`WxccBackend` end to end against the simulator served over HTTP on loopback (real sockets).

Faults are injected on the adapter's side of the wire (an httpx transport that answers 503 or 429
before the request leaves, a notification channel that loses or cuts a result), so the tests
depend only on the server speaking the real API; the simulator core is the tenant's ground truth
(its event log proves a login was sent once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from bot.backend.port import (
    AuthorizationRequired,
    Availability,
    BackendUnavailable,
    CallPreference,
    FailureReason,
    LoginFailed,
    LoginRequest,
    Notification,
    Role,
)
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorCore, load_tenant
from bot.backend.wxcc import notifications
from tests.wxcc import schema_check
from tests.wxcc.simulated import OnOneLoop, simulated_backend

AVA, SAM, ALEX = "ava.lead@example.com", "sam.supervisor@example.com", "alex.agent@example.com"
BUSY_NUMBER = "+14155550123"


def login(role: Role, preference: CallPreference, number: str = "", team: str | None = None) -> LoginRequest:
    return LoginRequest(role=role, call_preference=preference, dial_number=number, team_id=team)


class Faulty(httpx.AsyncBaseTransport):
    """Answers some requests itself (503, 429) before they reach the server; records every request."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.plan: list[tuple[str, httpx.Response]] = []  # (method + path prefix, canned answer), used once
        self.sent: list[httpx.Request] = []
        self.delay = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        for index, (prefix, answer) in enumerate(self.plan):
            if f"{request.method} {request.url.path}".startswith(prefix):
                del self.plan[index]
                return answer
        return await self.inner.handle_async_request(request)


@pytest.fixture
def core() -> SimulatorCore:
    return SimulatorCore(load_tenant(DEMO_TENANT_FILE))


@pytest.fixture
def faulty() -> Faulty:
    return Faulty()


@pytest.fixture
def wxcc(core: SimulatorCore, tmp_path: Path, faulty: Faulty) -> Iterator[OnOneLoop]:
    with simulated_backend(
        core, tmp_path, emails=[AVA, SAM, ALEX], http=httpx.AsyncClient(transport=faulty)
    ) as (
        backend,
        _server,
    ):
        yield backend


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def logins(core: SimulatorCore, email: str) -> list[Any]:
    return [e for e in core.events(email) if e.kind == "StationLogin"]


# -- OAuth -----------------------------------------------------------------------------------------


def test_tokens_are_stored_encrypted(wxcc: OnOneLoop) -> None:
    auth = wxcc.inner.oauth
    token = run(_on(wxcc, auth.access_token(AVA, httpx.AsyncClient())))
    with auth._store._engine.connect() as connection:  # type: ignore[attr-defined]
        dump = repr(connection.execute(text("SELECT * FROM oauth_tokens")).all())
    assert token and token not in dump


def test_no_token_means_authorization_required(wxcc: OnOneLoop) -> None:
    with pytest.raises(AuthorizationRequired) as caught:
        run(wxcc.get_profile("pat.provisioned@example.com"))
    assert "code_challenge_method=S256" in caught.value.authorize_url


def test_refresh_after_a_401(wxcc: OnOneLoop, faulty: Faulty) -> None:
    faulty.plan.append(("GET /v1/people/me", httpx.Response(401)))
    assert run(wxcc.get_profile(AVA)).email == AVA
    grants = [r for r in faulty.sent if r.url.path.endswith("/access_token")]
    assert grants and b"refresh_token" in grants[-1].content


def test_a_revoked_token_requires_authorization_again(wxcc: OnOneLoop, core: SimulatorCore) -> None:
    server_base = wxcc.inner.config.api_url
    httpx.post(f"{server_base}/admin/tokens/revoke", json={"email": SAM}).raise_for_status()
    with pytest.raises(AuthorizationRequired):
        run(wxcc.get_profile(SAM))
    assert not wxcc.inner.oauth.has_tokens(SAM)


# -- runtime calls ---------------------------------------------------------------------------------


def test_login_success_with_the_service_tracking_id(
    wxcc: OnOneLoop, core: SimulatorCore, faulty: Faulty
) -> None:
    ava = run(wxcc.get_profile(AVA))
    outcome = run(
        wxcc.station_login(
            ava, login(Role.SUPERVISOR_AGENT, CallPreference.DIAL_NUMBER, "+14155550101", "t-vip")
        )
    )
    assert outcome.session is not None and outcome.session.dial_number == "+14155550101"
    assert outcome.tracking_id == logins(core, AVA)[-1].tracking_id
    checked = 0
    for request in faulty.sent:
        if request.method in ("POST", "PUT") and request.content:
            checked += schema_check.validate(
                request.method, request.url.path, httpx.Response(200, content=request.content).json()
            )
    assert checked >= 2, "the subscription and the login were validated against Cisco's schemas"


@pytest.mark.parametrize(
    ("email", "request_", "reason"),
    [
        (
            AVA,
            login(Role.SUPERVISOR, CallPreference.DIAL_NUMBER, BUSY_NUMBER),
            FailureReason.DUPLICATE_LOCATION,
        ),
        (
            AVA,
            login(Role.SUPERVISOR, CallPreference.DIAL_NUMBER, "+1 555 0100"),
            FailureReason.INVALID_DIAL_NUMBER,
        ),
        (
            ALEX,
            login(Role.AGENT, CallPreference.EXTENSION, "2001", "t-billing"),
            FailureReason.TEAM_NOT_ASSIGNED,
        ),
        (ALEX, login(Role.SUPERVISOR, CallPreference.EXTENSION, "2001"), FailureReason.ROLE_NOT_PERMITTED),
    ],
)
def test_login_failures_carry_the_reason_and_tracking_id(
    wxcc: OnOneLoop, core: SimulatorCore, email: str, request_: LoginRequest, reason: FailureReason
) -> None:
    with pytest.raises(LoginFailed) as caught:
        run(wxcc.station_login(run(wxcc.get_profile(email)), request_))
    assert caught.value.reason is reason
    assert caught.value.tracking_id == logins(core, email)[-1].tracking_id


def test_multi_login_reaches_a_registered_listener(
    core: SimulatorCore, tmp_path: Path, wxcc: OnOneLoop
) -> None:
    heard: list[Notification] = []
    wxcc.add_listener(heard.append)
    ava = run(wxcc.get_profile(AVA))
    run(wxcc.station_login(ava, login(Role.SUPERVISOR, CallPreference.DESKTOP)))
    with simulated_backend(core, tmp_path / "other", emails=[AVA]) as (elsewhere, _):
        run(elsewhere.take_over(run(elsewhere.get_profile(AVA))))
    for _ in range(100):
        if heard:
            break
        run(asyncio.sleep(0.05))
    assert heard and heard[0].kind == "AGENT_MULTI_LOGIN" and heard[0].email == AVA


# -- faults ----------------------------------------------------------------------------------------


def test_reads_survive_5xx_and_latency(wxcc: OnOneLoop, faulty: Faulty) -> None:
    faulty.delay = 0.05
    faulty.plan += [("GET /organization", httpx.Response(503)), ("GET /organization", httpx.Response(500))]
    assert run(wxcc.get_profile(AVA)).teams


def test_429_retry_after_is_honoured(wxcc: OnOneLoop, faulty: Faulty, core: SimulatorCore) -> None:
    ava = run(wxcc.get_profile(AVA))
    faulty.plan.append(("POST /v1/agents/login", httpx.Response(429, headers={"Retry-After": "1"})))
    assert run(wxcc.station_login(ava, login(Role.SUPERVISOR, CallPreference.DESKTOP))).session is not None
    assert len(logins(core, AVA)) == 1


def _lose(monkeypatch: pytest.MonkeyPatch, kind: str, action: str) -> None:
    """Make the channel lose (`drop`) or cut the socket on (`cut`) the first result of `kind`."""
    original = notifications.NotificationChannel._dispatch
    done: list[bool] = []

    def dispatch(self: notifications.NotificationChannel, raw: str | bytes) -> None:
        if not done and f'"{kind}"' in (raw if isinstance(raw, str) else raw.decode()):
            done.append(True)
            if action == "cut" and self._socket is not None:
                asyncio.get_running_loop().create_task(self._socket.close())
            return
        original(self, raw)

    monkeypatch.setattr(notifications.NotificationChannel, "_dispatch", dispatch)


@pytest.mark.parametrize("action", ["drop", "cut"])
def test_a_lost_login_result_is_settled_by_reload_never_resent(
    wxcc: OnOneLoop, core: SimulatorCore, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    ava = run(wxcc.get_profile(AVA))
    _lose(monkeypatch, "AgentStationLoginSuccess", action)
    outcome = run(wxcc.station_login(ava, login(Role.SUPERVISOR, CallPreference.DESKTOP)))
    assert outcome.session is not None
    assert len(logins(core, AVA)) == 1, "never two logins"
    assert run(wxcc.get_session(ava)) is not None


def test_a_lost_refusal_becomes_an_explained_timeout(
    wxcc: OnOneLoop, core: SimulatorCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ava = run(wxcc.get_profile(AVA))
    _lose(monkeypatch, "AgentStationLoginFailed", "drop")
    with pytest.raises(BackendUnavailable) as caught:
        run(wxcc.station_login(ava, login(Role.SUPERVISOR, CallPreference.DIAL_NUMBER, BUSY_NUMBER)))
    assert caught.value.reason is FailureReason.TIMEOUT and caught.value.tracking_id
    assert len(logins(core, AVA)) == 1


def test_a_login_5xx_is_never_resent(wxcc: OnOneLoop, faulty: Faulty, core: SimulatorCore) -> None:
    ava = run(wxcc.get_profile(AVA))
    faulty.plan.append(("POST /v1/agents/login", httpx.Response(503)))
    with pytest.raises(BackendUnavailable) as caught:
        run(wxcc.station_login(ava, login(Role.SUPERVISOR, CallPreference.DESKTOP)))
    assert caught.value.reason is FailureReason.SERVICE_ERROR
    assert logins(core, AVA) == [] and run(wxcc.get_session(ava)) is None


def test_state_and_logout(wxcc: OnOneLoop) -> None:
    ava = run(wxcc.get_profile(AVA))
    run(wxcc.station_login(ava, login(Role.SUPERVISOR, CallPreference.DESKTOP)))
    assert run(wxcc.set_state(ava, Availability.AVAILABLE)).session.state is Availability.AVAILABLE
    assert run(wxcc.logout(ava)).session is None


def test_no_token_text_in_logs(wxcc: OnOneLoop, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ava = run(wxcc.get_profile(AVA))
    run(wxcc.station_login(ava, login(Role.SUPERVISOR, CallPreference.DIAL_NUMBER, "+14155550101")))
    token = run(_on(wxcc, wxcc.inner.oauth.access_token(AVA, httpx.AsyncClient())))
    assert token not in caplog.text
    assert "Bearer" not in caplog.text and "+14155550101" not in caplog.text


async def _on(backend: OnOneLoop, coroutine: Any) -> Any:
    return await backend._call(coroutine)
