"""One tuned all-in-one per amphora mode (SINGLE topology), member servers, and one
populated load balancer shared by the package's failure tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.active_standby.harness import TunedAllInOne
from tests.integration.aio import live_lb, member_servers, mode_params, started, temp_root
from tests.integration.e2e.traffic import NamedBackend


@pytest.fixture(scope="package", params=mode_params())
def aio(request: pytest.FixtureRequest) -> Iterator[TunedAllInOne]:
    with temp_root(f"fo-{request.param}-") as root, started(TunedAllInOne(root, request.param)) as service:
        yield service


@pytest.fixture(scope="package")
def backends(aio: TunedAllInOne) -> Iterator[list[NamedBackend]]:
    with member_servers(aio, 2) as servers:
        yield servers


@pytest.fixture(scope="package")
def single_lb(aio: TunedAllInOne, backends: list[NamedBackend]) -> Iterator[dict[str, Any]]:
    with live_lb(aio, backends, "single") as created:
        yield created
