"""the outbox, and whether Slack lists each participant

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("generation", sa.Integer(), server_default="0", nullable=False),
        sa.Column("done_generation", sa.Integer(), server_default="-1", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    op.create_index("ix_outbox_due_at", "outbox", ["due_at"], unique=False)
    with op.batch_alter_table("participants") as batch_op:
        batch_op.add_column(
            sa.Column("in_slack", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Until now every join and leave reached Slack before it was recorded.
    op.execute(
        "UPDATE participants SET in_slack = (left_at IS NULL) WHERE call_id IN "
        "(SELECT id FROM calls WHERE state IN ('active', 'ending'))"
    )


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch_op:
        batch_op.drop_column("in_slack")
    op.drop_index("ix_outbox_due_at", table_name="outbox")
    op.drop_table("outbox")
