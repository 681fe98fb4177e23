"""The functional `db` fixture, reached through a path a test can cut (`outage`).

SQLite (the default): the database file with a 2 s busy timeout, cut by another process
holding the write lock. PostgreSQL, MySQL (OCTAVIA_TEST_DB_URL): the test schema reached
through a loopback proxy, cut by closing it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import make_url

from octavia.db import api as db_api
from tests.functional import databases
from tests.functional.faults.outages import CuttableProxy, Outage, SqliteWriteLock

SQLITE_BUSY_TIMEOUT_S = 2
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306}


@pytest.fixture
def outage(state_dir: str, migrated_template: dict[str, Any]) -> Iterator[Outage]:
    made: Outage
    if "sqlite_template" in migrated_template:
        made = SqliteWriteLock(os.path.join(state_dir, "octavia.sqlite"))
    else:
        url = make_url(migrated_template["server_url"])
        backend = url.get_backend_name()
        made = CuttableProxy(url.host or "127.0.0.1", url.port or DEFAULT_PORTS[backend], backend)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def db(state_dir: str, migrated_template: dict[str, Any], outage: Outage) -> Iterator[Any]:
    if isinstance(outage, SqliteWriteLock):
        shutil.copyfile(migrated_template["sqlite_template"], outage.path)
        engine = db_api.make_engine(f"sqlite:///{outage.path}?timeout={SQLITE_BUSY_TIMEOUT_S}")
    else:
        assert isinstance(outage, CuttableProxy)
        url = make_url(migrated_template["server_url"]).set(host="127.0.0.1", port=outage.port)
        engine = db_api.make_engine(url.render_as_string(hide_password=False))
        databases.empty_tables(engine, migrated_template["tables"])
    db_api.set_engine(engine)
    yield engine
    db_api.set_engine(None)
    engine.dispose()
