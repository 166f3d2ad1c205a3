"""SMS and Telegram channels: delivered message ids, numbered options, opt-outs

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 06:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'external_id', name='uq_channel_delivery')
    )
    with op.batch_alter_table('channel_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_delivery_received_at'), ['received_at'], unique=False)

    op.create_table('sms_menu',
    sa.Column('sender_id', sa.String(length=32), nullable=False),
    sa.Column('payloads', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sender_id')
    )
    op.create_table('sms_opt_out',
    sa.Column('sender_id', sa.String(length=32), nullable=False),
    sa.Column('opted_out_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sender_id')
    )


def downgrade() -> None:
    op.drop_table('sms_opt_out')
    op.drop_table('sms_menu')
    with op.batch_alter_table('channel_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_delivery_received_at'))

    op.drop_table('channel_delivery')
