"""a version on nominations: a decision made on a stale page is a conflict

Revision ID: i12x_01
Revises: i12h_01
Create Date: 2026-12-01 05:20:00

Every change of a nomination (a decision, a new objection during the public notice) moves its version on;
the leading group's decisions carry the version their page was loaded with, so that nobody commends,
rejects or moves on a nomination that changed (e.g. drew an objection) since they looked at it.
ADD COLUMN keeps SQLite's AUTOINCREMENT table as it is (no rebuild).
"""
import sqlalchemy as sa
from alembic import op

revision = 'i12x_01'
down_revision = 'i12h_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("nomination") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade():
    with op.batch_alter_table("nomination") as batch:
        batch.drop_column("version")
