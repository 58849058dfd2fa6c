"""Golden conversations: one YAML file per scenario, user turns in, expected replies and state out.

They run through the real assistant (flow engine, recognizer, SQLite storage, simulator), so a
scenario is exactly what a user of the terminal sees. Expectations:

- ``keys``: the catalog keys of the replies, in order (language independent, exact);
- ``says``: fragments that must appear in the rendered text (in the conversation's language);
- ``says_in_order``: fragments that must appear in this order (a checklist's problems first);
- ``step``: the step the conversation waits on afterwards (null when no dialog is under way);
- ``choices``: the values offered by the last reply that offers any;
- ``fields``: labelled values shown (a summary, a session), as a subset;
- ``answers``: the dialog's answers so far, as a subset.

A scenario's ``after`` checks the saved preferences, the sign-in attempts and the station session.
Its ``setup`` may hold saved preferences, signed-in users, conversations or wrap-ups under way, and
past sign-in attempts (``attempts``: records with ``days_ago``/``minutes_ago`` instead of timestamps,
and a fixed ``tracking_id`` that a turn can ask about).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.assistant import Assistant
from bot.backend.port import CallPreference, LoginRequest, Role
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorBackend, SimulatorCore, load_tenant
from bot.channels.render import plain_lines
from bot.channels.terminal.chat import conversation_key
from bot.flow.engine import FlowEngine, UserMessage
from bot.flow.replies import Reply
from intents.recognizer import Recognizer
from storage import KEEP, AttemptRecord, ConversationKey, PreferencesRecord, Store

SCENARIOS = Path(__file__).parent / "scenarios"


class Rig:
    """One assistant on a fresh database and simulator; `restart()` builds new ones on the same files."""

    def __init__(self, directory: Path) -> None:
        self.database = f"sqlite:///{directory / 'golden.db'}"
        self.simulator_state = directory / "simulator.json"
        self.tenant = load_tenant(DEMO_TENANT_FILE)
        self.build()

    def build(self) -> None:
        self.core = SimulatorCore(self.tenant, self.simulator_state)
        self.store = Store.from_url(self.database)
        self.assistant = Assistant(
            engine=FlowEngine(Recognizer.default()), store=self.store, backend=SimulatorBackend(self.core)
        )

    def restart(self) -> None:
        self.store.close()
        self.build()


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def all_scenarios() -> list[Path]:
    return sorted(SCENARIOS.glob("*.yml"))


def _setup(rig: Rig, setup: dict[str, Any]) -> None:
    for email, values in (setup.get("preferences") or {}).items():
        rig.store.save_preferences(PreferencesRecord(email=email, **values))
    for email, values in (setup.get("signed_in") or {}).items():
        profile = rig.core.profile(email)
        request = LoginRequest(
            Role(values["role"]),
            CallPreference(values["call"]) if values.get("call") else None,
            values.get("number", ""),
            values.get("team"),
        )
        rig.core.station_login(profile.email, request)
    for email in setup.get("in_interaction") or []:
        rig.core.start_interaction(email)
    for email in setup.get("in_wrap_up") or []:
        rig.core.start_wrap_up(email)
    if setup.get("attempts"):
        rig.store.commit_turn(
            key=ConversationKey("golden-setup", "local", "history"),
            state={},
            step=None,
            language=None,
            expected_version=None,
            attempts=[_attempt(values) for values in setup["attempts"]],
            session=KEEP,
        )


def _attempt(values: dict[str, Any]) -> AttemptRecord:
    """A past sign-in attempt, dated relative to now so that reports over the last days include it."""
    fields = dict(values)
    ago = timedelta(days=fields.pop("days_ago", 0), minutes=fields.pop("minutes_ago", 5))
    started = datetime.now(UTC) - ago
    fields.setdefault("channel", "terminal")
    return AttemptRecord(started_at=started, finished_at=started + timedelta(seconds=1), **fields)


def _text(replies: list[Reply]) -> str:
    return "\n".join(line for reply in replies for line in plain_lines(reply))


def check_order(text: str, fragments: list[str], where: str) -> None:
    position = 0
    for fragment in fragments:
        found = text.find(fragment, position)
        assert found >= 0, f"{where}: {fragment!r} not after position {position} in\n{text}"
        position = found + len(fragment)


def _check_turn(rig: Rig, key: Any, replies: list[Reply], expect: dict[str, Any], where: str) -> None:
    keys = [r.key for r in replies]
    if "keys" in expect:
        assert keys == expect["keys"], f"{where}: reply keys\n{_text(replies)}"
    text = _text(replies)
    for fragment in expect.get("says", []):
        assert fragment in text, f"{where}: {fragment!r} not in\n{text}"
    for fragment in expect.get("never_says", []):
        assert fragment not in text, f"{where}: {fragment!r} in\n{text}"
    check_order(text, expect.get("says_in_order", []), where)
    stored = rig.store.load_conversation(key)
    state = stored.state if stored else {}
    if "step" in expect:
        assert state.get("step") == expect["step"], f"{where}: step {state.get('step')!r}\n{text}"
    if "choices" in expect:
        offered = next((r.choices for r in reversed(replies) if r.choices), ())
        assert [c.value for c in offered] == expect["choices"], f"{where}: choices\n{text}"
    if "fields" in expect:
        shown: dict[str, str] = {}
        for reply in replies:
            shown.update(reply.fields)
        for label, value in expect["fields"].items():
            assert shown.get(label) == value, f"{where}: field {label!r} = {shown.get(label)!r}\n{text}"
    for name, value in (expect.get("answers") or {}).items():
        got = state.get("answers", {}).get(name)
        assert got == value, f"{where}: answer {name} = {got!r}"
    if "language" in expect:
        assert state.get("language") == expect["language"], f"{where}: language"


def _check_after(rig: Rig, email: str, after: dict[str, Any], where: str) -> None:
    if "preferences" in after:
        saved = rig.store.load_preferences(email)
        if after["preferences"] is None:
            assert saved is None, f"{where}: preferences should not be saved"
        else:
            assert saved is not None, f"{where}: no preferences saved"
            for name, value in after["preferences"].items():
                assert getattr(saved, name) == value, f"{where}: preference {name} = {getattr(saved, name)!r}"
    if "attempts" in after:
        attempts = list(reversed(rig.store.recent_attempts(email, limit=50)))
        got = [
            {k: asdict(a)[k] for k in expected}
            for a, expected in zip(attempts, after["attempts"], strict=False)
        ]
        assert len(attempts) == len(after["attempts"]) and got == after["attempts"], (
            f"{where}: attempts {attempts}"
        )
        for attempt in attempts:
            assert attempt.tracking_id, f"{where}: attempt without a tracking id"
    if "session" in after:
        session = rig.core.session(email)
        if after["session"] is None:
            assert session is None, f"{where}: still signed in"
        else:
            assert session is not None, f"{where}: not signed in"
            for name, value in after["session"].items():
                assert str(getattr(session, name)) == str(value), f"{where}: session {name}"


async def run_scenario(path: Path, directory: Path) -> None:
    scenario = load(path)
    rig = Rig(directory)
    email = scenario["user"]
    key = conversation_key(email)
    language = scenario.get("lang")
    _setup(rig, scenario.get("setup") or {})
    try:
        for index, turn in enumerate(scenario["turns"], start=1):
            where = f"{path.name} turn {index} ({turn.get('say') or turn.get('click') or 'open'})"
            if turn.get("restart"):
                rig.restart()
            if "say" in turn:
                replies = await rig.assistant.handle(
                    key, UserMessage(text=str(turn["say"])), language=language
                )
            elif "click" in turn:
                replies = await rig.assistant.handle(
                    key, UserMessage(choice=turn["click"]), language=language
                )
            else:
                replies = await rig.assistant.open(key, language=language)
            _check_turn(rig, key, replies, turn.get("expect") or {}, where)
        _check_after(rig, email, scenario.get("after") or {}, path.name)
    finally:
        rig.store.close()


def run(path: Path, directory: Path) -> None:
    asyncio.run(run_scenario(path, directory))
