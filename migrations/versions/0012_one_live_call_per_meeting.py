"""one live call per meeting: a partial unique index on calls (team_id, meeting_id)

Instances sharing the database could each register a pasted meeting link; the index makes
the second registration fail in the database. Meetings that already have several live calls
keep the one presence goes to (active first, then the newest) and the others are detached
from the meeting (meeting_id NULL): they stay live in Slack and here, get no presence (they
already got none), and end as any call does. Nothing is ended behind Slack's back, and the
deployment is not blocked on calls nobody can end by hand.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

LIVE = "meeting_id IS NOT NULL AND state IN ('starting', 'active', 'ending')"

# Every live call of a meeting but the first: active before ending before starting, newest first.
_DETACH_EXTRA_CALLS = f"""
UPDATE calls SET meeting_id = NULL WHERE id IN (
    SELECT id FROM (
        SELECT id, ROW_NUMBER() OVER (
            PARTITION BY team_id, meeting_id
            ORDER BY CASE state WHEN 'active' THEN 0 WHEN 'ending' THEN 1 ELSE 2 END,
                     started_at DESC, id DESC
        ) AS place
        FROM calls WHERE {LIVE}
    ) AS ranked WHERE place > 1
)
"""


def upgrade() -> None:
    detached = op.get_bind().execute(sa.text(_DETACH_EXTRA_CALLS)).rowcount
    if detached:
        log.warning("%d extra live call(s) of a meeting detached from it", detached)
    op.create_index(
        "uq_calls_team_id_meeting_id_live",
        "calls",
        ["team_id", "meeting_id"],
        unique=True,
        postgresql_where=sa.text(LIVE),
        sqlite_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_calls_team_id_meeting_id_live", table_name="calls")
