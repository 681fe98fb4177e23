"""Long schemathesis run against the API: prints figures, asserts nothing.

The same run as tests/fuzz (a seeded world, every operation of `/openapi.json`,
positive and negative data, stateful link sequences; checks: no 5xx, documented status
codes, media types, response schemas and headers), for as long as asked, then the
database consistency check once the noop provider has settled. The API runs in this
process (uvicorn on a loopback port, noop provider and network, the driver agent) over
a fresh SQLite file or a fresh schema of the PostgreSQL database given.

    .venv/bin/python bench/fuzz.py [--seconds 600] [--seed 11] [--db-url postgresql+psycopg://...]

Exit status 1 when schemathesis reported a failure or the database is inconsistent.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from octavia.common import config  # noqa: E402


def _engine(state: str, db_url: str | None) -> tuple[object, str | None]:
    """A migrated engine: SQLite under `state`, or a new schema of `db_url` (dropped at exit)."""
    from octavia.db import api as db_api
    from octavia.db import migration

    if not db_url:
        engine = db_api.make_engine(f"sqlite:///{state}/octavia.sqlite")
        migration.upgrade(engine=engine)
        return engine, None
    schema = "fuzz_" + uuid.uuid4().hex[:10]
    with create_engine(db_url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in db_url else "?"
    engine = db_api.make_engine(f"{db_url}{sep}options=-csearch_path%3D{schema}")
    migration.upgrade(engine=engine)
    return engine, schema


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--max-examples", type=int, default=200)
    parser.add_argument("--db-url", help="PostgreSQL URL (default: a fresh SQLite file)")
    args = parser.parse_args()

    config.init([])
    conf = config.CONF
    state = tempfile.mkdtemp(prefix="octavia-fuzz-")
    conf.set_override("state_path", state)
    conf.set_override("default_provider_driver", "noop_driver", group="api_settings")
    conf.set_override("auth_strategy", "noauth", group="api_settings")
    conf.set_override("network_driver", "network_noop_driver", group="controller_worker")

    from octavia.db import api as db_api
    from octavia.providers.driver_agent import start_driver_agent
    from tests.functional.hardening.live import live_api
    from tests.fuzz.runner import fuzz_and_check

    engine, schema = _engine(state, args.db_url)
    db_api.set_engine(engine)  # type: ignore[arg-type]
    agent = start_driver_agent()
    try:
        with live_api() as url:
            result = fuzz_and_check(url, Path(state), seconds=args.seconds, seed=args.seed,
                                    max_examples=args.max_examples)
    finally:
        agent.stop()
        db_api.set_engine(None)
        if schema and args.db_url:
            with create_engine(args.db_url, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    figures = result.figures()
    figures["database"] = "postgresql" if args.db_url else "sqlite"
    print(json.dumps(figures, indent=2))
    for problem in result.problems:
        print("inconsistent:", problem)
    if result.returncode != 0:
        print(result.output[-20000:])
    print(f"reports: {state}/schemathesis.json, {state}/events.ndjson")
    return 0 if result.returncode == 0 and not result.problems else 1


if __name__ == "__main__":
    sys.exit(main())
