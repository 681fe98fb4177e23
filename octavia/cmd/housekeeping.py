"""octavia-housekeeping: purges old DELETED rows and rotates amphora certificates."""

from __future__ import annotations

import signal
import sys
import threading

from octavia.common import config, logging_setup
from octavia.controller.housekeeping.service import HousekeepingService


def main(argv: list[str] | None = None) -> int:
    config.init(sys.argv[1:] if argv is None else argv)
    logging_setup.setup()
    service = HousekeepingService().start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
