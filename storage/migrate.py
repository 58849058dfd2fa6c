"""Applying the schema migrations that ship inside the package.

The bot calls `upgrade_to_head` once per process, from `Store.from_url`, so a new release upgrades
its database the first time it starts and there is no separate deploy step to forget. No
`alembic.ini` is needed: the `Config` is built here, pointing at `storage/migrations/`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from storage.engine import writer

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"

_PG_MIGRATION_LOCK: Final = 0x6C6F67696E626F74  # "loginbot": any constant shared by all processes


def alembic_config(connection: Connection | None = None, *, url: str | None = None) -> Config:
    """An Alembic `Config` for the packaged migrations, built in code.

    Pass an open `connection` to run inside the caller's transaction (what start-up does), or a
    `url` to let `env.py` make its own engine.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser escaping
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (`None` for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database to the newest revision; a no-op when it is already there.

    Runs in one write transaction: on SQLite `BEGIN IMMEDIATE` and on PostgreSQL a transaction
    advisory lock make concurrent start-ups (several bot processes, one database) take turns, so
    the second one finds the schema already at head instead of racing to create the same tables.
    Both backends have transactional DDL, so a failing revision rolls back completely.
    """
    with writer(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        command.upgrade(alembic_config(connection), "head")
