"""OAuth tokens per user and pending authorizations, for the Webex Contact Center adapter.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-10

Written by hand with plain SQLAlchemy types, like 0001. Token and verifier columns hold ciphertext
(`bot.secrets.Cipher`), never clear text.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "oauth_tokens",
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("access_token_encrypted", sa.Text(), nullable=False),
        sa.Column("refresh_token_encrypted", sa.Text(), nullable=True),
        _timestamp("expires_at"),
        sa.Column("scopes", sa.String(), nullable=False),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("email"),
    )
    op.create_table(
        "pending_authorizations",
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("verifier_encrypted", sa.Text(), nullable=False),
        sa.Column("redirect_to", sa.String(), nullable=True),
        _timestamp("expires_at"),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("state"),
    )
    op.create_index("ix_pending_authorizations_expires_at", "pending_authorizations", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_pending_authorizations_expires_at", table_name="pending_authorizations")
    op.drop_table("pending_authorizations")
    op.drop_table("oauth_tokens")
