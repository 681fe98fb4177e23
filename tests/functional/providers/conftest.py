"""A real database (SQLite, or PostgreSQL/MySQL with OCTAVIA_TEST_DB_URL) and a running driver
agent, per test.

The state directory is a short path under /tmp: unix socket paths are limited to 107
bytes and pytest's tmp_path can be long.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from octavia.common import config
from octavia.db import api as db_api
from octavia.db import models
from octavia.network import loader as network_loader
from octavia.providers import loader
from octavia.providers.agent_client import DriverAgentClient
from octavia.providers.driver_agent import DriverAgent, start_driver_agent
from tests.functional import databases

from .helpers import Database

CONF = config.CONF


@pytest.fixture
def state() -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="octp-", dir="/tmp")
    CONF.set_override("state_path", path)
    CONF.set_override("network_driver", "network_noop_driver", group="controller_worker")
    network_loader.reset()
    yield path
    CONF.clear_override("network_driver", group="controller_worker")
    CONF.clear_override("state_path")
    network_loader.reset()
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def database(state: str) -> Iterator[Database]:
    """SQLite in the state directory, or a fresh schema of OCTAVIA_TEST_DB_URL (PostgreSQL, MySQL)."""
    url = os.environ.get("OCTAVIA_TEST_DB_URL")
    if url:
        schema, shared_url = databases.create_namespace(url)
    else:
        shared_url = f"sqlite:///{state}/octavia.sqlite"
    engine = db_api.make_engine(shared_url)
    models.Base.metadata.create_all(engine)
    db_api.set_engine(engine)
    yield Database(engine, shared_url)
    db_api.set_engine(None)
    if url:
        databases.drop_namespace(url, schema)


@pytest.fixture
def agent(database: Database) -> Iterator[DriverAgent]:
    running = start_driver_agent()
    yield running
    running.stop()


@pytest.fixture
def client(agent: DriverAgent) -> DriverAgentClient:
    return DriverAgentClient()


@pytest.fixture
def noop(agent: DriverAgent) -> Any:
    loader.reset()
    return loader.get_driver("noop_driver")
