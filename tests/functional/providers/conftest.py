"""A real SQLite database and a running driver agent, per test.

The state directory is a short path under /tmp: unix socket paths are limited to 107
bytes and pytest's tmp_path can be long.
"""

from __future__ import annotations

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
def database(state: str) -> Iterator[Any]:
    engine = db_api.make_engine(f"sqlite:///{state}/octavia.sqlite")
    models.Base.metadata.create_all(engine)
    db_api.set_engine(engine)
    yield engine
    db_api.set_engine(None)


@pytest.fixture
def agent(database: Any) -> Iterator[DriverAgent]:
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
