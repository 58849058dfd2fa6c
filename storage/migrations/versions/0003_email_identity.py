"""Identity proven by an emailed code, for chat channels that cannot vouch for the user (S14).

Revision ID: 0003
Revises: 0002
Create Date: 2026-05-11

Written by hand with plain SQLAlchemy types, like 0001 and 0002. `email_challenges` holds a salted
hash of each code, never the code; `verification_requests` is the log the rate limits count.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "email_challenges",
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("code_hash", sa.String(), nullable=False),
        sa.Column("salt", sa.String(), nullable=False),
        sa.Column("tries_left", sa.Integer(), nullable=False),
        _timestamp("expires_at"),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("channel", "subject"),
    )
    op.create_table(
        "verification_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        _timestamp("requested_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_verification_requests_subject", "verification_requests", ["channel", "subject", "requested_at"]
    )
    op.create_index("ix_verification_requests_email", "verification_requests", ["email", "requested_at"])
    op.create_table(
        "identity_bindings",
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        _timestamp("verified_at"),
        sa.PrimaryKeyConstraint("channel", "subject"),
    )


def downgrade() -> None:
    op.drop_table("identity_bindings")
    op.drop_index("ix_verification_requests_email", table_name="verification_requests")
    op.drop_index("ix_verification_requests_subject", table_name="verification_requests")
    op.drop_table("verification_requests")
    op.drop_table("email_challenges")
