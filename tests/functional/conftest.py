"""API + real database fixtures.

`api` is a FastAPI TestClient over the real app and a migrated database (SQLite by
default; set OCTAVIA_TEST_DB_URL to a PostgreSQL URL to run the same tests there).
The noop provider finishes work asynchronously through the driver agent, so tests wait
for ACTIVE with `wait_for` instead of assuming it.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from octavia.api import policy
from octavia.common import config
from octavia.db import api as db_api
from octavia.db import migration
from octavia.network import loader as network_loader

CONF = config.CONF
PROJECT = "a" * 32


def _fresh_database(state: str) -> Any:
    url = os.environ.get("OCTAVIA_TEST_DB_URL")
    if not url:
        engine = db_api.make_engine(f"sqlite:///{state}/octavia.sqlite")
        migration.upgrade(engine=engine)
        return engine
    # One schema per test on PostgreSQL keeps tests independent and parallel-safe.
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    engine = db_api.make_engine(url)
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_conn: Any, _rec: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"SET search_path TO {schema}")
        cur.close()
        dbapi_conn.commit()

    migration.upgrade(engine=engine)
    engine.info = {"schema": schema, "admin_url": url}  # type: ignore[attr-defined]
    return engine


def _drop(engine: Any) -> None:
    info = getattr(engine, "info", None)
    engine.dispose()
    if info:
        admin = create_engine(info["admin_url"], isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {info['schema']} CASCADE"))
        admin.dispose()


@pytest.fixture
def db(state_dir: str) -> Iterator[Any]:
    engine = _fresh_database(state_dir)
    db_api.set_engine(engine)
    yield engine
    db_api.set_engine(None)
    _drop(engine)


@pytest.fixture
def overrides() -> Iterator[Callable[..., None]]:
    """Set config options for one test: overrides(group='api_settings', auth_strategy='testing')."""
    done: list[tuple[str, str | None]] = []

    def set_(group: str | None = None, **values: Any) -> None:
        for name, value in values.items():
            CONF.set_override(name, value, group=group)
            done.append((name, group))

    yield set_
    for name, group in reversed(done):
        CONF.clear_override(name, group=group)


@pytest.fixture
def app_config(overrides: Callable[..., None]) -> None:
    overrides(group="api_settings", default_provider_driver="noop_driver", auth_strategy="noauth")
    overrides(group="controller_worker", network_driver="network_noop_driver")
    network_loader.reset()
    policy.reset()


@pytest.fixture
def driver_agent(db: Any, app_config: None) -> Iterator[Any]:
    from octavia.providers.driver_agent import start_driver_agent

    agent = start_driver_agent()
    yield agent
    agent.stop()


@pytest.fixture
def api(driver_agent: Any) -> Iterator["ApiClient"]:
    from octavia.api.app import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield ApiClient(client)


class ApiClient:
    """A thin wrapper: default project header, JSON helpers and waiting for ACTIVE."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.headers: dict[str, str] = {"X-Project-Id": PROJECT}

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        merged = dict(self.headers)
        merged.update(headers or {})
        return self.client.request(method, path, headers=merged, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, json=json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.request("DELETE", path, **kw)

    def wait_for(self, path: str, key: str, status: str = "ACTIVE", timeout: float = 10.0) -> dict[str, Any]:
        """Poll until provisioning_status == status (or 404 when status == 'DELETED')."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            resp = self.get(path)
            if status == "DELETED" and resp.status_code == 404:
                return {}
            if resp.status_code == 200:
                last = resp.json()[key]
                if last["provisioning_status"] == status:
                    return last
            time.sleep(0.01)
        raise AssertionError(f"{path} never reached {status}: {last}")

    def create_lb(self, **fields: Any) -> dict[str, Any]:
        body = {"vip_subnet_id": str(uuid.uuid4()), **fields}
        resp = self.post("/v2/lbaas/loadbalancers", json={"loadbalancer": body})
        assert resp.status_code == 201, resp.text
        lb = resp.json()["loadbalancer"]
        return self.wait_for(f"/v2/lbaas/loadbalancers/{lb['id']}", "loadbalancer")

    def wait_lb(self, lb_id: str) -> dict[str, Any]:
        return self.wait_for(f"/v2/lbaas/loadbalancers/{lb_id}", "loadbalancer")
