"""Schema management through Alembic (also used by the all-in-one at start)."""

from __future__ import annotations

import os

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from octavia.db import api as db_api

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config(os.path.join(MIGRATIONS, "alembic.ini"))
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(revision: str = "head", engine: Engine | None = None) -> None:
    engine = engine or db_api.get_engine()
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current(engine: Engine | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = engine or db_api.get_engine()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
