"""The housekeeping loops: DB purge every cleanup_interval, cert rotation every cert_interval."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from octavia.common.config import CONF
from octavia.controller.housekeeping import cert_rotation, db_cleanup

LOG = logging.getLogger(__name__)


class HousekeepingService:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _loop(self, name: str, interval: Callable[[], float], work: Callable[[], None]) -> None:
        while not self._stop.wait(interval()):
            try:
                work()
            except Exception:
                LOG.exception("housekeeping task %s failed", name)

    @staticmethod
    def cleanup_once() -> None:
        hk = CONF.house_keeping
        db_cleanup.purge_deleted_amphorae(hk.amphora_expiry_age)
        db_cleanup.purge_deleted_load_balancers(hk.load_balancer_expiry_age)

    @staticmethod
    def rotate_once() -> None:
        from octavia.controller.worker import drivers

        for amphora_id in cert_rotation.expiring_amphorae(CONF.house_keeping.cert_expiry_buffer):
            cert_rotation.rotate(amphora_id, drivers.cert_generator(), drivers.amphora())

    def start(self) -> HousekeepingService:
        for name, interval, work in (
            ("db-cleanup", lambda: float(CONF.house_keeping.cleanup_interval), self.cleanup_once),
            ("cert-rotation", lambda: float(CONF.house_keeping.cert_interval), self.rotate_once),
        ):
            thread = threading.Thread(target=self._loop, args=(name, interval, work),
                                      name=f"housekeeping-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
