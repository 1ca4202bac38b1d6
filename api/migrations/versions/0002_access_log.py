"""The access log: reads of decisions and reports by insurers and auditors, append-only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.String(64)
STAMP = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", STAMP, nullable=False),
        sa.Column("actor_key_id", ID, nullable=True),
        sa.Column("actor_name", sa.Text(), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("athlete_id", ID, nullable=True),
        sa.Column("via", sa.String(8), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_log"),
    )
    op.create_index("ix_access_log_at", "access_log", ["at"])
    op.create_index("ix_access_log_subject", "access_log", ["subject"])
    op.create_index("ix_access_log_athlete_id", "access_log", ["athlete_id"])
    # append-only, like the clinical records (0001): the database refuses UPDATE and DELETE
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER access_log_write_once BEFORE UPDATE OR DELETE ON access_log "
                   "FOR EACH ROW EXECUTE FUNCTION sprintclear_write_once()")
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER access_log_write_once_{operation.lower()} "
                f"BEFORE {operation} ON access_log BEGIN SELECT RAISE(ABORT, "
                f"'sprintclear: access_log rows are written once; {operation} refused'); END")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER access_log_write_once ON access_log")
    else:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER access_log_write_once_{operation}")
    op.drop_table("access_log")
