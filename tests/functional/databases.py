"""A private namespace on the database server OCTAVIA_TEST_DB_URL names, and emptying it.

PostgreSQL: a schema, reached through the connection's search_path. MySQL/MariaDB: a
database (MySQL's schema), named with the test database's name as prefix so that the
test user's rights (`octavia_test%`, tools/start-mysql.sh) cover it. Parallel test
processes each get their own, so one never empties the tables another is using.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Engine, create_engine, make_url, text


def is_mysql(url: str) -> bool:
    return make_url(url).get_backend_name() in ("mysql", "mariadb")


def create_namespace(url: str) -> tuple[str, str]:
    """Make a fresh schema (database on MySQL); returns (its name, a URL that uses it)."""
    if is_mysql(url):
        name = f"{make_url(url).database}_{uuid.uuid4().hex[:12]}"
        _admin(url, f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        return name, make_url(url).set(database=name).render_as_string(hide_password=False)
    name = "t_" + uuid.uuid4().hex[:12]
    _admin(url, f"CREATE SCHEMA {name}")
    sep = "&" if "?" in url else "?"
    return name, f"{url}{sep}options=-csearch_path%3D{name}"


def drop_namespace(url: str, name: str) -> None:
    _admin(url, f"DROP DATABASE {name}" if is_mysql(url) else f"DROP SCHEMA {name} CASCADE")


def empty_tables(engine: Engine, tables: Iterable[str]) -> None:
    """Delete every row. MySQL has no TRUNCATE ... CASCADE and refuses to truncate a table
    other tables reference, so it deletes with the foreign key checks off for the session
    (a DELETE of these few rows is also quicker there than TRUNCATE, which recreates the table)."""
    names = list(tables)
    with engine.begin() as conn:
        if engine.dialect.name in ("mysql", "mariadb"):
            conn.execute(text("SET SESSION foreign_key_checks = 0"))
            for name in names:
                conn.execute(text(f"DELETE FROM {name}"))
            conn.execute(text("SET SESSION foreign_key_checks = 1"))
        else:
            conn.execute(text("TRUNCATE " + ", ".join(names) + " CASCADE"))


def _admin(url: str, statement: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
    admin.dispose()
