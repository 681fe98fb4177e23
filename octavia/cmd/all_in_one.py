"""octavia-all-in-one: API, worker, health manager, housekeeping and driver agent in one
process, on embedded defaults (SQLite under state_path, noauth, local drivers)."""

from __future__ import annotations

import logging
import sys

import uvicorn

from octavia.common import config, logging_setup
from octavia.common.config import CONF
from octavia.db import migration

LOG = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    config.init(sys.argv[1:] if argv is None else argv)
    logging_setup.setup()
    migration.upgrade()
    LOG.info("database ready at revision %s", migration.current())
    from octavia.cmd import services

    running = services.start_controller()
    from octavia.api.app import create_app

    try:
        uvicorn.run(
            create_app(),
            host=CONF.api_settings.bind_host,
            port=CONF.api_settings.bind_port,
            log_config=None,
            access_log=False,
        )
    finally:
        running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
