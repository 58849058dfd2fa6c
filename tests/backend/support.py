"""Helpers shared by the backend tests: running coroutines without pytest-asyncio, and the demo
controls that a contract test needs besides the port (a customer call cannot be made through it)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from bot.backend.port import CallPreference, ContactCenter, LoginRequest, Role

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """One event loop per call keeps each test independent, which is all the port needs."""
    return asyncio.run(coroutine)


class TenantControls(Protocol):
    """What happens to a signed-in user outside the assistant (a customer contact, a wrap-up)."""

    def start_interaction(self, email: str) -> object: ...

    def start_wrap_up(self, email: str) -> object: ...

    def end_interaction(self, email: str) -> object: ...


@dataclass
class ContactCenterUnderTest:
    """One implementation of the port, with the controls that reach the same tenant state."""

    backend: ContactCenter
    controls: TenantControls


def request(
    role: Role, preference: CallPreference, number: str = "", team_id: str | None = None
) -> LoginRequest:
    return LoginRequest(role=role, call_preference=preference, dial_number=number, team_id=team_id)
