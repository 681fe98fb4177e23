"""Alembic environment: runs against the engine `octavia.db.api` is configured with."""

from __future__ import annotations

from alembic import context

from octavia.db import api as db_api
from octavia.db import models

config = context.config


def run_migrations() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=models.Base.metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    with db_api.get_engine().connect() as connection:
        context.configure(connection=connection, target_metadata=models.Base.metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
