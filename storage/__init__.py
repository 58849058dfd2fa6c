"""loginbot's storage: the only code in the project that touches the database.

SQLite (WAL) by default, PostgreSQL by URL; the schema is managed by Alembic migrations that ship
in `storage/migrations/` and are applied by `Store.from_url` at start-up. Callers get frozen
records, never ORM objects::

    store = Store.from_url(settings.database_url)          # e.g. "sqlite:///loginbot.db"
    conversation = store.load_conversation(key)
    version = store.commit_turn(
        key=key, state=new_state, step="ask_role", language="en",
        expected_version=conversation.version if conversation else None,
        attempts=[attempt], session=KEEP,
    )
"""

from storage.records import (
    KEEP,
    ActiveSessionRecord,
    AttemptRecord,
    ConversationKey,
    EmailChallengeRecord,
    IdentityBindingRecord,
    InboundRecord,
    Keep,
    OutboundRecord,
    PendingAuthorizationRecord,
    PreferencesRecord,
    StorageError,
    StoredConversation,
    TokenRecord,
    VersionConflict,
)
from storage.store import Store

__all__ = [
    "KEEP",
    "ActiveSessionRecord",
    "AttemptRecord",
    "ConversationKey",
    "EmailChallengeRecord",
    "IdentityBindingRecord",
    "InboundRecord",
    "Keep",
    "OutboundRecord",
    "PendingAuthorizationRecord",
    "PreferencesRecord",
    "StorageError",
    "Store",
    "StoredConversation",
    "TokenRecord",
    "VersionConflict",
]
