"""The embedded contact-center simulator: a tenant file, a transport-free core, and the port adapter.

`SimulatorBackend.from_file()` runs the shipped demo tenant (`DEMO_TENANT_FILE`) offline; give it a
`state_path` to keep station sessions across restarts, as the terminal chat does.
"""

from bot.backend.simulator.backend import SimulatorBackend
from bot.backend.simulator.core import SimulatorCore
from bot.backend.simulator.state_file import SimEvent
from bot.backend.simulator.tenant import DEMO_TENANT_FILE, Tenant, TenantFileError, load_tenant

__all__ = [
    "DEMO_TENANT_FILE",
    "SimEvent",
    "SimulatorBackend",
    "SimulatorCore",
    "Tenant",
    "TenantFileError",
    "load_tenant",
]
