"""Finds amphorae that stopped sending heartbeats and hands each to the failover callback once.

Claiming is an `UPDATE ... WHERE busy = false` whose row count says who won, so
any number of health managers can scan the same database. A circuit breaker
refuses mass failover: many amphorae going silent together points at the
controller's network, not at the amphorae.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from octavia.controller.health import health_repository as repo
from octavia.controller.health.log_throttle import LogThrottle
from octavia.db import models
from octavia.db.api import session_scope

LOG = logging.getLogger(__name__)

FailoverCallback = Callable[[str], None]


@dataclass
class ScanResult:
    silent: list[str] = field(default_factory=list)
    claimed: list[str] = field(default_factory=list)
    circuit_open: bool = False


class StaleAmphoraMonitor:
    """Every `check_interval` seconds, fail over amphorae silent for `heartbeat_timeout` seconds.

    With `failover=None` (no worker in this deployment) stale amphorae are only
    reported, never claimed, so a later health manager with a worker can take them.
    The loop's first scan waits one `heartbeat_timeout`: after a control-plane outage
    every row looks stale until the amphorae's next heartbeats land.
    """

    def __init__(
        self,
        failover: FailoverCallback | None,
        *,
        heartbeat_timeout: float,
        check_interval: float,
        failover_threshold: int | None = None,
        failover_threads: int = 10,
    ) -> None:
        self._failover = failover
        self.heartbeat_timeout = heartbeat_timeout
        self.check_interval = check_interval
        self.failover_threshold = failover_threshold
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, failover_threads), thread_name_prefix="failover"
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stale-amphora-monitor", daemon=True)
        self._throttle = LogThrottle(window=60.0)

    def start(self) -> StaleAmphoraMonitor:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop scanning and wait for failovers already handed out."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._pool.shutdown(wait=True)

    def _run(self) -> None:
        if self._stop.wait(self.heartbeat_timeout):
            return
        while not self._stop.wait(self.check_interval):
            try:
                self.check_once()
            except Exception:
                if self._throttle.allow("scan-error"):
                    LOG.exception("Stale amphora scan failed")

    def check_once(self) -> ScanResult:
        """One scan: claim what this process may fail over and start those failovers."""
        cutoff = models.utcnow() - datetime.timedelta(seconds=self.heartbeat_timeout)
        result = ScanResult()
        newly_stopped = 0
        with session_scope(write=True) as session:
            result.silent, eligible = repo.find_stale(session, cutoff)
            threshold = self.failover_threshold
            if threshold is not None and len(result.silent) > threshold:
                result.circuit_open = True
                newly_stopped = repo.stop_failover(session, result.silent)
            elif self._failover is not None:
                result.claimed = [a for a in eligible if repo.claim_for_failover(session, a, cutoff)]
        if result.circuit_open:
            self._report_circuit_open(len(result.silent), newly_stopped)
        elif self._failover is None:
            if result.silent and self._throttle.allow("no-failover"):
                LOG.error("Amphorae %s are stale but failover is unavailable here", ", ".join(result.silent))
        for amphora_id in result.claimed:
            LOG.warning(
                "Amphora %s silent for over %.1fs: failing it over", amphora_id, self.heartbeat_timeout
            )
            self._pool.submit(self._run_failover, amphora_id)
        return result

    def _report_circuit_open(self, silent: int, newly_stopped: int) -> None:
        if newly_stopped or self._throttle.allow("circuit"):
            LOG.error(
                "%d amphorae are stale, more than failover_threshold=%s: failover stopped, "
                "%d amphorae newly set to FAILOVER_STOPPED (controller network fault?)",
                silent, self.failover_threshold, newly_stopped,
            )

    def _run_failover(self, amphora_id: str) -> None:
        assert self._failover is not None
        try:
            self._failover(amphora_id)
        except Exception:
            LOG.exception("Failover of amphora %s failed; it stays marked busy", amphora_id)
