"""A bounded schemathesis run over every operation of `/openapi.json` (CI size).

Against uvicorn with the noop provider and a populated world (tests/fuzz/world.py):
positive and negative data for each operation, then stateful sequences following the
document's links and those schemathesis infers (create -> show / update / delete,
parents -> children). Passes when no response is a 5xx or breaks its documented
status, media type or schema, and the database is consistent once the provider has
settled. OCTAVIA_FUZZ_SECONDS sizes it; `bench/fuzz.py` and tests/soak run it longer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.functional.hardening.live import live_api
from tests.fuzz.runner import fuzz_across_projects, fuzz_and_check

pytestmark = pytest.mark.slow

SECONDS = int(os.environ.get("OCTAVIA_FUZZ_SECONDS", "120"))
ISOLATION_SECONDS = max(30, SECONDS // 2)


def test_fuzz_every_operation(driver_agent: Any, tmp_path: Path) -> None:
    with live_api() as url:
        result = fuzz_and_check(url, tmp_path, seconds=SECONDS)
    print(json.dumps(result.figures()))
    assert result.returncode == 0, result.output[-20000:]
    assert result.report["operations"]["tested"] == result.report["operations"]["selected"]
    assert result.problems == []


def test_fuzz_as_another_project(driver_agent: Any, tmp_path: Path, overrides: Any) -> None:
    """Every operation aimed at one project's objects by a member of another: none shown, none
    changed, no 5xx, every response as documented."""
    overrides(group="api_settings", auth_strategy="testing")
    with live_api() as url:
        result = fuzz_across_projects(url, tmp_path, seconds=ISOLATION_SECONDS)
    print(json.dumps(result.figures()))
    assert result.returncode == 0, result.output[-20000:]
    assert result.problems == []
