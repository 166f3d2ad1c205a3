"""Urgent cases: a crisis message arrived while the conversation waited for a worker

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 19:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('helpline_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('urgent_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('helpline_case', schema=None) as batch_op:
        batch_op.drop_column('urgent_at')
        batch_op.drop_column('urgent')
