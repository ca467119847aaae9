"""sign-in throttling: failed sign-ins per account and address; daily tallies of refused requests;
users whose password someone else chose replace it at first login

Revision ID: i13_01
Revises: n001
"""
import sqlalchemy as sa
from alembic import op

revision = 'i13_01'
down_revision = 'n001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user') as batch:
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        'login_failure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=8), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure')),
    )
    op.create_index('ix_login_failure_scope_key_at', 'login_failure', ['scope', 'key', 'at'])
    op.create_table(
        'refusal_tally',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'kind', name=op.f('pk_refusal_tally')),
    )


def downgrade():
    with op.batch_alter_table('user') as batch:
        batch.drop_column('must_change_password')
    op.drop_table('refusal_tally')
    op.drop_index('ix_login_failure_scope_key_at', table_name='login_failure')
    op.drop_table('login_failure')
