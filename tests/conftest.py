"""Fixtures shared by every test tier."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator

import pytest

from octavia.common import config

# Parse an empty command line once so CONF is usable in every test.
config.init([])


@pytest.fixture
def state_dir() -> Iterator[str]:
    """A fresh state directory with a short path: the driver agent's UNIX sockets live in
    it, and socket paths are limited to 107 bytes (pytest's tmp_path can be longer)."""
    path = tempfile.mkdtemp(prefix="oct-", dir="/tmp")
    config.CONF.set_override("state_path", path)
    yield path
    config.CONF.clear_override("state_path")
    shutil.rmtree(path, ignore_errors=True)
