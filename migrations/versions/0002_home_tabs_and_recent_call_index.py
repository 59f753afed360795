"""home tabs and recent-call index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "home_tabs",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_home_tabs")),
    )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("call_ended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_participants_slack_user_id_call_ended_at",
            ["slack_user_id", "call_ended_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_participants_slack_user_id_joined_at", ["slack_user_id", "joined_at"], unique=False
        )
    # Calls that ended before this revision: copy their end onto their participants.
    op.execute(
        "UPDATE participants SET call_ended_at = "
        "(SELECT calls.ended_at FROM calls WHERE calls.id = participants.call_id "
        "AND calls.state = 'ended')"
    )


def downgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index("ix_participants_slack_user_id_joined_at")
        batch_op.drop_index("ix_participants_slack_user_id_call_ended_at")
        batch_op.drop_column("call_ended_at")

    op.drop_table("home_tabs")
