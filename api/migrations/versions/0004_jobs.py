"""Batch jobs' state: replays of the archive, bulk report issues, and their chunks
(api/store/jobs.py).

Working state, not clinical records: no write-once triggers, no audit entries.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.String(64)
STAMP = sa.String(32)
HASH = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "batch_jobs",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("rulebase_version", HASH, nullable=False),
        sa.Column("protocol_id", sa.String(80), nullable=False),
        sa.Column("protocol_version", sa.Text(), nullable=False),
        sa.Column("protocol_text", sa.Text(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("lease_seconds", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", STAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_batch_jobs"),
    )
    op.create_table(
        "batch_chunks",
        sa.Column("job_id", ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("after_created_at", STAMP, nullable=True),
        sa.Column("after_id", ID, nullable=True),
        sa.Column("last_created_at", STAMP, nullable=False),
        sa.Column("last_id", ID, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.Column("done_count", sa.Integer(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["batch_jobs.id"],
                                name="fk_batch_chunks_job_id"),
        sa.PrimaryKeyConstraint("job_id", "seq", name="pk_batch_chunks"),
    )


def downgrade() -> None:
    op.drop_table("batch_chunks")
    op.drop_table("batch_jobs")
