"""An in-process assistant over the embedded simulator and a SQLite file, for the security tests."""

from __future__ import annotations

from pathlib import Path

from bot.assistant import Assistant
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorBackend, SimulatorCore, load_tenant
from bot.flow.engine import FlowEngine
from intents.recognizer import Recognizer
from storage import Store

AVA = "ava.lead@example.com"


def assistant(directory: Path) -> Assistant:
    store = Store.from_url(f"sqlite:///{directory / 'loginbot.db'}")
    backend = SimulatorBackend(SimulatorCore(load_tenant(DEMO_TENANT_FILE)))
    return Assistant(engine=FlowEngine(Recognizer.default()), store=store, backend=backend)
