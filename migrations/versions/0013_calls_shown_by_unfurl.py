"""calls shown by unfurls: a column marks the calls registered for a pasted meeting link

Such a call has no message of its own. Without the mark it was told apart by having no message
and no lease, which a failed calls.end undid (its release leased it as an unposted call, and
the reconciler then posted a message for it). Existing calls are marked by that same sign, the
only one there is: active, no message, no lease. Pasted-link calls ended or failed already keep
false, which changes nothing for them; one being ended during the upgrade can't be told apart.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MARK_UNFURLED = """
UPDATE calls SET shown_by_unfurl = true
WHERE state = 'active' AND message_ts IS NULL AND lease_expires_at IS NULL
"""


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(
            sa.Column("shown_by_unfurl", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(_MARK_UNFURLED)


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("shown_by_unfurl")
