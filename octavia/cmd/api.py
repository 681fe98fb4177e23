"""octavia-api: the API server alone (uvicorn), for clustered deployments."""

from __future__ import annotations

import sys

import uvicorn

from octavia.common import config, logging_setup
from octavia.common.config import CONF


def main(argv: list[str] | None = None) -> int:
    config.init(sys.argv[1:] if argv is None else argv)
    logging_setup.setup()
    from octavia.api.app import create_app

    uvicorn.run(
        create_app(),
        host=CONF.api_settings.bind_host,
        port=CONF.api_settings.bind_port,
        log_config=None,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
