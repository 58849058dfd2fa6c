"""Fixtures: the real simulator on the demo tenant, a real SQLite store in tmp_path, and helpers
that write preferences and attempts the way the turn runner does (`store.commit_turn`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.backend.port import AuthorizationRequired, UserProfile
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorBackend, SimulatorCore, load_tenant
from bot.troubleshoot import Checklist, Troubleshooter
from storage import KEEP, ActiveSessionRecord, AttemptRecord, ConversationKey, PreferencesRecord, Store

ADMIN = "root.admin@example.com"  # the tenant's admin flag
ENV_ADMIN = "helpdesk@example.com"  # an admin through LOGINBOT_ADMINS only (not a tenant user)
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)

TENANT = load_tenant(DEMO_TENANT_FILE)
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@dataclass
class World:
    core: SimulatorCore
    backend: SimulatorBackend
    store: Store

    def troubleshooter(self, **kwargs: Any) -> Troubleshooter:
        options: dict[str, Any] = {"admins": frozenset({ENV_ADMIN}), "clock": lambda: NOW}
        options.update(kwargs)
        return Troubleshooter(self.backend, self.store, **options)

    async def checklist(self, target: str, language: str = "en", **kwargs: Any) -> Checklist:
        return await self.troubleshooter(**kwargs).checklist(ENV_ADMIN, target, language)

    def commit(
        self,
        *attempts: AttemptRecord,
        preferences: PreferencesRecord | None = None,
        session: ActiveSessionRecord | None = None,
    ) -> None:
        key = session.key if session is not None else ConversationKey("test", "local", f"u-{uuid.uuid4()}")
        self.store.commit_turn(
            key=key,
            state={},
            step=None,
            language="en",
            expected_version=None,
            preferences=preferences,
            attempts=list(attempts),
            session=session if session is not None else KEEP,
        )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    core = SimulatorCore(TENANT)
    store = Store.from_url(f"sqlite:///{tmp_path / 'loginbot.db'}")
    try:
        yield World(core, SimulatorBackend(core), store)
    finally:
        store.close()


def attempt(
    email: str,
    outcome: str = "success",
    reason: str | None = None,
    *,
    at: datetime = NOW - timedelta(minutes=30),
    tracking_id: str | None = None,
    channel: str = "slack",
    dial_number: str | None = None,
    role: str = "agent",
    team_id: str | None = "t-customer-care",
    call_preference: str = "dial_number",
    automatic: bool = False,
) -> AttemptRecord:
    return AttemptRecord(
        email=email,
        channel=channel,
        outcome=outcome,
        started_at=at,
        finished_at=at + timedelta(seconds=2),
        reason=reason,
        tracking_id=tracking_id or f"LOGINBOT-{uuid.uuid4()}",
        role=role,
        call_preference=call_preference,
        dial_number=dial_number,
        team_id=team_id,
        automatic=automatic,
        duration_ms=2000,
    )


class UnauthorizedBackend(SimulatorBackend):
    """A backend that cannot read profiles without the user's own authorization (as the real API
    can behave): the checklist must say "unknown", not guess."""

    async def get_profile(self, email: str) -> UserProfile:
        raise AuthorizationRequired("https://idbroker.example/authorize", "LOGINBOT-auth")
