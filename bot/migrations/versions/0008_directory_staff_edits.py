"""Staff keep the directory current (issue 17): when staff last changed or checked each field of
an entry, so a later import never silently overwrites a value staff vouched for more recently.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'directory_staff_edit',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service_id', sa.String(length=120), nullable=False),
        sa.Column('field', sa.String(length=40), nullable=False),
        sa.Column('staff_on', sa.Date(), nullable=False),
        sa.Column('reported', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['service_id'], ['service.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('service_id', 'field'),
    )
    op.create_index('ix_directory_staff_edit_service_id', 'directory_staff_edit', ['service_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_directory_staff_edit_service_id', table_name='directory_staff_edit')
    op.drop_table('directory_staff_edit')
