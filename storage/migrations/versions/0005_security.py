"""Identity bindings scoped to a workspace and expiring when idle; the encryption key check.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

`identity_bindings` is made again with `workspace` in its key and `last_seen_at`: the bindings made
before never expired and had no workspace, so they are dropped (each user proves their email once
more). `key_checks` holds a value encrypted with the secret key, so that a start-up with another key
is stopped before it touches any stored secret.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.drop_table("identity_bindings")
    op.create_table(
        "identity_bindings",
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("workspace", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        _timestamp("verified_at"),
        _timestamp("last_seen_at"),
        sa.PrimaryKeyConstraint("channel", "workspace", "subject"),
    )
    op.create_table(
        "key_checks",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("key_checks")
    op.drop_table("identity_bindings")
    op.create_table(
        "identity_bindings",
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        _timestamp("verified_at"),
        sa.PrimaryKeyConstraint("channel", "subject"),
    )
