"""Random conversations through the real runner (engine, recognizer, SQLite, simulator): whatever a
user types or clicks, in any order, the invariants of the sign-in flow hold for every demo user."""

from __future__ import annotations

import asyncio
import re
import shutil
import string
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.assistant import Assistant
from bot.backend.port import Role
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorBackend, SimulatorCore, Tenant, load_tenant
from bot.flow.catalog import Catalog
from bot.flow.engine import FlowEngine, UserMessage
from bot.flow.replies import Reply, ReplyKind
from bot.flow.state import FlowState
from intents.recognizer import Recognizer
from storage import ConversationKey, Store

TENANT: Tenant = load_tenant(DEMO_TENANT_FILE)
USERS = sorted(user.email for user in TENANT.users)
SIGNED_IN_AT_START = {s.agent_id for s in SimulatorCore(TENANT).sessions()}
CATALOG = Catalog.default()
APOLOGIES = {"error.internal", "error.storage", "error.conflict"}

TEXTS = [
    "log me in",
    "sign me in",
    "login",
    "yes",
    "no",
    "ok",
    "cancel",
    "help",
    "restart",
    "?",
    "sign me out",
    "log out",
    "set me to available",
    "set me idle",
    "available",
    "idle",
    "show my preferences",
    "stop logging me in automatically",
    "turn auto login back on",
    "supervisor",
    "supervisor and agent",
    "agent",
    "as an agent",
    "desktop",
    "browser",
    "extension",
    "dial number",
    "extension 1001",
    "extension 2001",
    "1001",
    "2001",
    "2002",
    "+1 212 555 0102",
    "+14155550101",
    "+14155550123",
    "+1 312 555 0140",
    "+1 312 555 0177",
    "+1 555 555 0100",
    "011 61 2 9374 4000",
    "0033 1 99 00 12 34",
    "01 99 00 12 34",
    "415 555 0101",
    "+33 1 99 00 12 34",
    "international",
    "international format",
    "+33",
    "33",
    "FR",
    "+1",
    "999",
    "default",
    "the default",
    "Billing",
    "billing",
    "bill",
    "biling",
    "sales",
    "sales emea",
    "Customer Care",
    "tech support",
    "Support France",
    "Collections",
    "Chat and Email",
    "xyz",
    "change",
    "change the team",
    "the team",
    "team",
    "number",
    "the number",
    "role",
    "auto",
    "continue",
    "continue here",
    "save and continue",
    "submit",
    "don't show again",
    "sign me in as supervisor and agent on extension 1001, team Billing",
    "log me in as agent with dial number +1 212 555 0102 team sales",
    "switch to French",
    "speak English",
    "en français",
    "connecte-moi",
    "déconnecte-moi",
    "oui",
    "non",
    "annuler",
    "aide",
    "bonjour",
    "hello",
    "hi",
    "thanks, bye",
    "I forgot my password",
    "troubleshoot my login",
    "what's the weather",
    "1",
    "2",
    "3",
    "4",
    "5",
    "12",
    "0",
    "99",
    "",
    "   ",
    "\x00\x01\x02",
    "🙂🙂",
    "a" * 2500,
    "null",
    "{}",
    "<script>",
    "'; DROP TABLE x; --",
]
BUTTONS = [
    "cmd:login",
    "cmd:logout",
    "cmd:preferences",
    "cmd:edit_preferences",
    "cmd:autologin_on",
    "cmd:autologin_off",
    "cmd:help",
    "cmd:cancel",
    "cmd:restart",
    "cmd:availability",
    "lang:en",
    "lang:fr",
    "takeover:yes",
    "takeover:no",
    "confirm:yes",
    "confirm:change",
    "change:role",
    "change:call_preference",
    "change:extension",
    "change:dial_number",
    "change:team",
    "change:auto_login",
    "avail:available",
    "avail:idle",
    "role:supervisor",
    "role:supervisor_agent",
    "role:agent",
    "call:desktop",
    "call:extension",
    "call:dial_number",
    "ext:1001",
    "ext:2001",
    "ext:9999",
    "cc:1",
    "cc:33",
    "cc:44",
    "dn:+14155550101",
    "dn:+12125550102",
    "dn:+14155550123",
    "dn:+33199001234",
    "dn:+13125550140",
    "dn:international",
    "dn:other",
    "team:t-billing",
    "team:t-sales-emea",
    "team:t-customer-care",
    "team:t-support-france",
    "team:t-collections",
    "team:t-chat-email",
    "team:t-nope",
    "auto:yes",
    "auto:no",
]


@dataclass(frozen=True)
class Pick:
    """Click the n-th choice of the last replies shown (what a user mostly does)."""

    index: int


Action = UserMessage | Pick

_safe_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="{}"), max_size=40)
ACTIONS: st.SearchStrategy[Action] = st.one_of(
    st.builds(Pick, st.integers(min_value=0, max_value=12)),
    st.builds(Pick, st.integers(min_value=0, max_value=12)),
    st.sampled_from(TEXTS).map(lambda t: UserMessage(text=t)),
    st.sampled_from(BUTTONS).map(lambda c: UserMessage(choice=c)),
    _safe_text.map(lambda t: UserMessage(text=t)),
    st.from_regex(r"(\+|00|011)?[1-9][0-9 ()-]{3,16}", fullmatch=True).map(lambda t: UserMessage(text=t)),
    st.sampled_from(string.digits).map(lambda d: UserMessage(text=d)),
)

_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
# Menu buttons that answer, then ask the pending question again.
MENU_BUTTONS = ("cmd:preferences", "cmd:autologin_on", "cmd:autologin_off")


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database, copied for each example (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    Store.from_url(f"sqlite:///{path}").close()
    return path


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("examples")


def _resolve(action: Action, shown: list[Reply]) -> UserMessage:
    if isinstance(action, UserMessage):
        return action
    choices = [c for r in shown for c in r.choices]
    if not choices:
        return UserMessage(text=str(action.index))
    choice = choices[action.index % len(choices)]
    return UserMessage(text=choice.label, choice=choice.value)


def _check_replies(replies: list[Reply], message: UserMessage) -> None:
    assert replies, f"no reply to {message!r}"
    for reply in replies:
        assert reply.key not in APOLOGIES, f"{message!r} -> {reply.key} (an exception was swallowed)"
        assert reply.text.strip(), f"empty text for {reply.key}"
        assert reply.text != reply.key, f"no catalog message for {reply.key}"
        assert not _PLACEHOLDER.search(reply.text), f"unfilled placeholder in {reply.key}: {reply.text}"
        for choice in reply.choices:
            assert choice.value and choice.label.strip(), reply


def _check_state(store: Store, key: ConversationKey, replies: list[Reply], message: UserMessage) -> None:
    stored = store.load_conversation(key)
    assert stored is not None
    state = FlowState.model_validate(stored.state)
    assert FlowState.model_validate(state.model_dump(mode="json")) == state
    assert state.model_dump(mode="json") == stored.state
    assert stored.step == (state.step.value if state.step else None)
    if state.step is not None:
        prompts = [r for r in replies if r.kind in (ReplyKind.PROMPT, ReplyKind.SUMMARY)]
        assert any(r.step == state.step.value for r in prompts), (
            f"{message!r}: waiting on {state.step.value} without asking; said {[r.key for r in replies]}"
        )
    assert state.email == key.user


def _check_contact_center(core: SimulatorCore, store: Store, email: str) -> None:
    events = core.events(email)
    user = TENANT.user_by_email(email)
    assert user is not None
    logins = [e for e in events if e.kind == "StationLogin"]
    signed_in = 1 if user.ci_user_id in SIGNED_IN_AT_START else 0
    for event in events:
        if event.kind == "StationLogin" and event.ok:
            assert signed_in == 0 or any(e.kind == "AGENT_MULTI_LOGIN" for e in events), (
                f"{email} signed in twice: {[(e.kind, e.ok, e.detail) for e in events]}"
            )
            signed_in = 1
        elif event.kind == "Logout" and event.ok:
            signed_in = 0
    if user.ci_user_id not in SIGNED_IN_AT_START:
        # every session of this user was opened by this very conversation: never taken over from itself
        assert not any(e.kind == "AGENT_MULTI_LOGIN" for e in events), [(e.kind, e.detail) for e in events]
    for event in logins:
        role = event.detail.split(" ")[0]
        if Role(role).needs_team:
            assert "team=-" not in event.detail, f"S10: team-less sign-in as {role}: {event.detail}"
        assert event.reason != "TEAM_REQUIRED"
    attempts = store.recent_attempts(email, limit=1000)
    assert len(attempts) == len(logins), (attempts, logins)
    for attempt in attempts:
        assert attempt.role is not None
        if Role(attempt.role).needs_team:
            assert attempt.team_id, f"S10: attempt without a team: {attempt}"


async def _converse(db: Path, email: str, actions: list[Action], language: str | None) -> None:
    core = SimulatorCore(TENANT)
    store = Store.from_url(f"sqlite:///{db}")
    assistant = Assistant(
        engine=FlowEngine(Recognizer.default()), store=store, backend=SimulatorBackend(core)
    )
    key = ConversationKey("prop", "local", email)
    try:
        shown = await assistant.open(key, language=language)
        for reply in shown:
            assert reply.text.strip()
        for action in actions:
            message = _resolve(action, shown)
            shown = await assistant.handle(key, message, language=language)
            _check_replies(shown, message)
            _check_state(store, key, shown, message)
            _check_contact_center(core, store, email)
            assert len(core.sessions()) <= len(TENANT.users)
    finally:
        await assistant.aclose()


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    email=st.sampled_from(USERS),
    language=st.sampled_from([None, None, "en", "fr"]),
    actions=st.lists(ACTIONS, min_size=1, max_size=25),
)
def test_random_conversations_keep_the_invariants(
    template_db: Path, work_dir: Path, email: str, language: str | None, actions: list[Action]
) -> None:
    db = work_dir / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(template_db, db)
    try:
        asyncio.run(_converse(db, email, actions, language))
    finally:
        db.unlink(missing_ok=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(email=st.sampled_from(USERS), picks=st.lists(st.integers(min_value=0, max_value=3), max_size=20))
def test_clicking_through_choices_keeps_the_invariants(
    template_db: Path, work_dir: Path, email: str, picks: list[int]
) -> None:
    """Mostly buttons, starting with "Sign in": the walks that reach the summary and the backend."""
    db = work_dir / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(template_db, db)
    actions: list[Action] = [UserMessage(choice="cmd:login"), *(Pick(i) for i in picks)]
    try:
        asyncio.run(_converse(db, email, actions, None))
    finally:
        db.unlink(missing_ok=True)


@pytest.mark.parametrize("email", USERS)
def test_every_demo_user_can_be_walked_to_an_outcome(template_db: Path, work_dir: Path, email: str) -> None:
    """Picking the first choice every time ends in an outcome for everyone (a sanity check of the walk)."""
    db = work_dir / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(template_db, db)
    actions: list[Action] = [UserMessage(choice="cmd:login"), *(Pick(0) for _ in range(10))]
    asyncio.run(_converse(db, email, actions, "en"))
    store = Store.from_url(f"sqlite:///{db}")
    try:
        stored = store.load_conversation(ConversationKey("prop", "local", email))
        assert stored is not None
    finally:
        store.close()


# --- bugs the random conversations found ----------------------------------------------------------


def _run_turns(db: Path, email: str, messages: list[UserMessage]) -> list[list[Reply]]:
    async def go() -> list[list[Reply]]:
        store = Store.from_url(f"sqlite:///{db}")
        assistant = Assistant(
            engine=FlowEngine(Recognizer.default()),
            store=store,
            backend=SimulatorBackend(SimulatorCore(TENANT)),
        )
        key = ConversationKey("prop", "local", email)
        try:
            turns = [await assistant.open(key)]
            for message in messages:
                turns.append(await assistant.handle(key, message))
            return turns
        finally:
            await assistant.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("text", ["²", "³", "①"])
def test_a_superscript_digit_is_not_an_internal_error(template_db: Path, work_dir: Path, text: str) -> None:
    db = work_dir / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(template_db, db)
    turns = _run_turns(db, "alex.agent@example.com", [UserMessage(text=text)])
    replies = turns[-1]
    assert [r.key for r in replies if r.key in APOLOGIES] == []
    assert all(r.text.strip() for r in replies)


@pytest.mark.parametrize("button", MENU_BUTTONS)
def test_a_menu_button_clicked_mid_dialog_asks_the_question_again(
    template_db: Path, work_dir: Path, button: str
) -> None:
    db = work_dir / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(template_db, db)
    turns = _run_turns(
        db, "alex.agent@example.com", [UserMessage(choice="cmd:login"), UserMessage(choice=button)]
    )
    assert [r.key for r in turns[1]][-1] == "ask.call_preference"  # the question pending before the click
    replies = turns[2]
    assert any(r.kind is ReplyKind.PROMPT and r.step == "call_preference" for r in replies), [
        r.key for r in replies
    ]
