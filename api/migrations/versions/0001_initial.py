"""The first schema: records, API keys, the audit chain, and write-once triggers.

Revision ID: 0001
Revises:
Create Date: 2026-04-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64
"""The ``prev_hash`` of the first audit entry."""

IMMUTABLE = ("athletes", "injuries", "assessments", "decisions", "signoffs", "reports",
             "audit_entries")

ID = sa.String(64)
STAMP = sa.String(32)
HASH = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "athletes",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("sport", sa.Text(), nullable=True),
        sa.Column("position", sa.Text(), nullable=True),
        sa.Column("created_at", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_athletes"),
    )
    op.create_table(
        "injuries",
        sa.Column("id", ID, nullable=False),
        sa.Column("athlete_id", ID, nullable=False),
        sa.Column("region", sa.String(16), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("date", sa.String(10), nullable=False),
        sa.Column("muscle", sa.String(40), nullable=True),
        sa.Column("bamic_grade", sa.String(4), nullable=True),
        sa.Column("mechanism", sa.String(16), nullable=True),
        sa.Column("created_at", STAMP, nullable=False),
        sa.ForeignKeyConstraint(["athlete_id"], ["athletes.id"],
                                name="fk_injuries_athlete_id"),
        sa.PrimaryKeyConstraint("id", name="pk_injuries"),
        sa.UniqueConstraint("athlete_id", "region", "side", "date",
                            name="uq_injuries_athlete_id_region_side_date"),
    )
    op.create_index("ix_injuries_athlete_id", "injuries", ["athlete_id"])
    op.create_table(
        "assessments",
        sa.Column("id", ID, nullable=False),
        sa.Column("athlete_id", ID, nullable=False),
        sa.Column("injury_id", ID, nullable=False),
        sa.Column("supersedes", ID, nullable=True),
        sa.Column("assessment_date", sa.String(10), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("input_sha256", HASH, nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.ForeignKeyConstraint(["athlete_id"], ["athletes.id"],
                                name="fk_assessments_athlete_id"),
        sa.ForeignKeyConstraint(["injury_id"], ["injuries.id"],
                                name="fk_assessments_injury_id"),
        sa.ForeignKeyConstraint(["supersedes"], ["assessments.id"],
                                name="fk_assessments_supersedes"),
        sa.PrimaryKeyConstraint("id", name="pk_assessments"),
        sa.UniqueConstraint("input_sha256", name="uq_assessments_input_sha256"),
        sa.UniqueConstraint("supersedes", name="uq_assessments_supersedes"),
    )
    op.create_index("ix_assessments_athlete_id", "assessments", ["athlete_id"])
    op.create_index("ix_assessments_injury_id", "assessments", ["injury_id"])
    op.create_table(
        "decisions",
        sa.Column("id", ID, nullable=False),
        sa.Column("assessment_id", ID, nullable=False),
        sa.Column("input_sha256", HASH, nullable=False),
        sa.Column("rulebase_version", HASH, nullable=False),
        sa.Column("protocol_id", sa.String(80), nullable=False),
        sa.Column("protocol_version", sa.Text(), nullable=False),
        sa.Column("evaluated_at", STAMP, nullable=False),
        sa.Column("phase_number", sa.Integer(), nullable=False),
        sa.Column("phase_id", sa.String(16), nullable=False),
        sa.Column("criteria_phase_number", sa.Integer(), nullable=False),
        sa.Column("criteria_phase_id", sa.String(16), nullable=False),
        sa.Column("cleared_to_sprint", sa.Boolean(), nullable=False),
        sa.Column("cleared_to_play", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("decision_json", sa.Text(), nullable=False),
        sa.Column("decision_sha256", HASH, nullable=False),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessments.id"],
                                name="fk_decisions_assessment_id"),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.UniqueConstraint("assessment_id", name="uq_decisions_assessment_id"),
    )
    op.create_table(
        "signoffs",
        sa.Column("id", ID, nullable=False),
        sa.Column("decision_id", ID, nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("recommended_phase", sa.String(16), nullable=False),
        sa.Column("signed_phase", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("clinician_key_id", ID, nullable=True),
        sa.Column("clinician_name", sa.Text(), nullable=False),
        sa.Column("signed_at", STAMP, nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"],
                                name="fk_signoffs_decision_id"),
        sa.PrimaryKeyConstraint("id", name="pk_signoffs"),
        sa.UniqueConstraint("decision_id", name="uq_signoffs_decision_id"),
    )
    op.create_table(
        "reports",
        sa.Column("id", ID, nullable=False),
        sa.Column("decision_id", ID, nullable=False),
        sa.Column("signoff_id", ID, nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("pdf_sha256", HASH, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("signer_name", sa.Text(), nullable=False),
        sa.Column("meaning", sa.Text(), nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"],
                                name="fk_reports_decision_id"),
        sa.ForeignKeyConstraint(["signoff_id"], ["signoffs.id"], name="fk_reports_signoff_id"),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
        sa.UniqueConstraint("decision_id", name="uq_reports_decision_id"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", ID, nullable=False),
        sa.Column("key_sha256", HASH, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("revoked_at", STAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_sha256", name="uq_api_keys_key_sha256"),
    )
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", STAMP, nullable=False),
        sa.Column("actor_key_id", ID, nullable=True),
        sa.Column("actor_name", sa.Text(), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", HASH, nullable=False),
        sa.Column("hash", HASH, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_entries"),
    )
    op.create_index("ix_audit_entries_subject", "audit_entries", ["subject"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", HASH, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])
    _create_write_once_triggers()


def _create_write_once_triggers() -> None:
    """The database itself refuses to change or delete a stored clinical record."""
    if op.get_context().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION sprintclear_write_once() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'sprintclear: % rows are written once; % refused',
                    TG_TABLE_NAME, TG_OP;
            END;
            $$
        """)
        for table in IMMUTABLE:
            op.execute(f"CREATE TRIGGER {table}_write_once BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION sprintclear_write_once()")
    else:
        for table in IMMUTABLE:
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_write_once_{operation.lower()} "
                    f"BEFORE {operation} ON {table} BEGIN SELECT RAISE(ABORT, "
                    f"'sprintclear: {table} rows are written once; {operation} refused'); END")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in IMMUTABLE:
            op.execute(f"DROP TRIGGER {table}_write_once ON {table}")
        op.execute("DROP FUNCTION sprintclear_write_once()")
    else:
        for table in IMMUTABLE:
            for operation in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_write_once_{operation}")
    for table in ("audit_head", "audit_entries", "api_keys", "reports", "signoffs",
                  "decisions", "assessments", "injuries", "athletes"):
        op.drop_table(table)
