"""Starting and stopping the in-process controller services of the all-in-one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

LOG = logging.getLogger(__name__)


@dataclass
class RunningServices:
    stoppers: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def stop(self) -> None:
        for name, stop in reversed(self.stoppers):
            try:
                stop()
            except Exception:
                LOG.exception("stopping %s failed", name)


def start_controller() -> RunningServices:
    """Driver agent (status path of every provider), then the controller services."""
    from octavia.providers.driver_agent import start_driver_agent

    running = RunningServices()
    agent = start_driver_agent()
    running.stoppers.append(("driver agent", agent.stop))
    from octavia.common.config import CONF
    from octavia.controller.health.service import HealthManagerService
    from octavia.controller.housekeeping.service import HousekeepingService
    from octavia.controller.worker import api as worker_api

    worker = worker_api.start_worker()
    running.stoppers.append(("controller worker", worker.stop))
    health = HealthManagerService.from_config(CONF, worker_api.failover_amphora).start()
    running.stoppers.append(("health manager", health.stop))
    housekeeping = HousekeepingService().start()
    running.stoppers.append(("housekeeping", housekeeping.stop))
    return running
