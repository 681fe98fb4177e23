"""A throw-away PostgreSQL database for an integration test's own service processes.

The server is the one `make test` starts (tools/start-postgres.sh); tests that need it
skip with a reason when it does not answer.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get("OCTAVIA_TEST_PG_ADMIN_URL", "postgresql+psycopg://octavia:octavia@127.0.0.1/postgres")


def postgres_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A new database's URL (password included), dropped afterwards."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
