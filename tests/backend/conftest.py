"""Fixtures for the backend tests.

The contract suite (`test_contract.py`) asks for `backend` and `controls`; both come from the
parametrized `contact_center` fixture, built fresh for every test so that tests never share tenant
state. Today the only implementation is the in-process simulator; the real-API adapter talking to
the simulator served over HTTP will be added to `IMPLEMENTATIONS` as a second entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bot.backend.port import ContactCenter
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorBackend, SimulatorCore, Tenant, load_tenant
from tests.backend.support import ContactCenterUnderTest, TenantControls, run


def _simulator(tenant: Tenant) -> ContactCenterUnderTest:
    core = SimulatorCore(tenant)
    return ContactCenterUnderTest(backend=SimulatorBackend(core), controls=core)


IMPLEMENTATIONS: dict[str, Callable[[Tenant], ContactCenterUnderTest]] = {
    "simulator": _simulator,
}


@pytest.fixture(scope="session")
def demo_tenant() -> Tenant:
    """The tenant model is immutable, so one parse serves every test."""
    return load_tenant(DEMO_TENANT_FILE)


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def contact_center(request: pytest.FixtureRequest, demo_tenant: Tenant) -> Iterator[ContactCenterUnderTest]:
    under_test = IMPLEMENTATIONS[request.param](demo_tenant)
    yield under_test
    run(under_test.backend.aclose())


@pytest.fixture
def backend(contact_center: ContactCenterUnderTest) -> ContactCenter:
    return contact_center.backend


@pytest.fixture
def controls(contact_center: ContactCenterUnderTest) -> TenantControls:
    return contact_center.controls


@pytest.fixture
def core(demo_tenant: Tenant) -> SimulatorCore:
    """A fresh in-memory simulator core, for the simulator's own tests."""
    return SimulatorCore(demo_tenant)
