"""`octavia-health-manager`: receive amphora heartbeats and fail over silent amphorae."""

from __future__ import annotations

import importlib
import logging
import signal
import sys
import threading
from types import FrameType

from octavia.common import config, logging_setup
from octavia.controller.health.service import HealthManagerService
from octavia.controller.health.stale_amphora_monitor import FailoverCallback

LOG = logging.getLogger(__name__)


def load_failover() -> FailoverCallback | None:
    """The worker's `failover_amphora`, or None when this deployment has no worker module."""
    try:
        worker_api = importlib.import_module("octavia.controller.worker.api")
    except ImportError as exc:
        LOG.error("Amphora failover is unavailable (octavia.controller.worker.api: %s)", exc)
        return None
    failover = getattr(worker_api, "failover_amphora", None)
    if failover is None:
        LOG.error("Amphora failover is unavailable: octavia.controller.worker.api has no failover_amphora")
    return failover


def main(argv: list[str] | None = None) -> int:
    config.init(sys.argv[1:] if argv is None else argv)
    logging_setup.setup()
    service = HealthManagerService.from_config(config.CONF, load_failover()).start()
    done = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        LOG.info("Signal %d: stopping the health manager", signum)
        done.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    done.wait()
    service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
