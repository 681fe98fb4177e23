"""A bounded schemathesis run over every operation of `/openapi.json` (CI size).

Against uvicorn with the noop provider and a populated world (tests/fuzz/world.py):
positive and negative data for each operation, then stateful sequences following the
document's links and those schemathesis infers (create -> show / update / delete,
parents -> children). Passes when no response is a 5xx or breaks its documented
status, media type or schema, and the database is consistent once the provider has
settled. `bench/fuzz.py` runs the same for longer; OCTAVIA_FUZZ_SECONDS sizes this one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.functional.hardening import consistency
from tests.functional.hardening.live import live_api
from tests.fuzz import world
from tests.fuzz.runner import PROJECT, run_schemathesis

pytestmark = pytest.mark.slow

MAX_TIME = int(os.environ.get("OCTAVIA_FUZZ_SECONDS", "150"))


def test_fuzz_every_operation(driver_agent: Any, tmp_path: Path) -> None:
    with live_api() as url:
        ids = world.build(url, {"X-Project-Id": PROJECT})
        config = world.write_config(tmp_path / "schemathesis.toml", ids, PROJECT)
        result = run_schemathesis(url, tmp_path, config, max_time=MAX_TIME, max_examples=40, seed=7)
        print(result.output[-3000:])
        assert result.returncode == 0, result.output[-20000:]
        assert result.report["operations"]["tested"] == result.report["operations"]["selected"]
        assert consistency.check() == []
