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

from sqlalchemy import select

from octavia.db import models
from octavia.db.api import session_scope
from tests.functional.hardening import consistency
from tests.fuzz import world

# What "nothing broke" means for a response: no 5xx, a documented status code and media
# type, and a body and headers that match the operation's documented schema.
CHECKS = (
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_schema_conformance", "response_headers_conformance",
)
PROJECT = "f" * 32
ROOT = Path(__file__).resolve().parents[2]
OWNER, INTRUDER = "0" * 31 + "a", "0" * 31 + "b"
ADMIN = {"X-Project-Id": "admin-project", "X-Roles": "admin"}


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
                     seed: int, workers: int = 1, phases: str = "examples,coverage,fuzzing,stateful",
                     headers: dict[str, str] | None = None, checks: tuple[str, ...] = CHECKS,
                     env: dict[str, str] | None = None) -> FuzzResult:
    """Every documented operation, positive and negative data, then stateful sequences.

    One worker: schemathesis' threaded workers trip a CPython 3.11 AST error in its
    code generation, and the API under test serialises writes per LB anyway.
    """
    report = workdir / "schemathesis.json"
    ndjson = workdir / "events.ndjson"
    cmd = [
        _st(), "--config-file", str(config), "run", f"{base_url}/openapi.json",
        "--checks", ",".join(checks),
        "--max-time", str(max_time), "--max-examples", str(max_examples), "--seed", str(seed),
        "--workers", str(workers), "--phases", phases, "--request-timeout", "30",
        "--suppress-health-check", "all", "--continue-on-failure",
        "--report", "json,ndjson", "--report-json-path", str(report), "--report-ndjson-path", str(ndjson),
    ]
    for name, value in (headers or {"X-Project-Id": PROJECT}).items():
        cmd += ["--header", f"{name}: {value}"]
    env = dict(os.environ, NO_COLOR="1", SCHEMATHESIS_TELEMETRY="false", PYTHONPATH=str(ROOT), **(env or {}))
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, env=env,
                          timeout=max_time + 300)
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


def project_rows(project: str) -> dict[str, dict[str, Any]]:
    """Every row of the project's load balancer trees and their tags, keyed by id."""
    rows: dict[str, dict[str, Any]] = {}
    with session_scope() as session:
        for model in consistency.TREE:
            for row in session.execute(select(model).where(model.project_id == project)).scalars():
                rows[row.id] = {col.name: getattr(row, col.key) for col in model.__mapper__.columns}
        tags = session.execute(select(models.Tag).where(models.Tag.resource_id.in_(list(rows)))).scalars()
        for tag in tags:
            rows[tag.resource_id].setdefault("tags", set()).add(tag.tag)
    return rows


def fuzz_across_projects(base_url: str, workdir: Path, *, seconds: int, seed: int = 13) -> FuzzResult:
    """`testing` auth: an owner's world, fuzzed by a member of another project.

    Path ids and parent references point at the owner's objects; besides the usual
    checks, no success may show or touch them (tests/fuzz/isolation_hooks.py), and the
    owner's rows must read back unchanged. The caller sets auth_strategy=testing.
    """
    owner = {"X-Project-Id": OWNER, "X-Roles": "member"}
    ids = world.build(base_url, owner, admin_headers=ADMIN)
    config = world.write_config(workdir / "schemathesis.toml", ids, OWNER)
    foreign = sorted(i for kind in world.PROJECT_KINDS for i in ids.get(kind, []))
    before = project_rows(OWNER)
    result = run_schemathesis(
        base_url, workdir, config, max_time=seconds, max_examples=40, seed=seed,
        headers={"X-Project-Id": INTRUDER, "X-Roles": "member"}, checks=(*CHECKS, "no_foreign_objects"),
        env={"SCHEMATHESIS_HOOKS": "tests.fuzz.isolation_hooks",
             "OCTAVIA_FUZZ_FOREIGN_IDS": ",".join(foreign)})
    result.problems = consistency.check()
    after = project_rows(OWNER)
    result.problems += [f"{OWNER}'s object {i} changed" for i in sorted(set(before) | set(after))
                        if before.get(i) != after.get(i)]
    return result
