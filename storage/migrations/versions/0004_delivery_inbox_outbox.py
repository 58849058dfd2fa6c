"""The durable inbox of acknowledged deliveries and the outbox of replies not yet posted (issue 7).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

Written by hand with plain SQLAlchemy types, like 0001-0003. `delivery_inbox` holds each delivery a
channel acknowledged until its turn's replies are posted; `reply_outbox` holds a committed turn's
replies until they are posted. Both are small: done rows are deleted after a day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "delivery_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("workspace", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("delivery_id", sa.String(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        _timestamp("received_at"),
        _timestamp("claimed_at"),
        _timestamp("finished_at", nullable=True),
        sa.CheckConstraint("status IN ('pending', 'done')", name="ck_delivery_inbox_status"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ux_delivery_inbox_delivery",
        "delivery_inbox",
        ["channel", "workspace", "subject", "delivery_id"],
        unique=True,
    )
    op.create_index("ix_delivery_inbox_status_claimed_at", "delivery_inbox", ["status", "claimed_at"])
    op.create_table(
        "reply_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("workspace", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("delivery_id", sa.String(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("claimed_at"),
        _timestamp("posted_at", nullable=True),
        sa.CheckConstraint("status IN ('pending', 'posted')", name="ck_reply_outbox_status"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_reply_outbox_delivery", "reply_outbox", ["channel", "workspace", "user_id", "delivery_id"]
    )
    op.create_index("ix_reply_outbox_status_claimed_at", "reply_outbox", ["status", "claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_reply_outbox_status_claimed_at", table_name="reply_outbox")
    op.drop_index("ix_reply_outbox_delivery", table_name="reply_outbox")
    op.drop_table("reply_outbox")
    op.drop_index("ix_delivery_inbox_status_claimed_at", table_name="delivery_inbox")
    op.drop_index("ux_delivery_inbox_delivery", table_name="delivery_inbox")
    op.drop_table("delivery_inbox")
