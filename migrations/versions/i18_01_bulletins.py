"""bulletins (通报): sections drafted from the dashboard's figures, issued with a 发文字号 unique per year;
images put into posts with the rich-text editor

Revision ID: i18_01
Revises: i17_01
"""
import sqlalchemy as sa
from alembic import op

revision = 'i18_01'
down_revision = 'i17_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bulletin',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('year_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('draft', 'issued', name='bulletinstatus', native_enum=False,
                                    create_constraint=True, length=24), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('sections', sa.JSON(), nullable=False),
        sa.Column('copy_to', sa.String(length=300), nullable=False),
        sa.Column('prefix', sa.String(length=40), nullable=False),
        sa.Column('number_year', sa.Integer(), nullable=True),
        sa.Column('number', sa.Integer(), nullable=True),
        sa.Column('figures', sa.JSON(), nullable=True),
        sa.Column('corrects_id', sa.Integer(), nullable=True),
        sa.Column('post_id', sa.Integer(), nullable=True),
        sa.Column('drafted_by_id', sa.Integer(), nullable=True),
        sa.Column('issued_by_id', sa.Integer(), nullable=True),
        sa.Column('issuer', sa.String(length=120), nullable=False),
        sa.Column('issued_at', sa.DateTime(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['year_id'], ['campaign_year.id'], name=op.f('fk_bulletin_year_id_campaign_year'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['corrects_id'], ['bulletin.id'], name=op.f('fk_bulletin_corrects_id_bulletin'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_bulletin_post_id_post'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['drafted_by_id'], ['user.id'], name=op.f('fk_bulletin_drafted_by_id_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['issued_by_id'], ['user.id'], name=op.f('fk_bulletin_issued_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletin')),
        sa.UniqueConstraint('number_year', 'number', name='uq_bulletin_number_year_number'),
        sqlite_autoincrement=True,  # ids named by the audit log are never reused (see models.AUTOINCREMENT_TABLES)
    )
    op.create_index(op.f('ix_bulletin_year_id'), 'bulletin', ['year_id'])
    op.create_table(
        'post_image',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('stored_name', sa.String(length=80), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_post_image_uploaded_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_post_image')),
        sa.UniqueConstraint('stored_name', name=op.f('uq_post_image_stored_name')),
        sqlite_autoincrement=True,
    )


def downgrade():
    op.drop_table('post_image')
    op.drop_index(op.f('ix_bulletin_year_id'), table_name='bulletin')
    op.drop_table('bulletin')
