"""A throwaway SQLite registry and a loopback-mode local network driver over it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from octavia.common import config
from octavia.db import api as db_api
from octavia.db import models


@pytest.fixture
def registry_db(state_dir: str) -> Iterator[Any]:
    engine = db_api.make_engine(f"sqlite:///{state_dir}/registry.sqlite")
    models.Base.metadata.create_all(engine)
    db_api.set_engine(engine)
    yield engine
    db_api.set_engine(None)


@pytest.fixture
def loopback_mode() -> Iterator[None]:
    config.CONF.set_override("local_amphora_mode", "loopback", group="controller_worker")
    yield
    config.CONF.clear_override("local_amphora_mode", group="controller_worker")


@pytest.fixture
def local_driver(registry_db: Any, loopback_mode: None) -> Any:
    from octavia.network.local import LocalNetworkDriver

    return LocalNetworkDriver()
