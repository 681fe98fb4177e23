"""The configured certificate generator and manager, loaded by entry-point name like upstream.

`[controller_worker] cert_generator` names an `octavia.cert_generator` entry point and
`[certificates] cert_manager` an `octavia.cert_manager` one. One instance per process.
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points

from octavia.certificates.generator.base import CertGenerator
from octavia.certificates.manager.base import CertManager
from octavia.common.config import CONF

GENERATOR_GROUP = "octavia.cert_generator"
MANAGER_GROUP = "octavia.cert_manager"


@functools.cache
def _load(group: str, name: str) -> object:
    found = list(entry_points(group=group, name=name))
    if not found:
        raise LookupError(f"no {group} entry point named {name!r}")
    return found[0].load()()


def get_cert_generator() -> CertGenerator:
    generator = _load(GENERATOR_GROUP, CONF.controller_worker.cert_generator)
    assert isinstance(generator, CertGenerator)
    return generator


def get_cert_manager() -> CertManager:
    manager = _load(MANAGER_GROUP, CONF.certificates.cert_manager)
    assert isinstance(manager, CertManager)
    return manager


def reset() -> None:
    """Forget loaded instances (tests switch configuration between runs)."""
    _load.cache_clear()
