"""Load the configured network driver by entry-point name, once per process."""

from __future__ import annotations

import functools
from importlib.metadata import entry_points
from typing import Any

from octavia.common.config import CONF


@functools.cache
def _load(name: str) -> Any:
    (ep,) = entry_points(group="octavia.network.drivers", name=name)
    return ep.load()()


def get_driver() -> Any:
    return _load(CONF.controller_worker.network_driver)


def reset() -> None:
    _load.cache_clear()
