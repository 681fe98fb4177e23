"""Schemathesis against the live API, shared by the CI test, the soak entry and `bench/fuzz.py`.

The schemathesis CLI runs in its own process (its own GIL) against uvicorn on a
loopback port; its JSON report and event stream are read back for the figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.functional.hardening import consistency
from tests.fuzz import world

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
    statuses: Counter[int] = field(default_factory=Counter)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def figures(self) -> dict[str, Any]:
        """What docs/reliability.md quotes from a run."""
        return {
            "seconds": round(self.seconds),
            "test_cases": self.report.get("test_cases", {}).get("generated", 0),
            "requests": self.requests,
            "operations": self.report.get("operations", {}).get("tested", 0),
            "server_errors": sum(n for code, n in self.statuses.items() if code >= 500),
            "failures": len(self.report.get("failures", [])),
            "statuses": dict(sorted(self.statuses.items())),
            "consistency_problems": len(self.problems),
        }


def _st() -> str:
    return str(Path(sys.executable).with_name("st"))


def _statuses(ndjson: Path) -> Counter[int]:
    """Status codes of every response schemathesis recorded."""
    counts: Counter[int] = Counter()
    if not ndjson.exists():
        return counts
    with ndjson.open() as events:
        for line in events:
            finished = json.loads(line).get("ScenarioFinished")
            if not finished:
                continue
            for interaction in (finished["recorder"].get("interactions") or {}).values():
                status = (interaction.get("response") or {}).get("status_code")
                if status:
                    counts[int(status)] += 1
    return counts


def run_schemathesis(base_url: str, workdir: Path, config: Path, *, max_time: int, max_examples: int,
                     seed: int, workers: int = 1,
                     phases: str = "examples,coverage,fuzzing,stateful") -> FuzzResult:
    """Every documented operation, positive and negative data, then stateful sequences.

    One worker: schemathesis' threaded workers trip a CPython 3.11 AST error in its
    code generation, and the API under test serialises writes per LB anyway.
    """
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
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, env=env, timeout=max_time + 300)
    data = json.loads(report.read_text()) if report.exists() else {}
    return FuzzResult(proc.returncode, proc.stdout + proc.stderr, data, _statuses(ndjson),
                      time.monotonic() - started)


def fuzz_and_check(base_url: str, workdir: Path, *, seconds: int, seed: int = 7,
                   max_examples: int = 40) -> FuzzResult:
    """Seed a world, fuzz it for `seconds`, let the provider settle, check the database."""
    ids = world.build(base_url, {"X-Project-Id": PROJECT})
    config = world.write_config(workdir / "schemathesis.toml", ids, PROJECT)
    result = run_schemathesis(base_url, workdir, config, max_time=seconds, max_examples=max_examples,
                              seed=seed)
    result.problems = consistency.check()
    return result
