"""The storage contract: what every backend (SQLite, PostgreSQL) must do identically."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import SQLAlchemyError

from storage import (
    KEEP,
    ActiveSessionRecord,
    AttemptRecord,
    ConversationKey,
    InboundRecord,
    OutboundRecord,
    PreferencesRecord,
    StorageError,
    Store,
    StoredConversation,
    VersionConflict,
)
from tests.storage.conftest import Backend, FakeClock

KEY = ConversationKey("webex:room-1", "org-1", "user-a")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def attempt(
    email: str = "ana@example.com",
    *,
    at: datetime = T0,
    outcome: str = "success",
    tracking_id: str | None = None,
    **fields: object,
) -> AttemptRecord:
    return AttemptRecord(
        email=email,
        channel="webex",
        outcome=outcome,
        started_at=at,
        finished_at=at + timedelta(milliseconds=850),
        tracking_id=tracking_id,
        duration_ms=850,
        **fields,  # type: ignore[arg-type]
    )


def full_preferences(email: str = "ana@example.com") -> PreferencesRecord:
    return PreferencesRecord(
        email=email,
        role="supervisor_agent",
        call_preference="dial_number",
        extension=None,
        dial_number="+14155550100",
        country_code="US",
        team_id="team-42",
        auto_login=True,
        language="es",
        e911_acknowledged=True,
    )


def new_conversation(store: Store, key: ConversationKey = KEY, state: dict[str, object] | None = None) -> int:
    return store.commit_turn(
        key=key, state=state or {"n": 0}, step="start", language="en", expected_version=None
    )


# -- conversations --------------------------------------------------------------------------------


def test_unknown_conversation_loads_as_none(store: Store) -> None:
    assert store.load_conversation(KEY) is None


def test_conversation_round_trip(store: Store, clock: FakeClock) -> None:
    state = {"slots": {"role": "agent", "team": None}, "history": [1, 2.5, True], "note": "olá"}
    version = store.commit_turn(key=KEY, state=state, step="ask_team", language="pt", expected_version=None)

    loaded = store.load_conversation(KEY)
    assert version == 1
    assert loaded == StoredConversation(
        key=KEY, state=state, step="ask_team", language="pt", version=1, updated_at=clock.now
    )
    assert loaded.updated_at.tzinfo == UTC


def test_key_may_be_a_plain_tuple(store: Store) -> None:
    new_conversation(store, key=ConversationKey(*KEY))
    loaded = store.load_conversation(("webex:room-1", "org-1", "user-a"))  # type: ignore[arg-type]
    assert loaded is not None
    assert loaded.key == KEY
    assert isinstance(loaded.key, ConversationKey)


def test_conversations_are_keyed_by_user_not_channel(store: Store) -> None:
    other_user = KEY._replace(user="user-b")
    other_workspace = KEY._replace(workspace="org-2")
    new_conversation(store, KEY, {"who": "a"})
    new_conversation(store, other_user, {"who": "b"})
    new_conversation(store, other_workspace, {"who": "a elsewhere"})

    store.commit_turn(key=KEY, state={"who": "a", "turn": 2}, step=None, language=None, expected_version=1)

    a, b, elsewhere = (store.load_conversation(k) for k in (KEY, other_user, other_workspace))
    assert a is not None and b is not None and elsewhere is not None
    assert (a.state, a.version) == ({"who": "a", "turn": 2}, 2)
    assert (b.state, b.version, b.step) == ({"who": "b"}, 1, "start")
    assert (elsewhere.state, elsewhere.version) == ({"who": "a elsewhere"}, 1)


def test_each_commit_increments_the_version_and_replaces_the_state(store: Store, clock: FakeClock) -> None:
    version = new_conversation(store)
    for n in range(1, 4):
        clock.advance(60)
        version = store.commit_turn(
            key=KEY, state={"n": n}, step=None if n == 3 else f"s{n}", language="fr", expected_version=version
        )
        assert version == n + 1

    loaded = store.load_conversation(KEY)
    assert loaded is not None
    assert (loaded.state, loaded.step, loaded.language, loaded.version) == ({"n": 3}, None, "fr", 4)
    assert loaded.updated_at == clock.now


def test_stale_version_conflicts_and_writes_nothing_of_the_turn(store: Store) -> None:
    new_conversation(store)
    store.commit_turn(key=KEY, state={"n": 1}, step="s1", language="en", expected_version=1)
    store.save_preferences(PreferencesRecord(email="ana@example.com", role="agent"))

    with pytest.raises(VersionConflict) as conflict:
        store.commit_turn(
            key=KEY,
            state={"n": "stale"},
            step="stale",
            language="de",
            expected_version=1,
            preferences=full_preferences(),
            attempts=[attempt(tracking_id="trk-stale")],
            session=ActiveSessionRecord("ana@example.com", KEY, "agent-session-1", T0),
        )

    assert conflict.value.key == KEY and conflict.value.expected_version == 1
    loaded = store.load_conversation(KEY)
    assert loaded is not None
    assert (loaded.state, loaded.step, loaded.version) == ({"n": 1}, "s1", 2)
    prefs = store.load_preferences("ana@example.com")
    assert prefs is not None and prefs.role == "agent" and prefs.team_id is None
    assert store.recent_attempts("ana@example.com") == []
    assert store.attempt_by_tracking_id("trk-stale") is None
    assert store.active_session("ana@example.com") is None


def test_inserting_an_existing_conversation_conflicts_and_writes_nothing(store: Store) -> None:
    new_conversation(store, state={"first": True})

    with pytest.raises(VersionConflict):
        store.commit_turn(
            key=KEY,
            state={"second": True},
            step=None,
            language=None,
            expected_version=None,
            preferences=full_preferences(),
            attempts=[attempt()],
        )

    loaded = store.load_conversation(KEY)
    assert loaded is not None and loaded.state == {"first": True} and loaded.version == 1
    assert store.load_preferences("ana@example.com") is None
    assert store.recent_attempts("ana@example.com") == []


def test_expecting_a_version_of_a_missing_conversation_conflicts(store: Store) -> None:
    with pytest.raises(VersionConflict):
        store.commit_turn(key=KEY, state={}, step=None, language=None, expected_version=3)
    assert store.load_conversation(KEY) is None


def test_a_failing_turn_is_rolled_back_whole(store: Store) -> None:
    new_conversation(store)
    store.save_preferences(PreferencesRecord(email="ana@example.com", role="agent"))

    with pytest.raises(StorageError) as failure:
        store.commit_turn(
            key=KEY,
            state={"n": "lost"},
            step="lost",
            language=None,
            expected_version=1,
            preferences=full_preferences(),
            attempts=[attempt(tracking_id="trk-ok"), attempt(outcome="maybe")],  # violates the CHECK
        )

    assert isinstance(failure.value.__cause__, SQLAlchemyError)
    message = str(failure.value).lower()
    assert "insert" not in message and "signin_attempts" not in message  # no SQL for the user
    loaded = store.load_conversation(KEY)
    assert loaded is not None and (loaded.state, loaded.version) == ({"n": 0}, 1)
    prefs = store.load_preferences("ana@example.com")
    assert prefs is not None and prefs.role == "agent"
    assert store.attempt_by_tracking_id("trk-ok") is None

    # The store is still usable after the failure, and the version it reports is still valid.
    assert store.commit_turn(key=KEY, state={"n": 1}, step=None, language=None, expected_version=1) == 2


def test_a_session_pointing_at_an_unknown_conversation_is_refused(store: Store) -> None:
    new_conversation(store)
    nowhere = ConversationKey("slack:C1", "T1", "U1")

    with pytest.raises(StorageError):
        store.commit_turn(
            key=KEY,
            state={"n": 1},
            step=None,
            language=None,
            expected_version=1,
            session=ActiveSessionRecord("ana@example.com", nowhere, "agent-session-1", T0),
        )

    assert store.active_session("ana@example.com") is None
    loaded = store.load_conversation(KEY)
    assert loaded is not None and loaded.version == 1


def test_state_that_is_not_json_is_refused_before_writing(store: Store) -> None:
    with pytest.raises(StorageError):
        store.commit_turn(key=KEY, state={"when": T0}, step=None, language=None, expected_version=None)
    with pytest.raises(StorageError):
        store.commit_turn(key=KEY, state={"x": float("nan")}, step=None, language=None, expected_version=None)
    assert store.load_conversation(KEY) is None


def test_unicode_and_a_100_kb_state_survive(store: Store) -> None:
    text = 'Olá ¿qué tal? Grüße — 你好 — مرحبا — 🙂👩🏽‍💻 — \x00\u2028 — "quotes" \\ back'
    state = {
        "text": text,
        "emoji_key_🙂": ["ß", "İ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"],
        "blob": "x" * 100_000,
        "items": [{"i": i, "t": text} for i in range(50)],
    }
    store.commit_turn(key=KEY, state=state, step="ñ-step", language="zh-Hant", expected_version=None)

    loaded = store.load_conversation(KEY)
    assert loaded is not None
    assert loaded.state == state
    assert loaded.step == "ñ-step"


def test_unicode_keys_are_distinct(store: Store) -> None:
    cafe_composed, cafe_decomposed = KEY._replace(user="café"), KEY._replace(user="cafe\u0301")
    new_conversation(store, cafe_composed, {"form": "NFC"})
    new_conversation(store, cafe_decomposed, {"form": "NFD"})
    composed, decomposed = store.load_conversation(cafe_composed), store.load_conversation(cafe_decomposed)
    assert composed is not None and composed.state == {"form": "NFC"}
    assert decomposed is not None and decomposed.state == {"form": "NFD"}


# -- preferences ----------------------------------------------------------------------------------


def test_preferences_round_trip_through_a_turn(store: Store, clock: FakeClock) -> None:
    assert store.load_preferences("ana@example.com") is None
    store.commit_turn(
        key=KEY, state={}, step=None, language=None, expected_version=None, preferences=full_preferences()
    )

    assert store.load_preferences("ana@example.com") == dataclasses.replace(
        full_preferences(), updated_at=clock.now
    )


def test_preferences_upsert_replaces_every_field_and_restamps(store: Store, clock: FakeClock) -> None:
    store.save_preferences(full_preferences())
    first = store.load_preferences("ana@example.com")
    assert first is not None

    clock.advance(3600)
    changed = dataclasses.replace(first, call_preference="desktop", dial_number=None, auto_login=False)
    store.save_preferences(changed)  # carries the old updated_at: the store must ignore it

    second = store.load_preferences("ana@example.com")
    assert second == dataclasses.replace(changed, updated_at=clock.now)
    assert second is not None and second.updated_at > first.updated_at  # type: ignore[operator]


def test_preferences_defaults_round_trip(store: Store) -> None:
    store.save_preferences(PreferencesRecord(email="bo@example.com"))
    loaded = store.load_preferences("bo@example.com")
    assert loaded is not None
    assert dataclasses.replace(loaded, updated_at=None) == PreferencesRecord(email="bo@example.com")
    assert loaded.auto_login is False and loaded.e911_acknowledged is False
    assert store.load_preferences("ana@example.com") is None


# -- sign-in attempts -----------------------------------------------------------------------------


def test_attempt_round_trip(store: Store) -> None:
    record = AttemptRecord(
        email="ana@example.com",
        channel="webex",
        outcome="failure",
        started_at=T0,
        finished_at=T0 + timedelta(seconds=2, microseconds=5),
        reason="DUPLICATE_LOCATION",
        tracking_id="trk-1",
        role="agent",
        call_preference="extension",
        dial_number="1001",
        team_id="team-7",
        automatic=True,
        duration_ms=2000,
    )
    store.commit_turn(key=KEY, state={}, step=None, language=None, expected_version=None, attempts=[record])

    [loaded] = store.recent_attempts("ana@example.com")
    assert loaded.id is not None
    assert loaded == dataclasses.replace(record, id=loaded.id)
    assert loaded.started_at.tzinfo == UTC and loaded.finished_at.tzinfo == UTC


def test_recent_attempts_are_newest_first_per_email_and_limited(store: Store) -> None:
    version = new_conversation(store)
    for minute in (5, 1, 3):  # appended out of order, over two turns
        version = store.commit_turn(
            key=KEY,
            state={},
            step=None,
            language=None,
            expected_version=version,
            attempts=[attempt(at=T0 + timedelta(minutes=minute), tracking_id=f"m{minute}")],
        )
    store.commit_turn(
        key=KEY,
        state={},
        step=None,
        language=None,
        expected_version=version,
        attempts=[attempt("bo@example.com", at=T0 + timedelta(minutes=9))],
    )

    recent = store.recent_attempts("ana@example.com")
    assert [a.tracking_id for a in recent] == ["m5", "m3", "m1"]
    assert [a.tracking_id for a in store.recent_attempts("ana@example.com", limit=2)] == ["m5", "m3"]
    assert store.recent_attempts("ana@example.com", limit=0) == []
    assert [a.email for a in store.recent_attempts("bo@example.com")] == ["bo@example.com"]
    assert store.recent_attempts("nobody@example.com") == []


def test_recent_attempts_break_ties_by_insertion(store: Store) -> None:
    store.commit_turn(
        key=KEY,
        state={},
        step=None,
        language=None,
        expected_version=None,
        attempts=[attempt(tracking_id="first"), attempt(tracking_id="second")],  # same started_at
    )
    assert [a.tracking_id for a in store.recent_attempts("ana@example.com")] == ["second", "first"]


def test_attempts_since_is_inclusive_oldest_first_and_zone_independent(store: Store) -> None:
    store.commit_turn(
        key=KEY,
        state={},
        step=None,
        language=None,
        expected_version=None,
        attempts=[
            attempt(at=T0 + timedelta(hours=2), tracking_id="late"),
            attempt(at=T0 - timedelta(seconds=1), tracking_id="before"),
            attempt("bo@example.com", at=T0, tracking_id="exact"),
            attempt(at=T0 + timedelta(hours=1), tracking_id="middle"),
        ],
    )

    assert [a.tracking_id for a in store.attempts_since(T0)] == ["exact", "middle", "late"]
    # The same instant written in UTC+02:00 selects the same rows.
    since_local = (T0 + timedelta(minutes=30)).astimezone(timezone(timedelta(hours=2)))
    assert [a.tracking_id for a in store.attempts_since(since_local)] == ["middle", "late"]
    assert store.attempts_since(T0 + timedelta(days=1)) == []


def test_attempt_datetimes_in_other_zones_come_back_as_utc(store: Store) -> None:
    local = datetime(2026, 3, 1, 11, 0, tzinfo=timezone(timedelta(hours=2)))
    store.commit_turn(
        key=KEY,
        state={},
        step=None,
        language=None,
        expected_version=None,
        attempts=[attempt(at=local, tracking_id="tz")],
    )
    loaded = store.attempt_by_tracking_id("tz")
    assert loaded is not None
    assert loaded.started_at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert loaded.started_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.commit_turn(
            key=KEY,
            state={},
            step=None,
            language=None,
            expected_version=None,
            attempts=[attempt(at=datetime(2026, 3, 1, 9, 0))],
        )
    with pytest.raises(ValueError, match="naive"):
        store.attempts_since(datetime(2026, 3, 1))
    assert store.load_conversation(KEY) is None


def test_attempt_by_tracking_id(store: Store) -> None:
    store.commit_turn(
        key=KEY,
        state={},
        step=None,
        language=None,
        expected_version=None,
        attempts=[
            attempt(tracking_id="trk-a", reason=None),
            attempt("bo@example.com", outcome="failure", tracking_id="trk-b", reason="INVALID_DIAL_NUMBER"),
            attempt(tracking_id=None),
        ],
    )

    found = store.attempt_by_tracking_id("trk-b")
    assert found is not None
    assert (found.email, found.outcome, found.reason) == ("bo@example.com", "failure", "INVALID_DIAL_NUMBER")
    assert store.attempt_by_tracking_id("trk-missing") is None


# -- active sessions ------------------------------------------------------------------------------


def test_active_session_set_replace_keep_and_clear(store: Store) -> None:
    other = KEY._replace(channel="slack:C9", user="U9")
    version = new_conversation(store)
    new_conversation(store, other)
    first = ActiveSessionRecord("ana@example.com", KEY, "agent-session-1", T0)

    version = store.commit_turn(
        key=KEY, state={}, step=None, language=None, expected_version=version, session=first
    )
    assert store.active_session("ana@example.com") == first

    version = store.commit_turn(key=KEY, state={}, step=None, language=None, expected_version=version)
    assert store.active_session("ana@example.com") == first  # KEEP is the default

    # Signing in again from another conversation moves the one row.
    moved = ActiveSessionRecord("ana@example.com", other, "agent-session-2", T0 + timedelta(hours=1))
    store.commit_turn(key=other, state={}, step=None, language=None, expected_version=1, session=moved)
    assert store.active_session("ana@example.com") == moved

    # Clearing by email works from any conversation.
    store.commit_turn(
        key=KEY,
        state={},
        step=None,
        language=None,
        expected_version=version,
        session=None,
        session_email="ana@example.com",
    )
    assert store.active_session("ana@example.com") is None


def test_clearing_without_an_email_clears_only_this_conversations_sessions(store: Store) -> None:
    other = KEY._replace(user="user-b")
    new_conversation(store)
    new_conversation(store, other)
    store.commit_turn(
        key=KEY,
        state={},
        step=None,
        language=None,
        expected_version=1,
        session=ActiveSessionRecord("ana@example.com", KEY, "s-ana", T0),
    )
    store.commit_turn(
        key=other,
        state={},
        step=None,
        language=None,
        expected_version=1,
        session=ActiveSessionRecord("bo@example.com", other, "s-bo", T0),
    )

    store.commit_turn(key=KEY, state={}, step=None, language=None, expected_version=2, session=None)

    assert store.active_session("ana@example.com") is None
    bo = store.active_session("bo@example.com")
    assert bo is not None and bo.key == other


def test_session_email_must_match_the_record(store: Store) -> None:
    with pytest.raises(ValueError):
        store.commit_turn(
            key=KEY,
            state={},
            step=None,
            language=None,
            expected_version=None,
            session=ActiveSessionRecord("ana@example.com", KEY, "s", T0),
            session_email="bo@example.com",
        )
    assert store.load_conversation(KEY) is None


def test_keep_is_a_singleton_sentinel() -> None:
    assert repr(KEEP) == "KEEP"
    assert KEEP is not None


# -- the durable inbox and the reply outbox (issue 7) ---------------------------------------------


def inbound(
    delivery_id: str = "Ev1", *, subject: str = "U1", owner: str = "proc-a", **fields: object
) -> InboundRecord:
    values: dict[str, object] = {
        "channel": "slack",
        "workspace": "T1",
        "subject": subject,
        "delivery_id": delivery_id,
        "payload": {"text": "sign me in", "choice": None, "destination": {"channel": "D1"}},
        "owner": owner,
        **fields,
    }
    return InboundRecord(**values)  # type: ignore[arg-type]


def outbound(
    delivery_id: str | None = "Ev1", *, owner: str = "proc-a", key: ConversationKey = KEY
) -> OutboundRecord:
    return OutboundRecord(
        key=key,
        delivery_id=delivery_id,
        payload={"replies": [{"key": "ask.role"}], "note": "olá"},
        owner=owner,
    )


def commit_with_replies(store: Store, delivery_id: str | None = "Ev1", *, owner: str = "proc-a") -> int:
    current = store.load_conversation(KEY)
    return store.commit_turn(
        key=KEY,
        state={"delivery": delivery_id},
        step="role",
        language="en",
        expected_version=current.version if current else None,
        outbox=outbound(delivery_id, owner=owner),
    )


def test_a_delivery_is_recorded_once_pending_and_claimed_by_its_process(
    store: Store, clock: FakeClock
) -> None:
    first = store.record_inbound(inbound())
    assert first is not None
    assert store.record_inbound(inbound(owner="proc-b")) is None  # Slack's retry of the same delivery
    other = store.record_inbound(inbound(subject="U2"))  # the same id from another user is another delivery
    assert other is not None and other != first

    loaded = store.load_inbound(first)
    assert loaded == dataclasses.replace(
        inbound(), id=first, status="pending", claims=1, received_at=clock.now, claimed_at=clock.now
    )
    assert store.load_inbound(first + 1000) is None


def test_deliveries_recorded_together_keep_their_order_and_skip_the_copies(
    store: Store, clock: FakeClock
) -> None:
    earlier = store.record_inbound(inbound("Ev0"))
    ids = store.record_inbounds(
        [inbound("Ev1"), inbound("Ev0"), inbound("Ev2", subject="U2"), inbound("Ev1", owner="proc-b")]
    )
    first, again, second, copy = ids
    assert again is None and copy is None  # already there, or a later copy in the same batch
    assert first is not None and second is not None and len({earlier, first, second}) == 3
    assert [(e.id, e.delivery_id) for e in store.pending_inbound(channel="slack")] == [
        (earlier, "Ev0"),
        (first, "Ev1"),
        (second, "Ev2"),
    ]
    assert store.record_inbounds([]) == []


def test_a_batch_with_one_unstorable_delivery_records_none_of_them(store: Store) -> None:
    with pytest.raises(StorageError):
        store.record_inbounds([inbound("Ev1"), inbound("Ev2", payload={"when": datetime.now(UTC)})])
    assert store.pending_inbound(channel="slack") == []


def test_a_delivery_that_is_not_json_is_refused(store: Store) -> None:
    with pytest.raises(StorageError):
        store.record_inbound(inbound(payload={"when": datetime.now(UTC)}))
    assert store.pending_inbound(channel="slack") == []


def test_finished_deliveries_are_no_longer_pending(store: Store, clock: FakeClock) -> None:
    entry = store.record_inbound(inbound())
    assert entry is not None
    clock.advance(2)
    store.finish_inbound(entry)
    store.finish_inbound(entry)  # idempotent
    loaded = store.load_inbound(entry)
    assert loaded is not None and (loaded.status, loaded.finished_at) == ("done", clock.now)
    assert store.pending_inbound(channel="slack") == []


def test_pending_deliveries_are_filtered_by_channel_owner_and_age_oldest_first(
    store: Store, clock: FakeClock
) -> None:
    old = store.record_inbound(inbound("Ev1", owner="dead"))
    clock.advance(60)
    mine = store.record_inbound(inbound("Ev2", owner="me"))
    fresh = store.record_inbound(inbound("Ev3", owner="dead"))
    store.record_inbound(inbound("Ev4", owner="dead", channel="webex"))

    assert [e.id for e in store.pending_inbound(channel="slack")] == [old, mine, fresh]
    assert [e.id for e in store.pending_inbound(channel="slack", exclude_owner="me")] == [old, fresh]
    assert [
        e.id
        for e in store.pending_inbound(
            channel="slack", exclude_owner="me", claimed_before=clock.now - timedelta(seconds=30)
        )
    ] == [old]
    assert [e.id for e in store.pending_inbound(channel="slack", limit=1)] == [old]


def test_of_two_processes_claiming_a_delivery_exactly_one_wins(backend: Backend, clock: FakeClock) -> None:
    first, second = backend.open(clock=clock), backend.open(clock=clock)
    entry = first.record_inbound(inbound(owner="dead"))
    assert entry is not None
    [seen_by_first] = first.pending_inbound(channel="slack")
    [seen_by_second] = second.pending_inbound(channel="slack")

    clock.advance(45)
    won = second.claim_inbound(seen_by_second, owner="proc-b")
    assert won is not None and (won.owner, won.claims, won.claimed_at) == ("proc-b", 2, clock.now)
    assert first.claim_inbound(seen_by_first, owner="proc-c") is None  # read before the other's claim
    assert first.load_inbound(entry) == won

    second.finish_inbound(entry)
    assert second.claim_inbound(won, owner="proc-b") is None  # done: nothing left to claim
    with pytest.raises(ValueError):
        first.claim_inbound(inbound(), owner="proc-c")  # never stored


def test_a_turn_stores_its_replies_with_its_commit(store: Store, clock: FakeClock) -> None:
    commit_with_replies(store, "Ev1")
    [stored] = store.pending_outbound(channel=KEY.channel)
    assert stored == dataclasses.replace(
        outbound("Ev1"), id=stored.id, status="pending", claims=1, created_at=clock.now, claimed_at=clock.now
    )
    assert store.pending_outbound(channel="slack") == []


def test_a_conflicting_turn_stores_no_replies(store: Store) -> None:
    commit_with_replies(store, "Ev1")
    with pytest.raises(VersionConflict):
        store.commit_turn(
            key=KEY, state={}, step=None, language=None, expected_version=None, outbox=outbound("Ev2")
        )
    with pytest.raises(VersionConflict):
        store.commit_turn(
            key=KEY, state={}, step=None, language=None, expected_version=7, outbox=outbound("Ev2")
        )
    assert [r.delivery_id for r in store.pending_outbound(channel=KEY.channel)] == ["Ev1"]


def test_replies_of_another_conversation_are_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        store.commit_turn(
            key=KEY,
            state={},
            step=None,
            language=None,
            expected_version=None,
            outbox=outbound(key=ConversationKey("slack", "T1", "someone.else@example.com")),
        )
    assert store.load_conversation(KEY) is None


def test_marking_replies_posted_takes_only_the_owners_and_finishes_the_delivery(
    store: Store, clock: FakeClock
) -> None:
    entry = store.record_inbound(inbound("Ev2"))
    commit_with_replies(store, "Ev1", owner="proc-a")
    commit_with_replies(store, "Ev2", owner="proc-b")  # a take-over: another process committed it
    commit_with_replies(store, "Ev2", owner="proc-a")
    clock.advance(1)

    store.mark_posted(key=KEY, delivery_id="Ev2", owner="proc-a", inbound_id=entry)

    left = store.pending_outbound(channel=KEY.channel)
    assert [(r.delivery_id, r.owner) for r in left] == [("Ev1", "proc-a"), ("Ev2", "proc-b")]
    assert entry is not None
    loaded = store.load_inbound(entry)
    assert loaded is not None and loaded.status == "done"

    store.mark_outbound_posted(left[1].id or 0)
    store.mark_outbound_posted(left[1].id or 0)  # idempotent
    assert [r.delivery_id for r in store.pending_outbound(channel=KEY.channel)] == ["Ev1"]


def test_of_two_processes_claiming_replies_exactly_one_wins(backend: Backend, clock: FakeClock) -> None:
    first, second = backend.open(clock=clock), backend.open(clock=clock)
    commit_with_replies(first, "Ev1", owner="dead")
    [seen_by_first] = first.pending_outbound(channel=KEY.channel, exclude_owner="proc-a")
    [seen_by_second] = second.pending_outbound(
        channel=KEY.channel, claimed_before=clock.now + timedelta(seconds=1)
    )
    assert second.pending_outbound(channel=KEY.channel, claimed_before=clock.now) == []

    won = second.claim_outbound(seen_by_second, owner="proc-b")
    assert won is not None and (won.owner, won.claims) == ("proc-b", 2)
    assert first.claim_outbound(seen_by_first, owner="proc-a") is None
    assert [(r.owner, r.claims) for r in first.pending_outbound(channel=KEY.channel)] == [("proc-b", 2)]


def test_purging_deletes_only_old_finished_entries(store: Store, clock: FakeClock) -> None:
    old_done = store.record_inbound(inbound("Ev1"))
    old_pending = store.record_inbound(inbound("Ev2"))
    commit_with_replies(store, "Ev1")
    commit_with_replies(store, "Ev2")
    assert old_done is not None and old_pending is not None
    store.finish_inbound(old_done)
    store.mark_posted(key=KEY, delivery_id="Ev1", owner="proc-a")
    clock.advance(2 * 86400)
    new_done = store.record_inbound(inbound("Ev3"))
    assert new_done is not None
    store.finish_inbound(new_done)

    assert store.purge_deliveries(before=clock.now - timedelta(days=1)) == 2
    assert store.load_inbound(old_done) is None
    assert store.load_inbound(old_pending) is not None  # pending: kept whatever its age
    assert store.load_inbound(new_done) is not None
    assert [r.delivery_id for r in store.pending_outbound(channel=KEY.channel)] == ["Ev2"]
    assert store.purge_deliveries(before=clock.now - timedelta(days=1)) == 0


# -- several processes ----------------------------------------------------------------------------


def test_two_stores_see_each_others_commits_and_conflict(backend: Backend) -> None:
    first, second = backend.open(), backend.open()

    new_conversation(first, state={"by": "first"})
    seen = second.load_conversation(KEY)
    assert seen is not None and seen.state == {"by": "first"} and seen.version == 1

    # Both load version 1; the first to commit wins, the other must conflict.
    assert (
        second.commit_turn(key=KEY, state={"by": "second"}, step=None, language=None, expected_version=1) == 2
    )
    with pytest.raises(VersionConflict):
        first.commit_turn(key=KEY, state={"by": "first again"}, step=None, language=None, expected_version=1)
    with pytest.raises(VersionConflict):
        first.commit_turn(key=KEY, state={}, step=None, language=None, expected_version=None)

    reloaded = first.load_conversation(KEY)
    assert reloaded is not None and reloaded.state == {"by": "second"} and reloaded.version == 2
    first.save_preferences(PreferencesRecord(email="ana@example.com", language="it"))
    prefs = second.load_preferences("ana@example.com")
    assert prefs is not None and prefs.language == "it"


def test_concurrent_writers_lose_no_update(backend: Backend) -> None:
    """Threads on separate stores increment one counter with retry-on-conflict: no increment is lost."""
    seed = backend.open()
    new_conversation(seed, state={"n": 0})
    workers, increments = 4, 15
    errors: list[BaseException] = []

    def work(store: Store) -> None:
        try:
            for _ in range(increments):
                while True:
                    current = store.load_conversation(KEY)
                    assert current is not None
                    try:
                        store.commit_turn(
                            key=KEY,
                            state={"n": current.state["n"] + 1},
                            step=None,
                            language=None,
                            expected_version=current.version,
                        )
                        break
                    except VersionConflict:
                        continue
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(backend.open(),)) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    final = seed.load_conversation(KEY)
    assert final is not None
    assert final.state == {"n": workers * increments}
    assert final.version == 1 + workers * increments


# -- failures -------------------------------------------------------------------------------------


def test_closed_store_can_be_reopened_with_its_data(backend: Backend) -> None:
    store = backend.open()
    new_conversation(store)
    store.close()
    with backend.open() as reopened:
        loaded = reopened.load_conversation(KEY)
        assert loaded is not None and loaded.version == 1
