"""The API with the amphora provider and a controller worker on the in-process transport."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any

import pytest
from fastapi.testclient import TestClient

from octavia.controller.worker import drivers
from tests.functional.conftest import ApiClient

NOOP_DRIVERS = {
    "compute_driver": "compute_noop_driver",
    "network_driver": "network_noop_driver",
    "amphora_driver": "amphora_noop_driver",
}


def _installed(group: str, name: str) -> bool:
    return bool(list(entry_points(group=group, name=name)))


@pytest.fixture
def worker_drivers() -> dict[str, str]:
    """[controller_worker] drivers for the test; a test may override this fixture."""
    return dict(NOOP_DRIVERS)


@pytest.fixture
def amphora_api(
    db: Any, overrides: Callable[..., None], worker_drivers: dict[str, str]
) -> Iterator[ApiClient]:
    if worker_drivers["amphora_driver"] == "amphora_noop_driver" and not _installed(
        "octavia.amphora.drivers", "amphora_noop_driver"
    ):
        pytest.skip("the amphora_noop_driver entry point is not installed")
    from octavia.api import policy
    from octavia.api.app import create_app
    from octavia.controller.worker import api as worker_api
    from octavia.providers.driver_agent import start_driver_agent

    overrides(group="api_settings", default_provider_driver="amphora", auth_strategy="noauth")
    overrides(group="controller_worker", amp_active_retries=5, amp_active_wait_sec=0.01, **worker_drivers)
    drivers.reset()
    policy.reset()
    agent = start_driver_agent()
    worker = worker_api.start_worker()
    try:
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            yield ApiClient(client)
    finally:
        worker.stop()
        agent.stop()
        drivers.reset()
