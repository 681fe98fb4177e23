"""Fixtures for the hardening tests: the real API on a loopback port, with or without completion.

`live` serves the API with the noop provider and the driver agent, so objects settle
by themselves. `live_unsettled` serves it with no driver agent: the provider's
reports fail at once (its sockets are plain files, as after an agent crash), so
a load balancer a request locked stays PENDING_UPDATE until the test itself plays
the provider and sets it back to ACTIVE.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.functional.hardening.live import live_api


@pytest.fixture
def live(driver_agent: Any) -> Iterator[str]:
    with live_api() as url:
        yield url


@pytest.fixture
def live_unsettled(db: Any, app_config: None, overrides: Callable[..., None],
                   tmp_path: Path) -> Iterator[str]:
    for name in ("status", "stats", "get"):
        dead = tmp_path / f"{name}.sock"
        dead.write_text("")
        overrides(group="driver_agent", **{f"{name}_socket_path": str(dead)})
    with live_api() as url:
        yield url
