"""One all-in-one per amphora mode for the whole package, and member servers per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.aio import member_servers, mode_params, started, temp_root
from tests.integration.e2e.harness import AllInOne
from tests.integration.e2e.traffic import NamedBackend


@pytest.fixture(scope="package", params=mode_params())
def aio(request: pytest.FixtureRequest) -> Iterator[AllInOne]:
    with temp_root(f"e2e-{request.param}-") as root, started(AllInOne(root, request.param)) as service:
        yield service


@pytest.fixture
def backends(aio: AllInOne) -> Iterator[list[NamedBackend]]:
    """Four members on the VIP subnet's gateway address (the host), named b1..b4."""
    with member_servers(aio, 4) as servers:
        yield servers
