"""Fixtures shared by every test tier."""

from __future__ import annotations

import os
import tempfile

import pytest

from octavia.common import config

# Parse an empty command line once so CONF is usable in every test.
config.init([])


@pytest.fixture
def state_dir(tmp_path: "os.PathLike[str]") -> str:
    path = tempfile.mkdtemp(prefix="octavia-state-", dir=str(tmp_path))
    config.CONF.set_override("state_path", path)
    yield path
    config.CONF.clear_override("state_path")
