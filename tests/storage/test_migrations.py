"""Migrations: applied at start-up from an empty database, idempotent, and in step with the models."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from storage import ConversationKey, Store
from storage.engine import make_engine
from storage.migrate import MIGRATIONS_DIR, alembic_config, current_revision, head_revision
from storage.models import metadata
from tests.storage.conftest import Backend

KEY = ConversationKey("c", "w", "u")
TABLES = {
    "preferences",
    "conversations",
    "signin_attempts",
    "active_sessions",
    "oauth_tokens",
    "pending_authorizations",
    "email_challenges",
    "verification_requests",
    "identity_bindings",
    "key_checks",
    "delivery_inbox",
    "reply_outbox",
}
REPO_ROOT = Path(__file__).resolve().parents[2]


def test_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0002_oauth_tokens.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0003_email_identity.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0004_delivery_inbox_outbox.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0005_security.py").is_file()
    assert head_revision() == "0005"


def test_start_up_migrates_an_empty_database_to_head(backend: Backend) -> None:
    engine = make_engine(backend.url)
    try:
        assert current_revision(engine) is None
        assert not TABLES & set(inspect(engine).get_table_names())

        backend.open()

        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) >= TABLES | {"alembic_version"}
    finally:
        engine.dispose()


def test_a_second_start_up_is_a_no_op_and_keeps_the_data(backend: Backend) -> None:
    first = backend.open()
    first.commit_turn(key=KEY, state={"kept": True}, step=None, language=None, expected_version=None)
    first.close()

    second = backend.open()
    loaded = second.load_conversation(KEY)
    assert loaded is not None and loaded.state == {"kept": True}
    engine = make_engine(backend.url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").all() == [("0005",)]
    finally:
        engine.dispose()


def test_concurrent_start_ups_migrate_once(backend: Backend) -> None:
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []
    stores: list[Store] = []

    def start() -> None:
        try:
            barrier.wait()
            stores.append(Store.from_url(backend.url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    backend.opened.extend(stores)

    assert errors == []
    assert len(stores) == 3
    stores[0].commit_turn(key=KEY, state={}, step=None, language=None, expected_version=None)
    assert stores[2].load_conversation(KEY) is not None


def test_migrated_schema_matches_the_models(backend: Backend) -> None:
    store = backend.open()
    with store._engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_downgrade_to_base_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/loginbot.db"
    Store.from_url(url).close()
    engine = make_engine(url)
    try:
        command.downgrade(alembic_config(url=url), "base")
        assert current_revision(engine) is None
        assert not TABLES & set(inspect(engine).get_table_names())
        command.upgrade(alembic_config(url=url), "head")
        assert current_revision(engine) == "0005"
    finally:
        engine.dispose()


def test_developer_alembic_ini_works_from_the_cli(tmp_path: Path) -> None:
    database = tmp_path / "dev.db"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            "storage/alembic.ini",
            "-x",
            f"url=sqlite:///{database}",
            "upgrade",
            "head",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    with Store.from_url(f"sqlite:///{database}") as store:
        assert store.load_conversation(KEY) is None
