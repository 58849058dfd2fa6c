"""Initial schema: preferences, conversations, sign-in attempts, active sessions.

Revision ID: 0001
Revises:
Create Date: 2026-05-09

Written by hand with plain SQLAlchemy types (no imports from `storage.models`), so this revision
keeps creating exactly this schema however the models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "preferences",
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=True),
        sa.Column("call_preference", sa.String(), nullable=True),
        sa.Column("extension", sa.String(), nullable=True),
        sa.Column("dial_number", sa.String(), nullable=True),
        sa.Column("country_code", sa.String(), nullable=True),
        sa.Column("team_id", sa.String(), nullable=True),
        sa.Column("auto_login", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(), nullable=True),
        sa.Column("e911_acknowledged", sa.Boolean(), nullable=False),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("email"),
    )
    op.create_table(
        "conversations",
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("workspace", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("step", sa.String(), nullable=True),
        sa.Column("language", sa.String(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("channel", "workspace", "user_id"),
    )
    op.create_table(
        "signin_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        _timestamp("started_at"),
        _timestamp("finished_at"),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("tracking_id", sa.String(), nullable=True),
        sa.Column("role", sa.String(), nullable=True),
        sa.Column("call_preference", sa.String(), nullable=True),
        sa.Column("dial_number", sa.String(), nullable=True),
        sa.Column("team_id", sa.String(), nullable=True),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.CheckConstraint("outcome IN ('success', 'failure')", name="ck_signin_attempts_outcome"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signin_attempts_email_started_at", "signin_attempts", ["email", "started_at"])
    op.create_index("ix_signin_attempts_started_at", "signin_attempts", ["started_at"])
    op.create_index("ix_signin_attempts_tracking_id", "signin_attempts", ["tracking_id"])
    op.create_table(
        "active_sessions",
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("workspace", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("agent_session_id", sa.String(), nullable=False),
        _timestamp("started_at"),
        sa.ForeignKeyConstraint(
            ["channel", "workspace", "user_id"],
            ["conversations.channel", "conversations.workspace", "conversations.user_id"],
            name="fk_active_sessions_conversation",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("email"),
    )
    op.create_index("ix_active_sessions_conversation", "active_sessions", ["channel", "workspace", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_active_sessions_conversation", table_name="active_sessions")
    op.drop_table("active_sessions")
    op.drop_index("ix_signin_attempts_tracking_id", table_name="signin_attempts")
    op.drop_index("ix_signin_attempts_started_at", table_name="signin_attempts")
    op.drop_index("ix_signin_attempts_email_started_at", table_name="signin_attempts")
    op.drop_table("signin_attempts")
    op.drop_table("conversations")
    op.drop_table("preferences")
