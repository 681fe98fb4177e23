"""The long fuzz run (10 minutes by default): tests/fuzz at soak length.

Skipped unless OCTAVIA_SOAK=1; OCTAVIA_SOAK_FUZZ_SECONDS sets the length. Runs on the
database the functional fixtures use (OCTAVIA_TEST_DB_URL for PostgreSQL).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.functional.conftest import (  # noqa: F401  (fixtures, found by name)
    app_config,
    db,
    driver_agent,
    migrated_template,
    overrides,
)
from tests.functional.hardening.live import live_api
from tests.fuzz.runner import fuzz_and_check

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("OCTAVIA_SOAK") != "1", reason="soak runs only with OCTAVIA_SOAK=1"),
]

SECONDS = int(os.environ.get("OCTAVIA_SOAK_FUZZ_SECONDS", "600"))
SEED = int(os.environ.get("OCTAVIA_SOAK_SEED", "11"))


def test_fuzz_soak(driver_agent: Any, tmp_path: Path) -> None:  # noqa: F811
    with live_api() as url:
        result = fuzz_and_check(url, tmp_path, seconds=SECONDS, seed=SEED, max_examples=200)
    print(json.dumps(result.figures()))
    assert result.returncode == 0, result.output[-20000:]
    assert result.problems == []
