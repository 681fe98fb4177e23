"""Schemathesis against the live API, shared by the CI test and `bench/fuzz.py`.

The schemathesis CLI runs in its own process (its own GIL) against uvicorn on a
loopback port; its JSON report is read back for the figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# What "nothing broke" means for a response: no 5xx, a documented status code and media
# type, and a body and headers that match the operation's documented schema.
CHECKS = (
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_schema_conformance", "response_headers_conformance",
)
PROJECT = "f" * 32


@dataclass
class FuzzResult:
    returncode: int
    output: str
    report: dict[str, Any]

    @property
    def requests(self) -> int:
        return int(self.report.get("requests", 0))


def _st() -> str:
    return str(Path(sys.executable).with_name("st"))


def run_schemathesis(base_url: str, workdir: Path, config: Path, *, max_time: int, max_examples: int,
                     seed: int, workers: int = 1,
                     phases: str = "examples,coverage,fuzzing,stateful") -> FuzzResult:
    """Every documented operation, positive and negative data, then stateful sequences."""
    report = workdir / "schemathesis.json"
    ndjson = workdir / "events.ndjson"
    cmd = [
        _st(), "--config-file", str(config), "run", f"{base_url}/openapi.json",
        "--checks", ",".join(CHECKS),
        "--header", f"X-Project-Id: {PROJECT}",
        "--max-time", str(max_time), "--max-examples", str(max_examples), "--seed", str(seed),
        "--workers", str(workers), "--phases", phases, "--request-timeout", "30",
        "--suppress-health-check", "all", "--continue-on-failure",
        "--report", "json,ndjson", "--report-json-path", str(report), "--report-ndjson-path", str(ndjson),
    ]
    env = dict(os.environ, NO_COLOR="1", SCHEMATHESIS_TELEMETRY="false")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, env=env, timeout=max_time + 300)
    data = json.loads(report.read_text()) if report.exists() else {}
    return FuzzResult(proc.returncode, proc.stdout + proc.stderr, data)
