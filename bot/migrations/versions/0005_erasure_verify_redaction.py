"""Erasure verified on a later pass (erasure_request.erased_at); redaction requests for
call-back forms that ended unsent

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 19:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('erasure_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(), nullable=True))
    op.create_table('redaction_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.String(length=255), nullable=False),
    sa.Column('since', sa.Float(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('redaction_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_redaction_request_sender_id'), ['sender_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('redaction_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redaction_request_sender_id'))
    op.drop_table('redaction_request')
    with op.batch_alter_table('erasure_request', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
