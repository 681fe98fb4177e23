"""A connection that drops while a session is open, after its statements ran.

The worker reads an amphora or a load balancer, talks to the amphora for seconds
inside that session, then leaves it: a read keeps what it read, a write fails (its
commit never reached the server) and leaves nothing behind. Only a database server
(PostgreSQL, MySQL) drops a connection; a SQLite write lock does not touch readers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError

from octavia.common import constants as c
from octavia.db import models as M
from octavia.db.api import session_scope
from tests.functional.faults.outages import CuttableProxy, Outage


@pytest.fixture
def proxy(outage: Outage, db: Engine) -> Iterator[CuttableProxy]:
    if not isinstance(outage, CuttableProxy):
        pytest.skip("a SQLite write lock does not drop a reader's connection")
    yield outage
    outage.restore()


def _add_amphora(status: str = c.AMPHORA_READY) -> str:
    with session_scope(write=True) as session:
        amp = M.Amphora(status=status)
        session.add(amp)
        session.flush()
        return amp.id


def _count_amphorae() -> int:
    with session_scope() as session:
        return session.execute(select(func.count()).select_from(M.Amphora)).scalar_one()


def test_a_read_keeps_its_rows_when_the_connection_drops_before_it_ends(proxy: CuttableProxy) -> None:
    amp_id = _add_amphora()
    with session_scope() as session:
        amp = session.get(M.Amphora, amp_id)
        assert amp is not None
        proxy.cut()
    assert (amp.id, amp.status) == (amp_id, c.AMPHORA_READY)
    proxy.restore()
    assert _count_amphorae() == 1


def test_a_write_fails_and_leaves_nothing_when_the_connection_drops(proxy: CuttableProxy) -> None:
    with pytest.raises(OperationalError), session_scope(write=True) as session:
        session.add(M.Amphora(status=c.AMPHORA_READY))
        session.flush()
        proxy.cut()
    proxy.restore()
    assert _count_amphorae() == 0


def test_a_change_made_in_a_read_scope_is_committed_not_dropped(proxy: CuttableProxy) -> None:
    amp_id = _add_amphora()
    with session_scope() as session:
        amp = session.get(M.Amphora, amp_id)
        assert amp is not None
        amp.status = c.AMPHORA_ALLOCATED
    with session_scope() as session:
        assert session.get(M.Amphora, amp_id).status == c.AMPHORA_ALLOCATED  # type: ignore[union-attr]
    with pytest.raises(OperationalError), session_scope() as session:
        amp = session.get(M.Amphora, amp_id)
        assert amp is not None
        amp.status = c.AMPHORA_READY
        session.flush()
        proxy.cut()
    proxy.restore()
    with session_scope() as session:
        assert session.get(M.Amphora, amp_id).status == c.AMPHORA_ALLOCATED  # type: ignore[union-attr]
