"""The token tables' contract (OAuth tokens and pending authorizations), on SQLite and PostgreSQL.

The store only ever sees ciphertext; these tests use opaque strings, since encryption is
`bot.secrets`' job (tested in tests/wxcc).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from storage import PendingAuthorizationRecord, Store
from tests.storage.conftest import Backend, FakeClock

EMAIL = "ava.lead@example.com"


def save(store: Store, *, access: str = "enc-access", expires: datetime | None = None) -> None:
    store.save_tokens(
        email=EMAIL,
        access_token_encrypted=access,
        refresh_token_encrypted="enc-refresh",
        expires_at=expires or datetime(2026, 3, 1, 10, 30, tzinfo=UTC),
        scopes="cjp:user cjp:config_read",
    )


def pending(
    state: str, clock: FakeClock, *, ttl: float = 600, redirect: str | None = None
) -> PendingAuthorizationRecord:
    return PendingAuthorizationRecord(
        state=state,
        email=EMAIL,
        verifier_encrypted="enc-verifier",
        expires_at=clock.now + timedelta(seconds=ttl),
        redirect_to=redirect,
    )


def test_tokens_round_trip_with_a_stamped_updated_at(store: Store, clock: FakeClock) -> None:
    assert store.load_tokens(email=EMAIL) is None
    save(store)
    record = store.load_tokens(email=EMAIL)
    assert record is not None
    assert (record.access_token_encrypted, record.refresh_token_encrypted) == ("enc-access", "enc-refresh")
    assert record.expires_at == datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    assert record.scopes == "cjp:user cjp:config_read"
    assert record.updated_at == clock.now


def test_saving_again_replaces_the_tokens(store: Store, clock: FakeClock) -> None:
    save(store)
    clock.advance(60)
    save(store, access="enc-access-2", expires=datetime(2026, 3, 1, 11, 30, tzinfo=UTC))
    record = store.load_tokens(email=EMAIL)
    assert record is not None and record.access_token_encrypted == "enc-access-2"
    assert record.expires_at == datetime(2026, 3, 1, 11, 30, tzinfo=UTC)
    assert record.updated_at == clock.now


def test_a_missing_refresh_token_is_allowed(store: Store) -> None:
    store.save_tokens(
        email=EMAIL,
        access_token_encrypted="a",
        refresh_token_encrypted=None,
        expires_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    record = store.load_tokens(email=EMAIL)
    assert record is not None and record.refresh_token_encrypted is None and record.scopes == ""


def test_delete_tokens(store: Store) -> None:
    assert store.delete_tokens(email=EMAIL) is False
    save(store)
    assert store.delete_tokens(email=EMAIL) is True
    assert store.load_tokens(email=EMAIL) is None


def test_tokens_survive_a_restart(backend: Backend) -> None:
    save(backend.open())
    assert backend.open().load_tokens(email=EMAIL) is not None


def test_a_pending_authorization_is_taken_once(store: Store, clock: FakeClock) -> None:
    store.save_pending_authorization(pending("state-1", clock, redirect="/done"))
    taken = store.take_pending_authorization(state="state-1")
    assert taken is not None
    assert (taken.email, taken.verifier_encrypted, taken.redirect_to) == (EMAIL, "enc-verifier", "/done")
    assert taken.created_at == clock.now
    assert store.take_pending_authorization(state="state-1") is None


def test_an_unknown_state_is_refused(store: Store) -> None:
    assert store.take_pending_authorization(state="never-issued") is None


def test_an_expired_authorization_is_refused_and_removed(store: Store, clock: FakeClock) -> None:
    store.save_pending_authorization(pending("state-old", clock, ttl=60))
    clock.advance(61)
    assert store.take_pending_authorization(state="state-old") is None
    clock.now -= timedelta(seconds=61)
    assert store.take_pending_authorization(state="state-old") is None, "refused means gone"


def test_saving_purges_expired_authorizations(store: Store, clock: FakeClock) -> None:
    store.save_pending_authorization(pending("old", clock, ttl=10))
    clock.advance(11)
    store.save_pending_authorization(pending("new", clock))
    clock.now -= timedelta(seconds=11)
    assert store.take_pending_authorization(state="old") is None
    assert store.take_pending_authorization(state="new") is not None


def test_racing_callbacks_take_an_authorization_at_most_once(backend: Backend, clock: FakeClock) -> None:
    backend.open(clock=clock).save_pending_authorization(pending("raced", clock))
    stores = [backend.open(clock=clock) for _ in range(4)]
    results: list[object] = []
    barrier = threading.Barrier(len(stores))

    def take(store: Store) -> None:
        barrier.wait()
        results.append(store.take_pending_authorization(state="raced"))

    threads = [threading.Thread(target=take, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result is not None for result in results) == 1
