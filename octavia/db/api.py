"""Engine and session handling for SQLite, PostgreSQL and MySQL.

SQLite runs in WAL mode with foreign keys on; write transactions start with
`BEGIN IMMEDIATE` so that concurrent writers queue on the busy timeout instead of
failing when a read lock would have to be upgraded. MySQL runs in READ COMMITTED, as
PostgreSQL does by default, so that both see the same concurrent behaviour. The busy timeout is pysqlite's own
URL parameter (`sqlite:///path?timeout=5`, seconds; default 30): a writer that waits
longer gets "database is locked", which the API answers with 503.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, UOWTransaction, sessionmaker

from octavia.common import config

_lock = threading.Lock()
_engine: Engine | None = None
_factory: sessionmaker[Session] | None = None

SQLITE_BUSY_TIMEOUT_MS = 30000


def sqlite_busy_timeout_ms(url: str) -> int:
    """The URL's `timeout` (seconds) in milliseconds, else SQLITE_BUSY_TIMEOUT_MS."""
    value = make_url(url).query.get("timeout")
    if isinstance(value, tuple):
        value = value[-1]
    return int(float(value) * 1000) if value else SQLITE_BUSY_TIMEOUT_MS


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.info.get("write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        busy_timeout_ms = sqlite_busy_timeout_ms(url)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
        )
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    db = config.CONF.database
    options: dict[str, Any] = {}
    if make_url(url).get_backend_name() in ("mysql", "mariadb"):
        # InnoDB's REPEATABLE READ would answer from a snapshot taken before a row lock was
        # obtained (a quota count, the state of an LB another request just locked); READ
        # COMMITTED reads what the lock holder committed, as on PostgreSQL.
        options["isolation_level"] = "READ COMMITTED"
    return create_engine(
        url,
        pool_size=db.max_pool_size,
        max_overflow=db.max_overflow,
        pool_timeout=db.pool_timeout,
        pool_pre_ping=True,
        **options,
    )


def get_engine() -> Engine:
    global _engine, _factory
    if _engine is None:
        with _lock:
            if _engine is None:
                _engine = make_engine(config.database_url())
                _factory = sessionmaker(bind=_engine, expire_on_commit=False)
    return _engine


def set_engine(engine: Engine | None) -> None:
    """Point the process at another database (tests, db-manage)."""
    global _engine, _factory
    with _lock:
        if _engine is not None and _engine is not engine:
            _engine.dispose()
        _engine = engine
        _factory = sessionmaker(bind=engine, expire_on_commit=False) if engine else None


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _flush: UOWTransaction) -> None:
    session.info["flushed"] = True


def _wrote(session: Session) -> bool:
    return bool(session.info.get("flushed") or session.new or session.dirty or session.deleted)


def _end_read(conn: Connection, session: Session) -> None:
    """Commit (which, unlike a rollback, keeps the loaded rows usable after the scope);
    a connection lost by now only costs the connection."""
    try:
        session.commit()
    except DBAPIError:
        session.expunge_all()
        conn.invalidate()


@contextlib.contextmanager
def session_scope(write: bool = False) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error.

    A read that has its rows ends its transaction without failing: the worker reads
    an amphora, talks to it for seconds, then leaves the scope, and a connection that
    dropped meanwhile must not turn that finished work into an error (nothing was
    written, so nothing is lost)."""
    engine = get_engine()
    assert _factory is not None
    with engine.connect() as conn:
        conn.info["write"] = write
        with Session(bind=conn, expire_on_commit=False) as session:
            try:
                yield session
                if write or _wrote(session):
                    session.commit()
                else:
                    _end_read(conn, session)
            except BaseException:
                session.rollback()
                raise
            finally:
                if not conn.invalidated:
                    conn.info["write"] = False
