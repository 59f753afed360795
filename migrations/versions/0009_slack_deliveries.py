"""slack deliveries: each request from Slack acts once

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_deliveries",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_slack_deliveries")),
    )
    op.create_index(
        op.f("ix_slack_deliveries_seen_at"), "slack_deliveries", ["seen_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_slack_deliveries_seen_at"), table_name="slack_deliveries")
    op.drop_table("slack_deliveries")
