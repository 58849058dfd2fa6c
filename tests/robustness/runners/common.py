"""What every runner shares: a fresh demo user per dialogue on a reused store and simulator, the
label a click types where the channel has no buttons, and the reading back of state and preferences."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorCore, load_tenant
from bot.flow.catalog import Catalog
from storage import ConversationKey, Store

# Everything a dialogue leaves behind; identity bindings and tokens are not made by these dialogues.
USER_TABLES = (
    "conversations",
    "preferences",
    "signin_attempts",
    "active_sessions",
    "delivery_inbox",
    "reply_outbox",
)


def fresh_demo_state(database: Path, core: SimulatorCore) -> None:
    """Every demo user as the tenant file has them, with no conversation, preferences or history:
    what a new store and simulator would give, without restarting the channel's servers."""
    with sqlite3.connect(database, timeout=10) as connection:
        for table in USER_TABLES:
            connection.execute(f"DELETE FROM {table}")
    core.reset()


def stored_state(store: Store, key: ConversationKey) -> dict[str, Any] | None:
    stored = store.load_conversation(key)
    return dict(stored.state) if stored is not None else None


def saved_preferences(store: Store, email: str) -> dict[str, Any] | None:
    saved = store.load_preferences(email)
    return asdict(saved) if saved is not None else None


_TEAMS = {team.id: team.name for team in load_tenant(DEMO_TENANT_FILE).teams}


def click_labels(value: str, language: str) -> list[str]:
    """The label(s) a choice of this value shows: what a line-mode user types to pick it."""
    catalog = Catalog.default()
    kind, _, argument = value.partition(":")
    keyed = {
        "role": f"label.role.{argument}",
        "call": f"label.call.{argument}",
        "change": f"field.{argument}",
    }
    if kind in keyed:
        return [catalog.text(language, keyed[kind])]
    if kind == "auto":
        return [catalog.text(language, "label.auto_yes" if argument == "yes" else "label.auto_no")]
    if kind == "confirm":
        keys = ("label.save_and_continue", "label.save") if argument == "yes" else ("label.change",)
        return [catalog.text(language, k) for k in keys]
    if kind == "team":
        return [_TEAMS.get(argument, argument)]
    if kind in ("ext", "dn"):
        return [argument]
    if value == "cmd:login":
        return [catalog.text(language, "menu.login")]
    return [argument or value]
