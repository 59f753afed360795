"""index calls by state and end: old calls found for deletion, live calls counted

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_calls_state_ended_at", "calls", ["state", "ended_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_calls_state_ended_at", table_name="calls")
