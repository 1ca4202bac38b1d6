"""Alembic environment of the sprintclear store.

``api.store.database.migrate`` hands Alembic an open connection (inside the
transaction that also holds the migration lock on PostgreSQL). Run from
Alembic's own command line, the URL comes from ``SPRINTCLEAR_DATABASE_URL``.
Logging is left as the caller configured it.
"""

from __future__ import annotations

from alembic import context

from api.store.tables import Base

config = context.config
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    from api.settings import Settings
    from api.store.database import make_engine

    engine = make_engine(Settings().database_url)
    with engine.begin() as own_connection:
        context.configure(connection=own_connection, target_metadata=Base.metadata,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
