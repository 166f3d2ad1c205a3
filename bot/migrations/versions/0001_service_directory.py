"""service directory

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 18:53:51.901975
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('location',
    sa.Column('id', sa.String(length=120), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('postcode', sa.String(length=10), nullable=True),
    sa.Column('council_code', sa.String(length=10), nullable=True),
    sa.Column('prison_id', sa.String(length=10), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_location_council_code'), ['council_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_location_prison_id'), ['prison_id'], unique=False)

    op.create_table('organization',
    sa.Column('id', sa.String(length=120), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('source_document',
    sa.Column('id', sa.String(length=120), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('published', sa.String(length=10), nullable=True),
    sa.Column('reference', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('taxonomy_term',
    sa.Column('id', sa.String(length=60), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('vocabulary', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('service',
    sa.Column('id', sa.String(length=120), nullable=False),
    sa.Column('organization_id', sa.String(length=120), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('opening_times', sa.Text(), nullable=True),
    sa.Column('source_id', sa.String(length=120), nullable=True),
    sa.Column('source_quote', sa.Text(), nullable=True),
    sa.Column('last_verified', sa.Date(), nullable=True),
    sa.Column('verified_by', sa.Text(), nullable=True),
    sa.Column('suits_family', sa.Boolean(), nullable=False),
    sa.Column('suits_young_person', sa.Boolean(), nullable=False),
    sa.Column('suits_professional', sa.Boolean(), nullable=False),
    sa.Column('professionals_only', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['source_document.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_source_id'), ['source_id'], unique=False)

    op.create_table('eligibility',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('service_id', sa.String(length=120), nullable=False),
    sa.Column('eligibility', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('service_id', 'eligibility')
    )
    with op.batch_alter_table('eligibility', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eligibility_service_id'), ['service_id'], unique=False)

    op.create_table('phone',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('service_id', sa.String(length=120), nullable=True),
    sa.Column('organization_id', sa.String(length=120), nullable=True),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('phone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phone_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_phone_service_id'), ['service_id'], unique=False)

    op.create_table('service_area',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('service_id', sa.String(length=120), nullable=False),
    sa.Column('area_key', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('service_id', 'area_key')
    )
    with op.batch_alter_table('service_area', schema=None) as batch_op:
        batch_op.create_index('ix_service_area_key', ['area_key', 'service_id'], unique=False)

    op.create_table('service_at_location',
    sa.Column('id', sa.String(length=250), nullable=False),
    sa.Column('service_id', sa.String(length=120), nullable=False),
    sa.Column('location_id', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('service_id', 'location_id')
    )
    with op.batch_alter_table('service_at_location', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_at_location_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_at_location_service_id'), ['service_id'], unique=False)

    op.create_table('service_taxonomy',
    sa.Column('service_id', sa.String(length=120), nullable=False),
    sa.Column('taxonomy_term_id', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['taxonomy_term_id'], ['taxonomy_term.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_id', 'taxonomy_term_id')
    )
    with op.batch_alter_table('service_taxonomy', schema=None) as batch_op:
        batch_op.create_index('ix_service_taxonomy_term', ['taxonomy_term_id', 'service_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('service_taxonomy', schema=None) as batch_op:
        batch_op.drop_index('ix_service_taxonomy_term')

    op.drop_table('service_taxonomy')
    with op.batch_alter_table('service_at_location', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_at_location_service_id'))
        batch_op.drop_index(batch_op.f('ix_service_at_location_location_id'))

    op.drop_table('service_at_location')
    with op.batch_alter_table('service_area', schema=None) as batch_op:
        batch_op.drop_index('ix_service_area_key')

    op.drop_table('service_area')
    with op.batch_alter_table('phone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phone_service_id'))
        batch_op.drop_index(batch_op.f('ix_phone_organization_id'))

    op.drop_table('phone')
    with op.batch_alter_table('eligibility', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eligibility_service_id'))

    op.drop_table('eligibility')
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_source_id'))
        batch_op.drop_index(batch_op.f('ix_service_organization_id'))

    op.drop_table('service')
    op.drop_table('taxonomy_term')
    op.drop_table('source_document')
    op.drop_table('organization')
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_location_prison_id'))
        batch_op.drop_index(batch_op.f('ix_location_council_code'))

    op.drop_table('location')
