"""API + real database fixtures.

`api` is a FastAPI TestClient over the real app and a migrated database (SQLite by
default; set OCTAVIA_TEST_DB_URL to a PostgreSQL or MySQL URL to run the same tests there).
The noop provider finishes work asynchronously through the driver agent, so tests wait
for ACTIVE with `wait_for` instead of assuming it.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from octavia.api import policy
from octavia.common import config
from octavia.db import api as db_api
from octavia.db import migration, models
from octavia.network import loader as network_loader
from tests.functional import databases

CONF = config.CONF
PROJECT = "a" * 32


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Run the migrations once per test process; each test then starts from a copy.

    SQLite: a migrated file copied per test. PostgreSQL, MySQL: one migrated schema per
    process, its tables emptied between tests (creating and migrating a schema per test
    costs seconds). `server_url` is that schema's URL.
    """
    url = os.environ.get("OCTAVIA_TEST_DB_URL")
    if not url:
        path = str(tmp_path_factory.mktemp("template") / "octavia.sqlite")
        engine = db_api.make_engine(f"sqlite:///{path}")
        migration.upgrade(engine=engine)
        engine.dispose()
        yield {"sqlite_template": path}
        return
    name, schema_url = databases.create_namespace(url)
    engine = db_api.make_engine(schema_url)
    migration.upgrade(engine=engine)
    tables = [t.name for t in models.Base.metadata.sorted_tables]
    engine.dispose()
    yield {"server_url": schema_url, "tables": tables}
    databases.drop_namespace(url, name)


@pytest.fixture
def db(state_dir: str, migrated_template: dict[str, Any]) -> Iterator[Any]:
    if "sqlite_template" in migrated_template:
        target = os.path.join(state_dir, "octavia.sqlite")
        shutil.copyfile(migrated_template["sqlite_template"], target)
        engine = db_api.make_engine(f"sqlite:///{target}")
    else:
        engine = db_api.make_engine(migrated_template["server_url"])
        databases.empty_tables(engine, migrated_template["tables"])
    db_api.set_engine(engine)
    yield engine
    db_api.set_engine(None)
    engine.dispose()


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
def api(driver_agent: Any) -> Iterator[ApiClient]:
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
