"""Fixtures: a fresh demo core per test, a server on a free loopback port, and a check that no
server thread outlives its test."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorCore, Tenant, load_tenant
from bot.backend.simulator.server import SimulatorServer
from tests.simulator_server.support import CLIENT_ID, CLIENT_SECRET

StartServer = Callable[..., SimulatorServer]


@pytest.fixture(scope="session")
def demo_tenant() -> Tenant:
    return load_tenant(DEMO_TENANT_FILE)


@pytest.fixture
def core(demo_tenant: Tenant) -> SimulatorCore:
    return SimulatorCore(demo_tenant)


@pytest.fixture
def start_server(core: SimulatorCore) -> Iterator[StartServer]:
    """Start servers with the test client registered; each one is stopped after the test."""
    started: list[SimulatorServer] = []

    def start(on: SimulatorCore | None = None, **options: Any) -> SimulatorServer:
        options.setdefault("client_id", CLIENT_ID)
        options.setdefault("client_secret", CLIENT_SECRET)
        server = SimulatorServer(on if on is not None else core, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server: StartServer) -> SimulatorServer:
    return start_server()


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    yield
    leftovers = [t.name for t in threading.enumerate() if t.name.startswith("simulator-")]
    assert not leftovers, f"server threads still running: {leftovers}"
