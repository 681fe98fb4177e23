"""The health manager as one object: heartbeat receiver plus stale-amphora monitor.

`octavia-health-manager` runs it alone; the all-in-one process can run it beside
the API and the worker with the same two calls (`from_config(...).start()`, `stop()`).
"""

from __future__ import annotations

import logging

from oslo_config import cfg

from octavia.controller.health.health_updater import apply_heartbeat
from octavia.controller.health.heartbeat_receiver import HeartbeatReceiver
from octavia.controller.health.stale_amphora_monitor import FailoverCallback, StaleAmphoraMonitor

LOG = logging.getLogger(__name__)


class HealthManagerService:
    def __init__(self, receiver: HeartbeatReceiver, monitor: StaleAmphoraMonitor) -> None:
        self.receiver = receiver
        self.monitor = monitor

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts, failover: FailoverCallback | None) -> HealthManagerService:
        hm = conf.health_manager
        if hm.heartbeat_key == "insecure":
            LOG.warning("[health_manager] heartbeat_key is the built-in default: set a secret one")
        receiver = HeartbeatReceiver(
            key=str(hm.heartbeat_key).encode(),
            bind_ip=hm.bind_ip,
            bind_port=hm.bind_port,
            process=apply_heartbeat,
            max_skew=hm.heartbeat_max_clock_skew,
            log_window=max(1.0, hm.heartbeat_interval),
            workers=max(1, hm.health_update_threads),
        )
        monitor = StaleAmphoraMonitor(
            failover,
            heartbeat_timeout=hm.heartbeat_timeout,
            check_interval=hm.health_check_interval,
            failover_threshold=hm.failover_threshold,
            failover_threads=hm.failover_threads,
        )
        return cls(receiver, monitor)

    def start(self) -> HealthManagerService:
        self.receiver.start()
        self.monitor.start()
        host, port = self.receiver.address
        LOG.info("Health manager receiving heartbeats on %s:%d", host, port)
        return self

    def stop(self) -> None:
        self.receiver.stop()
        self.monitor.stop()
