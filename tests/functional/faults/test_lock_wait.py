"""A request that waits on a row lock for longer than the database allows.

Another transaction (a stuck worker, an operator's open SQL session) holds the load
balancer's row; the API's conditional UPDATE waits for it until the server gives up:
PostgreSQL's lock_timeout, MySQL's innodb_lock_wait_timeout (error 1205). The client
gets the same 503 as for an unreachable database, not a 500, and nothing of the request
stays behind: once the lock is gone the same update succeeds. SQLite has no row locks;
its equivalent, a writer outwaiting the busy timeout, is test_db_outage's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, update

from octavia.common import constants as c
from octavia.db import api as db_api
from octavia.db import models

LOCK_TIMEOUT_S = 1
DB_DOWN = {
    "faultcode": "Server",
    "faultstring": "The database is unavailable; retry the request later.",
    "debuginfo": None,
}
SET_TIMEOUT = {
    "postgresql": f"SET lock_timeout = {LOCK_TIMEOUT_S * 1000}",
    "mysql": f"SET SESSION innodb_lock_wait_timeout = {LOCK_TIMEOUT_S}",
}


@pytest.fixture
def short_lock_wait(db: Engine, migrated_template: dict[str, Any]) -> Iterator[Engine]:
    """The service's database with a lock wait bound of LOCK_TIMEOUT_S on every connection."""
    if "sqlite_template" in migrated_template:
        pytest.skip("SQLite has no row locks (its busy timeout is test_db_outage's case)")
    engine = db_api.make_engine(migrated_template["server_url"])
    statement = SET_TIMEOUT[engine.dialect.name]

    @event.listens_for(engine, "connect")
    def _bound_lock_waits(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(statement)
        cur.close()
        dbapi_conn.commit()

    db_api.set_engine(engine)
    yield engine
    db_api.set_engine(db)


def test_update_blocked_past_the_lock_timeout_answers_503(api: Any, short_lock_wait: Engine) -> None:
    lb = api.create_lb(name="before")
    path = f"/v2/lbaas/loadbalancers/{lb['id']}"
    with short_lock_wait.connect() as holder, holder.begin():
        holder.execute(update(models.LoadBalancer).where(models.LoadBalancer.id == lb["id"])
                       .values(description="held by another transaction"))
        started = time.monotonic()
        resp = api.put(path, json={"loadbalancer": {"name": "blocked"}})
        waited = time.monotonic() - started
        holder.rollback()
    assert (resp.status_code, resp.json()) == (503, DB_DOWN)
    assert LOCK_TIMEOUT_S * 0.9 <= waited < LOCK_TIMEOUT_S + 5, waited
    after = api.get(path).json()["loadbalancer"]
    assert (after["name"], after["provisioning_status"]) == ("before", c.ACTIVE)
    resp = api.put(path, json={"loadbalancer": {"name": "after"}})
    assert resp.status_code == 200, resp.text
    assert api.wait_lb(lb["id"])["name"] == "after"
