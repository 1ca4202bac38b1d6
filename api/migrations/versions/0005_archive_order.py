"""The archive's storage order as an index: assessments by (created_at, id).

Replay and bulk report issue cut the archive into chunks by that key
(api/store/replay_reads.py); without the index every chunk's reads scanned the
whole table, so a replay's cost grew with the square of the archive (a 50 ms
sequential scan per read on PostgreSQL at 100,000 assessments, three reads per
chunk of 250).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_assessments_created_at_id", "assessments", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_assessments_created_at_id", table_name="assessments")
