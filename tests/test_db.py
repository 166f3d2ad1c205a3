"""The migrations and the models describe the same schema, on SQLite and PostgreSQL: a column
added to a model without its migration (or the other way round) fails here, not in production."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot import db
from bot.db import Base
import bot.channels.models  # noqa: F401  (every table's model must be mapped)
import bot.directory.models  # noqa: F401
import bot.referrals.models  # noqa: F401


def test_the_migrated_schema_matches_the_models(database_url):
    with db.engine_for(database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
