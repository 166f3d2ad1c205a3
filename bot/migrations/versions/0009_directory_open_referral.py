"""The directory as an Open Referral UK (HSDS 3.0) API (issue 18): every record's stable UUID,
when each service last changed (HSDS last_modified, the API's modified_after), whether it is on
offer (the API's lists page through (offered, id)), and each location's coordinates (the centre
of its postcode's district) for "near this postcode".

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 22:00:00
"""
import uuid
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# As bot.directory.models.stable_uuid at the time of writing (a migration keeps its own copy).
NAMESPACE = uuid.UUID("6f1c0c9e-3b7a-5d4e-9a51-0c1f2a7e8b34")
TABLES = ("organization", "service", "location", "service_at_location", "taxonomy_term")


def _stable_uuid(kind: str, key: str) -> str:
    try:
        return str(uuid.UUID(key))
    except ValueError:
        return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('uuid', sa.String(length=36), nullable=True))
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.add_column(sa.Column('modified_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('offered', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Float(), nullable=True))

    connection = op.get_bind()
    for table in TABLES:
        rows = connection.execute(sa.text(f"SELECT id FROM {table}")).scalars().all()
        for key in rows:
            connection.execute(sa.text(f"UPDATE {table} SET uuid = :uuid WHERE id = :id"), {"uuid": _stable_uuid(table, key), "id": key})
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    connection.execute(sa.text("UPDATE service SET modified_at = :now"), {"now": now})
    connection.execute(
        sa.text("UPDATE service SET offered = :yes WHERE state IN ('verified', 'unchecked') AND status = 'active'"), {"yes": True}
    )
    _locate(connection)

    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('uuid', existing_type=sa.String(length=36), nullable=False)
            batch_op.create_index(f'ix_{table}_uuid', ['uuid'], unique=True)
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.alter_column('modified_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index('ix_service_modified_at', ['modified_at'], unique=False)
        batch_op.create_index('ix_service_offered_id', ['offered', 'id'], unique=False)
    op.create_index('ix_location_latitude_longitude', 'location', ['latitude', 'longitude', 'id'], unique=False)


def _locate(connection) -> None:
    """Each location with a postcode: the centre of its postcode district (the reference data)."""
    from bot.geo import gazetteer

    gaz = gazetteer()
    rows = connection.execute(sa.text("SELECT id, postcode FROM location WHERE postcode IS NOT NULL")).all()
    for key, postcode in rows:
        district = gaz.find_district(postcode)
        if district is not None and district.lat is not None:
            connection.execute(
                sa.text("UPDATE location SET latitude = :lat, longitude = :long WHERE id = :id"),
                {"lat": district.lat, "long": district.long, "id": key},
            )


def downgrade() -> None:
    op.drop_index('ix_location_latitude_longitude', table_name='location')
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_column('longitude')
        batch_op.drop_column('latitude')
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_index('ix_service_offered_id')
        batch_op.drop_index('ix_service_modified_at')
        batch_op.drop_column('offered')
        batch_op.drop_column('modified_at')
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_uuid')
            batch_op.drop_column('uuid')
