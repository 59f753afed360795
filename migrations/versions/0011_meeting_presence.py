"""meeting presence: calls know their provider's meeting, participants where they are in it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("meeting_id", sa.String(length=255), nullable=True))
        batch.create_index("ix_calls_meeting_id_state", ["meeting_id", "state"], unique=False)
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("avatar_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("meeting_part", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("meeting_part")
        batch.drop_column("avatar_url")
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_meeting_id_state")
        batch.drop_column("meeting_id")
