"""Directory entries carry a state (verified, unchecked, replaced, closed), the source of
their last check and, when replaced, their successor. Existing rows become unchecked,
except those already marked inactive, which become closed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 23:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=20), nullable=False, server_default='unchecked'))
        batch_op.add_column(sa.Column('checked_source', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('successor_id', sa.String(length=120), nullable=True))
        batch_op.create_index(batch_op.f('ix_service_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_successor_id'), ['successor_id'], unique=False)
    op.execute("UPDATE service SET state = 'closed' WHERE status <> 'active'")


def downgrade() -> None:
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_successor_id'))
        batch_op.drop_index(batch_op.f('ix_service_state'))
        batch_op.drop_column('successor_id')
        batch_op.drop_column('checked_source')
        batch_op.drop_column('state')
