"""The pages' records: what a clinician acknowledged at sign-off, and audit checkpoints.

- ``signoffs.acknowledged``: canonical JSON of the ids of the red flags, holds and
  cautions the clinician acknowledged on the sign-off's confirmation step (null for
  sign-offs made before, or through the API without the list).
- ``audit_checkpoints``: a chain position (``seq``, ``hash``) verified up to then, so the
  audit page verifies only the entries after the latest one; written once (the same
  triggers as the clinical records).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

HASH = sa.String(64)
STAMP = sa.String(32)


def upgrade() -> None:
    # a plain ALTER TABLE (no batch copy): the table keeps its write-once triggers
    op.add_column("signoffs", sa.Column("acknowledged", sa.Text(), nullable=True))
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", HASH, nullable=False),
        sa.Column("records_checked", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("checked_at", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_checkpoints"),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER audit_checkpoints_write_once BEFORE UPDATE OR DELETE ON "
                   "audit_checkpoints FOR EACH ROW EXECUTE FUNCTION sprintclear_write_once()")
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_checkpoints_write_once_{operation.lower()} BEFORE "
                f"{operation} ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'sprintclear: "
                f"audit_checkpoints rows are written once; {operation} refused'); END")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_checkpoints_write_once ON audit_checkpoints")
    else:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER audit_checkpoints_write_once_{operation}")
    op.drop_table("audit_checkpoints")
    op.drop_column("signoffs", "acknowledged")
