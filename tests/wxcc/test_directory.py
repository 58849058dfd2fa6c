"""Looking users up by name on the real API (U3): Webex's directory search through the adapter,
against the simulator served over loopback, with the asking user's own token."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorCore, load_tenant
from bot.backend.simulator.faults import Faults
from bot.troubleshoot import NotAllowed, Person, Troubleshooter
from bot.troubleshoot.directory import WebexDirectory, directory_for
from bot.troubleshoot.service import DirectoryUnavailable
from tests.wxcc.simulated import OnOneLoop, simulated_backend
from tests.wxcc.support import store

ADMIN = "root.admin@example.com"  # an administrator in the tenant, not in LOGINBOT_ADMINS
AVA = "ava.lead@example.com"
ALEX = "alex.agent@example.com"
NEVER_AUTHORIZED = "sam.supervisor@example.com"


@pytest.fixture
def wxcc(tmp_path: Path) -> Iterator[OnOneLoop]:
    core = SimulatorCore(load_tenant(DEMO_TENANT_FILE))
    with simulated_backend(core, tmp_path, emails=[ADMIN, AVA, ALEX]) as (backend, _server):
        yield backend


def troubleshooter(backend: OnOneLoop, tmp_path: Path) -> Troubleshooter:
    return Troubleshooter(backend, store(tmp_path / "t"), directory=WebexDirectory(backend))


def test_the_real_adapter_gets_the_webex_directory(wxcc: OnOneLoop) -> None:
    assert isinstance(directory_for(wxcc.inner), WebexDirectory)


def test_names_typed_in_any_case_find_the_person(wxcc: OnOneLoop, tmp_path: Path) -> None:
    found = troubleshooter(wxcc, tmp_path)
    expected = [Person(AVA, "Ava Lead")]
    assert asyncio.run(found.find_people(ADMIN, "Ava")) == expected
    assert asyncio.run(found.find_people(ADMIN, "ava lead")) == expected
    assert asyncio.run(found.find_people(ADMIN, "Lead")) == expected
    assert asyncio.run(found.find_people(ADMIN, "inès martin")) == [
        Person("ines.martin@example.com", "Inès Martin")
    ]
    two = asyncio.run(found.find_people(ADMIN, "agent"))
    assert sorted(p.email for p in two) == [ALEX, "busy.agent@example.com"]  # the chat asks which
    assert asyncio.run(found.find_people(ADMIN, "Zork")) == []


def test_anyone_else_finds_only_themselves(wxcc: OnOneLoop, tmp_path: Path) -> None:
    found = troubleshooter(wxcc, tmp_path)
    assert asyncio.run(found.find_people(ALEX, "Alex Agent")) == [Person(ALEX, "Alex Agent")]
    with pytest.raises(NotAllowed):
        asyncio.run(found.find_people(ALEX, "Ava"))


def test_a_requester_without_a_token_is_asked_for_an_email(
    wxcc: OnOneLoop, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO), pytest.raises(DirectoryUnavailable):
        asyncio.run(troubleshooter(wxcc, tmp_path).find_people(NEVER_AUTHORIZED, "Ava"))
    assert "has not authorized loginbot" in caplog.text


def test_a_directory_the_service_cannot_answer_is_asked_for_an_email(tmp_path: Path) -> None:
    core = SimulatorCore(load_tenant(DEMO_TENANT_FILE))
    faults = Faults(error_rate=1.0, apply_to_oauth=True, seed=1)
    with simulated_backend(core, tmp_path, emails=[ADMIN], faults=None) as (backend, server):
        server.faults = faults  # every request from now on: 5xx
        people = asyncio.run(WebexDirectory(backend).people("Ava", ADMIN))
    assert people is None
