"""`octavia-worker`: a controller worker consuming the provider's casts (oslo.messaging)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

from octavia.common import config, logging_setup
from octavia.controller.worker import api

LOG = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    config.init(sys.argv[1:] if argv is None else argv)
    logging_setup.setup()
    worker = api.start_worker()
    done = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        LOG.info("Signal %d: stopping the controller worker", signum)
        done.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    done.wait()
    worker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
