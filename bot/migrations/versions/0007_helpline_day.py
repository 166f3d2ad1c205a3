"""A helpline worker's day (issue 17): cases carry a priority, response times, a concern for
someone inside and an outcome code; saved replies; conversation summaries (kept current from
the tracker store) for the measures and the review loop; reviewers' tags and labels.
Cases already marked urgent become priority urgent.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 18:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('helpline_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.String(length=10), nullable=False, server_default='normal'))
        batch_op.add_column(sa.Column('priority_rank', sa.Integer(), nullable=False, server_default='2'))
        batch_op.add_column(sa.Column('priority_reason', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('first_response_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('called_back_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('concern', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('concern_prison_id', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('concern_person_name', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('concern_kind', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('concern_last_heard', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('concern_passed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('concern_passed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('concern_passed_how', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('outcome_code', sa.String(length=30), nullable=True))
        batch_op.create_foreign_key('fk_helpline_case_concern_passed_by', 'staff_user', ['concern_passed_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_case_status_priority_created', ['status', 'priority_rank', 'created_at'], unique=False)
    op.execute("UPDATE helpline_case SET priority = 'urgent', priority_rank = 0, priority_reason = 'crisis_while_waiting' WHERE urgent")
    op.execute("UPDATE helpline_case SET first_response_at = claimed_at WHERE claimed_at IS NOT NULL")

    op.create_table(
        'saved_reply',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('tags', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'conversation_summary',
        sa.Column('sender_id', sa.String(length=255), nullable=False),
        sa.Column('ref', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=40), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('last_at', sa.DateTime(), nullable=False),
        sa.Column('week', sa.String(length=10), nullable=False),
        sa.Column('council_code', sa.String(length=10), nullable=False),
        sa.Column('audience', sa.String(length=20), nullable=False),
        sa.Column('messages', sa.Integer(), nullable=False),
        sa.Column('questions', sa.Integer(), nullable=False),
        sa.Column('fallbacks', sa.Integer(), nullable=False),
        sa.Column('asked_for_person', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('form_abandoned', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('safety', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('last_unanswered', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('contained', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('helpful', sa.Integer(), nullable=False),
        sa.Column('not_helpful', sa.Integer(), nullable=False),
        sa.Column('not_understood_topics', sa.Text(), nullable=False),
        sa.Column('last_event_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.Text(), nullable=False),
        sa.Column('reviewed', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint('sender_id'),
    )
    op.create_index('ix_conversation_summary_week', 'conversation_summary', [
        'week', 'council_code', 'channel', 'audience', 'messages', 'questions', 'fallbacks', 'contained', 'asked_for_person',
        'form_abandoned', 'helpful', 'not_helpful', 'sender_id'], unique=False)
    op.create_index('ix_conversation_summary_last_at', 'conversation_summary', ['last_at'], unique=False)
    op.create_index('ix_conversation_summary_ref', 'conversation_summary', ['ref'], unique=True)
    op.create_table(
        'conversation_topic',
        sa.Column('sender_id', sa.String(length=255), nullable=False),
        sa.Column('topic', sa.String(length=60), nullable=False),
        sa.Column('questions', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['sender_id'], ['conversation_summary.sender_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('sender_id', 'topic'),
    )
    op.create_index('ix_conversation_topic_topic', 'conversation_topic', ['topic', 'sender_id', 'questions'], unique=False)
    op.create_table(
        'summary_watermark',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('last_event_id', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.create_table(
        'conversation_review',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sender_id', sa.String(length=255), nullable=False),
        sa.Column('tag', sa.String(length=20), nullable=False),
        sa.Column('reviewer_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['reviewer_id'], ['staff_user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_conversation_review_sender_id', 'conversation_review', ['sender_id'], unique=False)
    op.create_table(
        'review_label',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sender_id', sa.String(length=255), nullable=False),
        sa.Column('event_timestamp', sa.Float(), nullable=False),
        sa.Column('intent', sa.String(length=80), nullable=False),
        sa.Column('reviewer_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('exported_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['reviewer_id'], ['staff_user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_review_label_sender_id', 'review_label', ['sender_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_review_label_sender_id', table_name='review_label')
    op.drop_table('review_label')
    op.drop_index('ix_conversation_review_sender_id', table_name='conversation_review')
    op.drop_table('conversation_review')
    op.drop_table('summary_watermark')
    op.drop_index('ix_conversation_topic_topic', table_name='conversation_topic')
    op.drop_table('conversation_topic')
    op.drop_index('ix_conversation_summary_ref', table_name='conversation_summary')
    op.drop_index('ix_conversation_summary_last_at', table_name='conversation_summary')
    op.drop_index('ix_conversation_summary_week', table_name='conversation_summary')
    op.drop_table('conversation_summary')
    op.drop_table('saved_reply')
    with op.batch_alter_table('helpline_case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_status_priority_created')
        batch_op.drop_constraint('fk_helpline_case_concern_passed_by', type_='foreignkey')
        for name in ('outcome_code', 'concern_passed_how', 'concern_passed_by_id', 'concern_passed_at', 'concern_last_heard',
                     'concern_kind', 'concern_person_name', 'concern_prison_id', 'concern', 'called_back_at',
                     'first_response_at', 'priority_reason', 'priority_rank', 'priority'):
            batch_op.drop_column(name)
