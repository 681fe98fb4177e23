"""octavia-db-manage: create or upgrade the schema (`upgrade head`), show the revision."""

from __future__ import annotations

import argparse
import sys

from octavia.common import config
from octavia.db import migration


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="octavia-db-manage")
    parser.add_argument("--config-file", action="append", default=[])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upgrade", help="upgrade the schema")
    up.add_argument("revision", nargs="?", default="head")
    sub.add_parser("current", help="print the current revision")
    opts = parser.parse_args(args)
    config.init([f"--config-file={f}" for f in opts.config_file])
    if opts.command == "upgrade":
        migration.upgrade(opts.revision)
        print(f"database at revision {migration.current()}")
    else:
        print(migration.current() or "empty")
    return 0


if __name__ == "__main__":
    sys.exit(main())
