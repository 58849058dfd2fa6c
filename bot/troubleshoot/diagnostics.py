"""What a backend can tell the checklist beyond the `ContactCenter` port, when it can (T2, T5, T6, T8).

The port has no call for "is this number used by someone else?", "what is this user's Microsoft
Teams authentication status?" or "is the service down?": the real API does not answer the first two
for an administrator, so each backend that *can* know provides a `Diagnostics`, and every answer
may be None, which the checklist shows as "unknown" rather than guessing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from bot.backend.port import ContactCenter
    from bot.backend.simulator.core import SimulatorCore


@runtime_checkable
class Diagnostics(Protocol):
    async def number_in_use(self, number: str, *, except_email: str) -> bool | None:
        """Whether a session of another user holds this dial number or extension; None: cannot tell."""
        ...

    async def teams_auth_status(self, email: str) -> str | None:
        """The Microsoft Teams authentication status ("Success", "Failed", ...); None: not known."""
        ...

    async def outage(self) -> bool | None:
        """Whether the service reports an outage; None: cannot tell (the profile read still tells)."""
        ...


class NoDiagnostics:
    """For backends that can tell nothing more than the port: every answer is "unknown"."""

    async def number_in_use(self, number: str, *, except_email: str) -> bool | None:
        return None

    async def teams_auth_status(self, email: str) -> str | None:
        return None

    async def outage(self) -> bool | None:
        return None


class SimulatorDiagnostics:
    """The embedded simulator knows everything: it *is* the service."""

    def __init__(self, core: SimulatorCore) -> None:
        self.core = core

    async def number_in_use(self, number: str, *, except_email: str) -> bool | None:
        return self.core.location_in_use(number, except_email=except_email)

    async def teams_auth_status(self, email: str) -> str | None:
        from bot.backend.port import ContactCenterError

        try:
            status = self.core.teams_auth_status(email)
        except ContactCenterError:
            return None
        return status.value if status is not None else None

    async def outage(self) -> bool | None:
        return self.core.outage


def diagnostics_for(backend: ContactCenter) -> Diagnostics:
    """The diagnostics of a backend: the simulator's own, or `NoDiagnostics` for any other."""
    from bot.backend.simulator.backend import SimulatorBackend

    if isinstance(backend, SimulatorBackend):
        return SimulatorDiagnostics(backend.core)
    return NoDiagnostics()
