"""versions on records two people may edit; one-time tokens of create forms

Revision ID: i12f_01
Revises: i13_01
Create Date: 2026-12-01 02:10:00

Every record whose free text two people may edit gets a `version` (optimistic lock: a stale save is a
409 showing both texts). `form_intent` records each create form's one-time token with the record it
made, so a replayed POST makes nothing the second time.
"""
import sqlalchemy as sa
from alembic import op

revision = 'i12f_01'
down_revision = 'i13_01'
branch_labels = None
depends_on = None

VERSIONED = ("pledge", "branch", "project", "milestone", "inspection", "follow_up", "submission", "user")


def upgrade():
    for table in VERSIONED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "form_intent",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("token", name="uq_form_intent_token"),
    )


def downgrade():
    op.drop_table("form_intent")
    for table in VERSIONED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
