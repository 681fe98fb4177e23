"""Every driver named in the entry points loads and implements its whole contract."""

from __future__ import annotations

import inspect
from importlib.metadata import entry_points

import pytest

from octavia.compute.base import ComputeBase
from octavia.network.base import AbstractNetworkDriver

CONTRACTS = {"octavia.compute.drivers": ComputeBase, "octavia.network.drivers": AbstractNetworkDriver}
EXPECTED = {
    "octavia.compute.drivers": {"compute_noop_driver", "compute_local_driver", "compute_nova_driver"},
    "octavia.network.drivers": {
        "network_noop_driver", "network_local_driver", "allowed_address_pairs_driver"
    },
}


@pytest.mark.parametrize("group", sorted(CONTRACTS))
def test_upstream_and_local_names_are_registered(group: str) -> None:
    assert EXPECTED[group] <= {ep.name for ep in entry_points(group=group)}


@pytest.mark.parametrize(
    ("group", "name"), [(g, n) for g, names in sorted(EXPECTED.items()) for n in sorted(names)]
)
def test_driver_class_fulfils_the_contract(group: str, name: str) -> None:
    (ep,) = entry_points(group=group, name=name)
    cls = ep.load()
    assert issubclass(cls, CONTRACTS[group])
    assert not inspect.isabstract(cls), f"{name} leaves {sorted(cls.__abstractmethods__)} abstract"
    for method, contract in inspect.getmembers(CONTRACTS[group], inspect.isfunction):
        if not method.startswith("_"):
            expected = list(inspect.signature(contract).parameters)
            assert list(inspect.signature(getattr(cls, method)).parameters)[:len(expected)] == expected
