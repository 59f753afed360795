"""index live calls by creator

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_created_by_started_at"))
        batch_op.create_index(
            "ix_calls_team_creator_state_started",
            ["team_id", "created_by", "state", "started_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_team_creator_state_started")
        batch_op.create_index(
            batch_op.f("ix_calls_created_by_started_at"),
            ["team_id", "created_by", "started_at"],
            unique=False,
        )
