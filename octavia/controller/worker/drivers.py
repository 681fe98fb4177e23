"""The worker's drivers, loaded by entry-point name as upstream configures them.

`[controller_worker] compute_driver / network_driver / amphora_driver` and
`[controller_worker] cert_generator` name entry points, so upstream's names
(`compute_noop_driver`, `amphora_haproxy_rest_driver`, ...) work unchanged. A name of
the form `package.module:Class` loads that class directly (a driver not installed as an
entry point, e.g. one a test defines). One instance per name per process; `reset()`
forgets them (tests switch drivers between runs).
"""

from __future__ import annotations

import functools
import importlib
from importlib.metadata import entry_points
from typing import Any

from octavia.common.config import CONF
from octavia.network import loader as network_loader

COMPUTE_GROUP = "octavia.compute.drivers"
AMPHORA_GROUP = "octavia.amphora.drivers"
CERT_GENERATOR_GROUP = "octavia.cert_generator"


class DriverNotFound(LookupError):
    """A configured name that no installed entry point provides."""


@functools.cache
def _load(group: str, name: str) -> Any:
    if ":" in name:
        module, _, attribute = name.partition(":")
        return getattr(importlib.import_module(module), attribute)()
    found = list(entry_points(group=group, name=name))
    if not found:
        raise DriverNotFound(f"no {group} entry point named {name!r}")
    return found[0].load()()


def compute() -> Any:
    return _load(COMPUTE_GROUP, CONF.controller_worker.compute_driver)


def network() -> Any:
    """Shared with the API and the driver agent, which allocate and release VIPs."""
    return network_loader.get_driver()


def amphora() -> Any:
    return _load(AMPHORA_GROUP, CONF.controller_worker.amphora_driver)


def cert_generator() -> Any:
    return _load(CERT_GENERATOR_GROUP, CONF.controller_worker.cert_generator)


def reset() -> None:
    _load.cache_clear()
    network_loader.reset()
