"""The simulator's own promises beyond the port: tracking ids, persistence, the event log, the
demo hooks, thread safety, and the async adapter's construction."""

from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path

import pytest

from bot.backend.port import (
    Availability,
    CallPreference,
    ContactCenter,
    ContactCenterError,
    FailureReason,
    LoginFailed,
    LogoutRefused,
    Role,
    StateChangeFailed,
)
from bot.backend.simulator import DEMO_TENANT_FILE, SimEvent, SimulatorBackend, SimulatorCore, Tenant
from tests.backend.support import request, run

AVA = "ava.lead@example.com"
SAM = "sam.supervisor@example.com"
BUSY = "busy.agent@example.com"
AVA_DESKTOP = request(Role.SUPERVISOR, CallPreference.DESKTOP)
TRACKING = re.compile(r"LOGINBOT-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


# -- tracking ids ------------------------------------------------------------------------------


def test_generated_tracking_ids_have_the_loginbot_form(core: SimulatorCore) -> None:
    outcome = core.station_login(AVA, AVA_DESKTOP)
    assert TRACKING.fullmatch(outcome.tracking_id)
    assert outcome.session is not None and outcome.session.tracking_id == outcome.tracking_id


def test_the_callers_tracking_id_is_the_one_used(core: SimulatorCore) -> None:
    outcome = core.station_login(AVA, AVA_DESKTOP, tracking_id="T-login")
    assert outcome.tracking_id == "T-login"
    assert core.set_state(AVA, Availability.AVAILABLE, tracking_id="T-state").tracking_id == "T-state"
    session = core.session(AVA)
    assert session is not None and session.tracking_id == "T-state"
    with pytest.raises(LoginFailed) as login:
        core.station_login(AVA, AVA_DESKTOP, tracking_id="T-again")
    with pytest.raises(LogoutRefused) as logout:
        core.logout(BUSY, tracking_id="T-logout")
    with pytest.raises(StateChangeFailed) as state:
        core.set_state(SAM, Availability.IDLE, tracking_id="T-idle")
    with pytest.raises(ContactCenterError) as unknown:
        core.profile("ghost@example.com", tracking_id="T-ghost")
    assert [e.value.tracking_id for e in (login, logout, state, unknown)] == [
        "T-again",
        "T-logout",
        "T-idle",
        "T-ghost",
    ]
    assert [event.tracking_id for event in core.events(AVA)] == ["T-login", "T-state", "T-again"]


# -- event log ---------------------------------------------------------------------------------


def test_the_event_log_records_outcomes_and_masks_numbers(core: SimulatorCore) -> None:
    with pytest.raises(LoginFailed):
        core.station_login(AVA, request(Role.SUPERVISOR, CallPreference.DIAL_NUMBER, "+14155550123"))
    core.station_login(AVA, request(Role.SUPERVISOR, CallPreference.DIAL_NUMBER, "+14155550101"))
    failed, succeeded = core.events(AVA)
    assert (failed.kind, failed.ok, failed.reason) == ("StationLogin", False, "DUPLICATE_LOCATION")
    assert (succeeded.kind, succeeded.ok, succeeded.reason) == ("StationLogin", True, None)
    assert "0101" in succeeded.detail and "+14155550101" not in succeeded.detail
    assert "+14155550123" not in failed.detail
    assert core.events("AVA.LEAD@example.com") == [failed, succeeded]
    assert core.events(SAM) == []


def test_take_over_closes_the_other_place_and_tells_listeners(core: SimulatorCore) -> None:
    seen: list[SimEvent] = []
    unsubscribe = core.subscribe(seen.append)
    core.take_over(BUSY, tracking_id="T-take")
    assert [(e.kind, e.tracking_id) for e in seen] == [
        ("AGENT_MULTI_LOGIN", "T-take"),
        ("TakeOver", "T-take"),
    ]
    unsubscribe()
    core.take_over(BUSY)
    assert len(seen) == 2


def test_a_failing_listener_does_not_break_the_call(core: SimulatorCore) -> None:
    def explode(event: SimEvent) -> None:
        raise RuntimeError("listener bug")

    core.subscribe(explode)
    assert core.station_login(AVA, AVA_DESKTOP).session is not None


def test_a_listener_may_call_back_into_the_core(core: SimulatorCore) -> None:
    states: list[Availability | None] = []

    def on_event(event: SimEvent) -> None:
        session = core.session(event.email)
        states.append(session.state if session else None)

    core.subscribe(on_event)
    core.station_login(AVA, AVA_DESKTOP)
    assert states == [Availability.IDLE]


# -- hooks, reset, queries ------------------------------------------------------------------------


def test_hooks_need_a_session(core: SimulatorCore) -> None:
    for hook in (core.start_interaction, core.start_wrap_up, core.end_interaction):
        with pytest.raises(ContactCenterError) as caught:
            hook(AVA)
        assert caught.value.reason is FailureReason.NOT_LOGGED_IN


def test_hooks_move_through_interaction_and_wrap_up(core: SimulatorCore) -> None:
    core.station_login(AVA, AVA_DESKTOP)
    assert core.start_interaction(AVA).in_interaction
    wrap = core.start_wrap_up(AVA)
    assert (wrap.in_interaction, wrap.in_wrap_up) == (False, True)
    done = core.end_interaction(AVA)
    assert (done.in_interaction, done.in_wrap_up) == (False, False)


def test_reset_restores_the_tenants_initial_sessions(core: SimulatorCore) -> None:
    core.end_interaction(BUSY)
    core.logout(BUSY)
    core.station_login(AVA, AVA_DESKTOP)
    core.reset()
    assert [s.agent_id for s in core.sessions()] == ["ci-busy-agent"]
    busy = core.session(BUSY)
    assert busy is not None and busy.in_interaction and busy.dial_number == "+14155550123"
    assert core.events() == []


def test_location_in_use(core: SimulatorCore) -> None:
    assert core.location_in_use("+1 415 555 0123")
    assert not core.location_in_use("+14155550123", except_email=BUSY)
    assert not core.location_in_use("+14155550101")


def test_unknown_users_are_refused_everywhere(core: SimulatorCore) -> None:
    ghost = "ghost@example.com"
    calls = [
        lambda: core.session(ghost),
        lambda: core.station_login(ghost, AVA_DESKTOP),
        lambda: core.take_over(ghost),
        lambda: core.set_state(ghost, Availability.AVAILABLE),
        lambda: core.logout(ghost),
        lambda: core.start_interaction(ghost),
    ]
    for call in calls:
        with pytest.raises(ContactCenterError) as caught:
            call()
        assert caught.value.reason is FailureReason.USER_NOT_FOUND and caught.value.tracking_id


def test_an_overlong_logout_reason_is_a_bad_request(core: SimulatorCore) -> None:
    core.station_login(AVA, AVA_DESKTOP)
    with pytest.raises(LogoutRefused) as caught:
        core.logout(AVA, "x" * 129)
    assert caught.value.reason is FailureReason.BAD_REQUEST
    assert core.session(AVA) is not None


# -- thread safety ------------------------------------------------------------------------------


def _race(jobs: list[threading.Thread]) -> None:
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()


def test_concurrent_logins_of_one_user_open_one_session(core: SimulatorCore) -> None:
    results: list[str] = []

    def attempt(number: str) -> None:
        try:
            core.station_login(AVA, request(Role.SUPERVISOR, CallPreference.DIAL_NUMBER, number))
            results.append("ok")
        except LoginFailed as error:
            results.append(error.reason.value)

    _race([threading.Thread(target=attempt, args=(f"+1415555{n:04d}",)) for n in range(200, 216)])
    assert results.count("ok") == 1
    assert results.count("SESSION_ALREADY_ACTIVE") == 15


def test_concurrent_logins_on_one_number_let_one_user_in(core: SimulatorCore) -> None:
    results: dict[str, str] = {}
    number = "+14155550101"

    def attempt(email: str) -> None:
        try:
            core.station_login(email, request(Role.SUPERVISOR, CallPreference.DIAL_NUMBER, number))
            results[email] = "ok"
        except LoginFailed as error:
            results[email] = error.reason.value

    _race([threading.Thread(target=attempt, args=(email,)) for email in (AVA, SAM)])
    assert sorted(results.values()) == ["DUPLICATE_LOCATION", "ok"]


# -- persistence -----------------------------------------------------------------------------------


def test_sessions_survive_a_restart(demo_tenant: Tenant, tmp_path: Path) -> None:
    state = tmp_path / "state" / "simulator.json"
    first = SimulatorCore(demo_tenant, state)
    session = first.station_login(AVA, AVA_DESKTOP).session
    first.set_state(AVA, Availability.AVAILABLE)
    first.end_interaction(BUSY)
    first.logout(BUSY)
    second = SimulatorCore(demo_tenant, state)
    restored = second.session(AVA)
    assert restored is not None and session is not None
    assert restored.session_id == session.session_id and restored.state is Availability.AVAILABLE
    assert second.session(BUSY) is None, "the state file, not the tenant's initial sessions, is the truth"
    assert [e.kind for e in second.events(AVA)] == ["StationLogin", "AgentStateChange"]
    second.logout(AVA)
    assert SimulatorCore(demo_tenant, state).sessions() == []


def test_without_a_state_file_the_initial_sessions_apply(demo_tenant: Tenant, tmp_path: Path) -> None:
    state = tmp_path / "simulator.json"
    core = SimulatorCore(demo_tenant, state)
    assert not state.exists(), "nothing is written before a change"
    assert core.session(BUSY) is not None


def test_saves_are_atomic_and_leave_no_temporary_files(demo_tenant: Tenant, tmp_path: Path) -> None:
    state = tmp_path / "simulator.json"
    core = SimulatorCore(demo_tenant, state)
    core.station_login(AVA, AVA_DESKTOP)
    core.set_state(AVA, Availability.AVAILABLE)
    assert [p.name for p in tmp_path.iterdir()] == ["simulator.json"]
    document = json.loads(state.read_text())
    assert document["format"] == "loginbot-simulator-state" and document["version"] == 1
    assert {s["agent_id"] for s in document["sessions"]} == {"ci-ava-lead", "ci-busy-agent"}


@pytest.mark.parametrize(
    "content",
    [
        "{ this is not json",
        "[]",
        '{"format": "loginbot-simulator-state", "version": 1, "sessions": [{"agent_id": 3}]}',
        '{"format": "something-else", "version": 1, "sessions": []}',
        '{"format": "loginbot-simulator-state", "version": 99, "sessions": []}',
        "\udcff",
    ],
    ids=["garbage", "wrong-shape", "bad-session", "other-format", "future-version", "bad-encoding"],
)
def test_a_corrupt_state_file_is_ignored_with_a_warning(
    demo_tenant: Tenant, tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str
) -> None:
    state = tmp_path / "simulator.json"
    state.write_bytes(content.encode("utf-8", "surrogateescape"))
    with caplog.at_level(logging.WARNING):
        core = SimulatorCore(demo_tenant, state)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("ignoring" in message and str(state) in message for message in warnings)
    assert [s.agent_id for s in core.sessions()] == ["ci-busy-agent"]
    core.station_login(AVA, AVA_DESKTOP)
    assert SimulatorCore(demo_tenant, state).session(AVA) is not None, "the next save repairs the file"


def test_saved_sessions_of_users_no_longer_in_the_tenant_are_dropped(
    demo_tenant: Tenant, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "simulator.json"
    SimulatorCore(demo_tenant, state).station_login(AVA, AVA_DESKTOP)
    document = json.loads(state.read_text())
    document["sessions"][0]["agent_id"] = "ci-departed"
    state.write_text(json.dumps(document))
    with caplog.at_level(logging.WARNING):
        core = SimulatorCore(demo_tenant, state)
    assert "ci-departed" not in {s.agent_id for s in core.sessions()}
    assert any("ci-departed" in record.getMessage() for record in caplog.records)


def test_an_unwritable_state_path_does_not_break_calls(
    demo_tenant: Tenant, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    core = SimulatorCore(demo_tenant, blocker / "simulator.json")
    with caplog.at_level(logging.WARNING):
        assert core.station_login(AVA, AVA_DESKTOP).session is not None
    assert any("could not save" in record.getMessage() for record in caplog.records)


# -- the async adapter ---------------------------------------------------------------------------


def test_the_backend_implements_the_port_on_the_demo_tenant(tmp_path: Path) -> None:
    backend = SimulatorBackend.from_file(state_path=tmp_path / "state.json")
    assert isinstance(backend, ContactCenter)
    assert backend.core.tenant.user_by_email(AVA) is not None
    ava = run(backend.get_profile(AVA))
    run(backend.station_login(ava, AVA_DESKTOP))
    run(backend.aclose())
    again = SimulatorBackend.from_file(DEMO_TENANT_FILE, tmp_path / "state.json")
    assert run(again.get_session(ava)) is not None
