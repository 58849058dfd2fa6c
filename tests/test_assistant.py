"""The turn runner with a real SQLite store, the real simulator and the real recognizer."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.backend.port import CallPreference, LoginRequest, Outcome, Role, UserProfile
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorBackend, SimulatorCore, Tenant, load_tenant
from bot.flow.engine import FlowEngine, UserMessage
from bot.flow.replies import Reply, ReplyKind
from bot.flow.state import FlowState
from intents.recognizer import Recognizer
from storage import ConversationKey, Store

AVA = "ava.lead@example.com"
KEY = ConversationKey("test", "local", AVA)
TENANT: Tenant = load_tenant(DEMO_TENANT_FILE)

# From the menu to the summary: Supervisor and Agent, dial number +1 212 555 0102, Billing, no auto-login.
TO_CONFIRM = (
    UserMessage(choice="cmd:login"),
    UserMessage(choice="role:supervisor_agent"),
    UserMessage(choice="call:dial_number"),
    UserMessage("+1 212 555 0102"),
    UserMessage("Billing"),
    UserMessage(choice="auto:no"),
)


class Rig:
    def __init__(self, directory: Path, backend: SimulatorBackend | None = None) -> None:
        self.url = f"sqlite:///{directory / 'assistant.db'}"
        self.core = backend.core if backend else SimulatorCore(TENANT)
        self.backend = backend or SimulatorBackend(self.core)
        self.store = Store.from_url(self.url)
        self.assistant = self.build()

    def build(self, store: Store | None = None) -> Assistant:
        return Assistant(
            engine=FlowEngine(Recognizer.default()), store=store or self.store, backend=self.backend
        )

    def state(self, key: ConversationKey = KEY) -> FlowState:
        stored = self.store.load_conversation(key)
        assert stored is not None
        return FlowState.model_validate(stored.state)


def keys(replies: list[Reply]) -> list[str]:
    return [r.key for r in replies]


def text_of(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


async def say_all(
    assistant: Assistant, messages: tuple[UserMessage, ...], key: ConversationKey = KEY
) -> list[Reply]:
    replies: list[Reply] = []
    for message in messages:
        replies = await assistant.handle(key, message)
    return replies


def test_a_conversation_resumes_after_a_restart(tmp_path: Path) -> None:
    async def scenario() -> None:
        rig = Rig(tmp_path)
        await rig.assistant.open(KEY)
        replies = await say_all(rig.assistant, TO_CONFIRM[:3])
        assert "ask.dial_number_with_default" in keys(replies)
        rig.store.close()

        # a new process: a new store and assistant on the same database and simulator
        store = Store.from_url(rig.url)
        assistant = rig.build(store)
        opened = await assistant.open(KEY)
        assert keys(opened)[0] == "resume.where_we_were"
        assert "ask.dial_number_with_default" in keys(opened)
        replies = await say_all(assistant, TO_CONFIRM[3:])
        assert keys(replies)[-1] == "ask.confirm"
        replies = await assistant.handle(KEY, UserMessage(choice="confirm:yes"))
        assert "outcome.login_success" in keys(replies)
        assert rig.core.session(AVA) is not None
        assert len(store.recent_attempts(AVA)) == 1
        await assistant.aclose()

    asyncio.run(scenario())


class _RaceBackend(SimulatorBackend):
    """The simulator, where the first two profile reads wait for each other: both turns then load
    the conversation at the same version before either can claim it."""

    def __init__(self, core: SimulatorCore) -> None:
        super().__init__(core)
        self.armed = False
        self.barrier = threading.Barrier(2, timeout=20)
        self.waiting = 0
        self.lock = threading.Lock()

    async def get_profile(self, email: str) -> UserProfile:
        with self.lock:
            wait = self.armed and self.waiting < 2
            if wait:
                self.waiting += 1
        if wait:
            self.barrier.wait()
        return await super().get_profile(email)


def test_two_processes_confirming_at_once_sign_in_exactly_once(tmp_path: Path) -> None:
    backend = _RaceBackend(SimulatorCore(TENANT))
    rig = Rig(tmp_path, backend)

    async def prepare() -> None:
        await rig.assistant.open(KEY)
        replies = await say_all(rig.assistant, TO_CONFIRM)
        assert keys(replies)[-1] == "ask.confirm"

    asyncio.run(prepare())
    version = rig.store.load_conversation(KEY)
    assert version is not None

    results: dict[int, list[Reply]] = {}
    errors: list[BaseException] = []

    def confirm(index: int) -> None:
        store = Store.from_url(rig.url)  # each "process" has its own connection
        assistant = rig.build(store)
        try:
            results[index] = asyncio.run(assistant.handle(KEY, UserMessage("yes")))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            store.close()

    backend.armed = True
    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert backend.waiting == 2, "both turns should have loaded the conversation before either claimed it"
    assert sorted(results) == [0, 1]

    successes = [i for i, r in results.items() if "outcome.login_success" in keys(r)]
    assert len(successes) == 1, {i: keys(r) for i, r in results.items()}
    other = results[1 - successes[0]]
    assert all(r.text for r in other)
    assert not any(k.startswith("failure.") for k in keys(other)), keys(other)

    assert len(rig.store.recent_attempts(AVA)) == 1
    logins = [e for e in rig.core.events(AVA) if e.kind == "StationLogin"]
    assert [e.ok for e in logins] == [True]
    assert rig.core.session(AVA) is not None
    assert rig.store.active_session(AVA) is not None


@pytest.mark.parametrize(
    "garbage",
    [
        {"step": "no_such_step", "answers": {"role": 42}},
        {"schema_version": "x", "errors": "many", "choices": 7},
        {"answers": "not an object", "in_flight_since": "yesterday"},
        {"step": None, "updated_at": [1, 2, 3]},
    ],
)
def test_an_unreadable_saved_state_starts_a_fresh_conversation(
    tmp_path: Path, garbage: dict[str, object]
) -> None:
    async def scenario() -> None:
        rig = Rig(tmp_path)
        rig.store.commit_turn(key=KEY, state=garbage, step="role", language="en", expected_version=None)
        opened = await rig.assistant.open(KEY)
        assert keys(opened) == ["greet.hello"]
        replies = await rig.assistant.handle(KEY, UserMessage(choice="cmd:login"))
        assert keys(replies) == ["ask.role"]
        assert rig.state().step == "role"
        await rig.assistant.aclose()

    asyncio.run(scenario())


def test_preferences_are_saved_when_the_sign_in_succeeds(tmp_path: Path) -> None:
    async def scenario() -> None:
        rig = Rig(tmp_path)
        await rig.assistant.open(KEY)
        await say_all(rig.assistant, TO_CONFIRM)
        assert rig.store.load_preferences(AVA) is None
        replies = await rig.assistant.handle(KEY, UserMessage(choice="confirm:yes"))
        assert "outcome.login_success" in keys(replies)
        saved = rig.store.load_preferences(AVA)
        assert saved is not None
        assert (saved.role, saved.call_preference, saved.dial_number, saved.team_id, saved.auto_login) == (
            "supervisor_agent",
            "dial_number",
            "+12125550102",
            "t-billing",
            False,
        )
        await rig.assistant.aclose()

    asyncio.run(scenario())


def test_preferences_are_saved_even_when_the_sign_in_fails(tmp_path: Path) -> None:
    async def scenario() -> None:
        rig = Rig(tmp_path)
        await rig.assistant.open(KEY)
        # busy.agent is signed in on +14155550123: the contact center refuses it (DUPLICATE_LOCATION)
        messages = (*TO_CONFIRM[:3], UserMessage("+1 415 555 0123"), *TO_CONFIRM[4:])
        replies = await say_all(rig.assistant, messages)
        assert keys(replies)[-1] == "ask.confirm"
        replies = await rig.assistant.handle(KEY, UserMessage(choice="confirm:yes"))
        assert "failure.DUPLICATE_LOCATION" in keys(replies)
        assert "outcome.login_success" not in keys(replies)
        assert rig.core.session(AVA) is None
        saved = rig.store.load_preferences(AVA)
        assert saved is not None
        assert (saved.role, saved.team_id) == ("supervisor_agent", "t-billing")
        attempts = rig.store.recent_attempts(AVA)
        assert [(a.outcome, a.reason) for a in attempts] == [("failure", "DUPLICATE_LOCATION")]
        assert attempts[0].tracking_id
        # the dialog asks for another number (S7, S11)
        assert rig.state().step == "dial_number"
        await rig.assistant.aclose()

    asyncio.run(scenario())


class _BrokenLoginBackend(SimulatorBackend):
    """The contact center's station login blows up with an unexpected error (an outside fault)."""

    async def station_login(
        self, user: UserProfile, request: LoginRequest, *, take_over: bool = False
    ) -> Outcome:
        raise RuntimeError("kaboom: socket exploded at 0xdeadbeef")


def test_an_exception_from_the_backend_becomes_an_explained_failure(tmp_path: Path) -> None:
    async def scenario() -> None:
        rig = Rig(tmp_path, _BrokenLoginBackend(SimulatorCore(TENANT)))
        await rig.assistant.open(KEY)
        await say_all(rig.assistant, TO_CONFIRM)
        replies = await rig.assistant.handle(KEY, UserMessage(choice="confirm:yes"))
        shown = text_of(replies)
        assert replies and all(r.text.strip() for r in replies)
        for leak in ("Traceback", "RuntimeError", "kaboom", "0xdeadbeef", 'File "'):
            assert leak not in shown
        assert any(r.kind in (ReplyKind.FAILURE, ReplyKind.ERROR) for r in replies), keys(replies)
        assert "outcome.login_success" not in keys(replies)
        assert rig.core.session(AVA) is None
        attempts = rig.store.recent_attempts(AVA)
        assert [a.outcome for a in attempts] == ["failure"]
        # the conversation goes on: it waits on a step and answers the next message
        state = rig.state()
        assert state.in_flight is None
        assert state.step is not None
        later = await rig.assistant.handle(KEY, UserMessage("cancel"))
        assert keys(later)[0] == "cancel.done"
        assert rig.state().step is None
        await rig.assistant.aclose()

    asyncio.run(scenario())


class _BrokenProfileBackend(SimulatorBackend):
    async def get_profile(self, email: str) -> UserProfile:
        raise RuntimeError("profile service melted")


def test_an_exception_reading_the_profile_is_explained_not_raised(tmp_path: Path) -> None:
    async def scenario() -> None:
        rig = Rig(tmp_path, _BrokenProfileBackend(SimulatorCore(TENANT)))
        for message in (UserMessage("log me in"), UserMessage(choice="cmd:login")):
            replies = await rig.assistant.handle(KEY, message)
            assert replies and all(r.text.strip() for r in replies)
            assert "melted" not in text_of(replies) and "RuntimeError" not in text_of(replies)
        await rig.assistant.aclose()

    asyncio.run(scenario())


def test_an_unknown_user_is_told_so(tmp_path: Path) -> None:
    async def scenario() -> None:
        rig = Rig(tmp_path)
        key = ConversationKey("test", "local", "nobody@example.com")
        replies = await rig.assistant.handle(key, UserMessage(choice="cmd:login"))
        assert keys(replies) == ["user.unknown"]
        assert "nobody@example.com" in replies[0].text
        await rig.assistant.aclose()

    asyncio.run(scenario())


def _crash_midway(rig: Rig, age: timedelta) -> None:
    """What a process that died after claiming the sign-in (before recording its outcome) left."""
    stored = rig.store.load_conversation(KEY)
    assert stored is not None
    state = FlowState.model_validate(stored.state)
    state.step = None
    state.in_flight = "login"
    state.in_flight_since = datetime.now(UTC) - age
    rig.store.commit_turn(
        key=KEY,
        state=state.model_dump(mode="json"),
        step=None,
        language=state.language,
        expected_version=stored.version,
    )


@pytest.mark.parametrize("signed_in_before_the_crash", [False, True])
def test_after_a_crash_the_next_turn_checks_the_session_instead_of_signing_in_again(
    tmp_path: Path, signed_in_before_the_crash: bool
) -> None:
    async def scenario() -> None:
        rig = Rig(tmp_path)
        await rig.assistant.open(KEY)
        await say_all(rig.assistant, TO_CONFIRM)
        if signed_in_before_the_crash:
            rig.core.station_login(
                AVA,
                LoginRequest(Role.SUPERVISOR_AGENT, CallPreference.DIAL_NUMBER, "+12125550102", "t-billing"),
            )
        _crash_midway(rig, timedelta(minutes=5))
        replies = await rig.assistant.handle(KEY, UserMessage("yes"))
        expected = "reconcile.signed_in" if signed_in_before_the_crash else "reconcile.not_signed_in"
        assert keys(replies) == [expected]
        logins = [e for e in rig.core.events(AVA) if e.kind == "StationLogin"]
        assert len(logins) == (1 if signed_in_before_the_crash else 0)
        state = rig.state()
        assert state.in_flight is None and state.step is None
        await rig.assistant.aclose()

    asyncio.run(scenario())


@pytest.mark.parametrize("signed_in_before_the_crash", [False, True])
def test_settling_after_a_crash_tells_the_outcome_once_the_grace_has_passed(
    tmp_path: Path, signed_in_before_the_crash: bool
) -> None:
    """`Assistant.settle`, what a restarted Slack server runs for a conversation its predecessor
    left with a call in flight: nothing while the call may be under way, then a session check
    (never a second sign-in) and its outcome; nothing more after that, nor without a call."""

    async def scenario() -> None:
        rig = Rig(tmp_path)
        rig.assistant.in_flight_grace = timedelta(seconds=30)
        assert await rig.assistant.settle(KEY) == []  # never talked: nothing in flight
        assert rig.assistant.interrupted_call_due(KEY) is None
        await rig.assistant.open(KEY)
        await say_all(rig.assistant, TO_CONFIRM)
        if signed_in_before_the_crash:
            rig.core.station_login(
                AVA,
                LoginRequest(Role.SUPERVISOR_AGENT, CallPreference.DIAL_NUMBER, "+12125550102", "t-billing"),
            )
        _crash_midway(rig, timedelta(seconds=10))
        due = rig.assistant.interrupted_call_due(KEY)
        assert due is not None and timedelta(seconds=19) < due - datetime.now(UTC) <= timedelta(seconds=20)
        version = rig.store.load_conversation(KEY).version  # type: ignore[union-attr]
        assert await rig.assistant.settle(KEY) == []  # may still be under way
        assert rig.store.load_conversation(KEY).version == version  # type: ignore[union-attr]

        _crash_midway(rig, timedelta(seconds=31))
        replies = await rig.assistant.settle(KEY)
        expected = "reconcile.signed_in" if signed_in_before_the_crash else "reconcile.not_signed_in"
        assert keys(replies) == [expected]
        assert rig.state().in_flight is None and rig.assistant.interrupted_call_due(KEY) is None
        assert await rig.assistant.settle(KEY) == []  # said once
        logins = [e for e in rig.core.events(AVA) if e.kind == "StationLogin"]
        assert len(logins) == (1 if signed_in_before_the_crash else 0)
        # The sign-in whose turn died is in the history, with the outcome the check found (T1-T9).
        [attempt] = rig.store.recent_attempts(AVA)
        assert (attempt.outcome, attempt.reason) == (
            ("success", None) if signed_in_before_the_crash else ("failure", "CONNECTION_LOST")
        )
        assert (attempt.role, attempt.call_preference, attempt.dial_number, attempt.team_id) == (
            "supervisor_agent",
            "dial_number",
            "+12125550102",
            "t-billing",
        )
        assert bool(attempt.tracking_id) is signed_in_before_the_crash
        await rig.assistant.aclose()

    asyncio.run(scenario())


def test_opening_the_chat_after_a_crash_mid_sign_in_tells_how_it_ended(tmp_path: Path) -> None:
    """The terminal (or Slack's Messages tab) opened again after the process died during a sign-in:
    "still working" while the call may be under way, then its outcome, not a greeting."""

    async def scenario() -> None:
        rig = Rig(tmp_path)
        await rig.assistant.open(KEY)
        await say_all(rig.assistant, TO_CONFIRM)
        rig.core.station_login(
            AVA, LoginRequest(Role.SUPERVISOR_AGENT, CallPreference.DIAL_NUMBER, "+12125550102", "t-billing")
        )
        _crash_midway(rig, timedelta(seconds=5))
        restarted = rig.build()
        assert keys(await restarted.open(KEY)) == ["busy.still_working"]
        _crash_midway(rig, timedelta(minutes=5))
        assert keys(await restarted.open(KEY)) == ["reconcile.signed_in"]
        assert keys(await restarted.open(KEY))[0] == "greet.hello"  # settled: the usual greeting again
        assert len([e for e in rig.core.events(AVA) if e.kind == "StationLogin"]) == 1
        await restarted.aclose()

    asyncio.run(scenario())


def test_a_call_still_under_way_is_not_sent_again(tmp_path: Path) -> None:
    async def scenario() -> None:
        rig = Rig(tmp_path)
        await rig.assistant.open(KEY)
        await say_all(rig.assistant, TO_CONFIRM)
        _crash_midway(rig, timedelta(seconds=1))
        for message in (UserMessage("yes"), UserMessage(choice="confirm:yes"), UserMessage("log me in")):
            replies = await rig.assistant.handle(KEY, message)
            assert keys(replies) == ["busy.still_working"]
        assert [e for e in rig.core.events(AVA) if e.kind == "StationLogin"] == []
        await rig.assistant.aclose()

    asyncio.run(scenario())


def test_a_session_taken_over_from_another_chat_is_told_to_the_first_one(tmp_path: Path) -> None:
    """S12: the chat that held the session hears, at its next turn, that it continues elsewhere."""

    async def scenario() -> None:
        rig = Rig(tmp_path)
        replies = await say_all(rig.assistant, (*TO_CONFIRM, UserMessage(choice="confirm:yes")))
        assert "outcome.login_success" in keys(replies)
        holder = rig.store.active_session(AVA)
        assert holder is not None and tuple(holder.key) == tuple(KEY)

        other = ConversationKey("slack", "T1", AVA)
        replies = await rig.assistant.handle(other, UserMessage("log me in"))
        assert keys(replies)[:2] == ["session.elsewhere", "ask.take_over"]
        replies = await rig.assistant.handle(other, UserMessage(choice="takeover:yes"))
        assert "outcome.take_over_success" in keys(replies)
        holder = rig.store.active_session(AVA)
        assert holder is not None and tuple(holder.key) == tuple(other)

        replies = await rig.assistant.handle(KEY, UserMessage("hello"))
        assert keys(replies)[0] == "session.taken_over"
        replies = await rig.assistant.handle(KEY, UserMessage("hello"))
        assert "session.taken_over" not in keys(replies)  # said once

    asyncio.run(scenario())


def test_a_retried_delivery_is_answered_once(tmp_path: Path) -> None:
    """X2: a platform retry (same delivery id) is recognised and never processed twice."""

    async def scenario() -> None:
        rig = Rig(tmp_path)
        await say_all(rig.assistant, TO_CONFIRM)
        confirm = UserMessage(choice="confirm:yes", delivery_id="Ev0001")
        first = await rig.assistant.handle(KEY, confirm)
        assert "outcome.login_success" in keys(first)
        version = rig.store.load_conversation(KEY).version  # type: ignore[union-attr]
        again = await rig.assistant.handle(KEY, confirm)
        assert again == []
        assert rig.store.load_conversation(KEY).version == version  # type: ignore[union-attr]
        assert len(rig.store.recent_attempts(AVA)) == 1

    asyncio.run(scenario())
