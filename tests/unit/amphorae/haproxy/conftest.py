from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from octavia.amphorae.haproxy.validate import validate_config
from octavia.common.config import CONF


@pytest.fixture
def haproxy_check() -> Callable[[str], None]:
    """`haproxy -c` on a rendered text; skips the test when no HAProxy binary is installed."""
    if shutil.which(CONF.haproxy_amphora.haproxy_cmd) is None:
        pytest.skip(f"{CONF.haproxy_amphora.haproxy_cmd} is not installed")
    return validate_config


@pytest.fixture
def amp_base() -> Iterator[Path]:
    """A short directory: HAProxy refuses stats socket paths over 97 bytes."""
    path = Path(tempfile.mkdtemp(prefix="hx", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
