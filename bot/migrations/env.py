"""Alembic environment: all our tables (directory, referrals, staff, channels) on the configured database."""
from __future__ import annotations

from alembic import context

import bot.channels.models  # noqa: F401
import bot.directory.models  # noqa: F401
import bot.insights.models  # noqa: F401
import bot.referrals.models  # noqa: F401
import bot.staff.models  # noqa: F401  (registers the tables on Base)
from bot.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    # A migration may rewrite a large table: no statement timeout here.
    engine = make_engine(config.get_main_option("sqlalchemy.url"), statement_timeout=0)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration copies a table and drops the old one; with foreign keys enforced,
            # that drop would cascade-delete every row that refers to it (a service's phones, areas,
            # locations). Off while migrating, checked after; set on the driver's connection, since a
            # PRAGMA inside the transaction SQLAlchemy begins (bot.db emits BEGIN itself) does nothing.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys = OFF")
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            raw = connection.connection.dbapi_connection
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            raw.execute("PRAGMA foreign_keys = ON")
            if broken:
                raise RuntimeError(f"the migration left {len(broken)} row(s) referring to rows that do not exist")
    engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
