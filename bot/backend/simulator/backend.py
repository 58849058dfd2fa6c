"""`SimulatorBackend`: the `ContactCenter` port served by an in-process `SimulatorCore`.

Why so thin: the port is async because the real adapter waits on HTTP and a websocket; the core is
synchronous, in memory and fast (a state-file write at most), so each method simply calls the core.
All rules live in the core so that the HTTP front end of a later issue behaves identically.
The server validates against its own tenant: only the profile's email is used to find the user.
"""

from __future__ import annotations

from pathlib import Path

from bot.backend.port import (
    Availability,
    LoginRequest,
    Notification,
    NotificationListener,
    Outcome,
    StationSession,
    UserProfile,
)
from bot.backend.simulator.core import SimulatorCore
from bot.backend.simulator.state_file import SimEvent
from bot.backend.simulator.tenant import DEMO_TENANT_FILE, load_tenant


class SimulatorBackend:
    """The embedded simulator behind the `ContactCenter` port (the default backend)."""

    def __init__(self, core: SimulatorCore) -> None:
        self.core = core

    @classmethod
    def from_file(
        cls, path: str | Path | None = None, state_path: str | Path | None = None
    ) -> SimulatorBackend:
        """A backend on a tenant file (the demo tenant when None), optionally persisting sessions."""
        tenant = load_tenant(path if path is not None else DEMO_TENANT_FILE)
        return cls(SimulatorCore(tenant, Path(state_path) if state_path is not None else None))

    async def get_profile(self, email: str) -> UserProfile:
        return self.core.profile(email)

    async def get_session(self, user: UserProfile) -> StationSession | None:
        return self.core.session(user.email)

    async def station_login(
        self, user: UserProfile, request: LoginRequest, *, take_over: bool = False
    ) -> Outcome:
        return self.core.station_login(user.email, request, take_over=take_over)

    async def take_over(self, user: UserProfile) -> Outcome:
        return self.core.take_over(user.email)

    async def set_state(
        self, user: UserProfile, state: Availability, idle_code_id: str | None = None
    ) -> Outcome:
        return self.core.set_state(user.email, state, idle_code_id)

    async def logout(self, user: UserProfile, reason: str = "Signed out from loginbot") -> Outcome:
        return self.core.logout(user.email, reason)

    def add_listener(self, listener: NotificationListener) -> None:
        """AGENT_MULTI_LOGIN reaches the previous holder of a session when another one takes it (S12)."""

        def forward(event: SimEvent) -> None:
            if event.kind == "AGENT_MULTI_LOGIN":
                listener(Notification("AGENT_MULTI_LOGIN", event.agent_id, event.email, event.tracking_id))

        self.core.subscribe(forward)

    async def aclose(self) -> None:
        """Nothing to release: the core saves its state after every change."""
