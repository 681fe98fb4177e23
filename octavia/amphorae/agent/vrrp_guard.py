"""Fast VRRP reactions of the agent, faster than keepalived's own once-a-second check.

A thread waits on pidfds of the amphora's HAProxy masters and keepalived, so a death
is seen within milliseconds:

- an HAProxy that should run died: keepalived is stopped cleanly at once, its
  priority-0 advertisement hands the VIP to the peer (~0.2 s with advert_int 0.2);
  when every HAProxy runs again, keepalived is started again, as BACKUP (nopreempt);
- keepalived died without its clean stop (SIGKILL): its VIP addresses are removed at
  once (else this amphora and the peer would both hold them), the priority-0
  advertisement keepalived would have sent is sent in its place (`vrrp_advert`), and
  keepalived is started again after a delay long enough for the peer to be MASTER;
- the VRRP interface is down: the amphora cannot serve, so `serving()` turns False
  and the agent stops its heartbeats, letting the health manager replace it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Callable

from octavia.amphorae.agent import vrrp_advert, vrrp_system
from octavia.amphorae.agent.keepalived_process import KeepalivedError, KeepalivedProcess
from octavia.amphorae.agent.layout import list_lb_ids
from octavia.amphorae.agent.supervisor import HAProxySupervisor

LOG = logging.getLogger(__name__)

RESCAN_INTERVAL = 0.25
RESTART_DELAY = 1.0
MAX_RESTART_DELAY = 30.0
CALM_PERIOD = 60.0


class VrrpGuard:
    """Watches HAProxy and keepalived of one amphora and reacts (see module doc)."""

    def __init__(self, keepalived: KeepalivedProcess, supervisor: HAProxySupervisor,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.keepalived = keepalived
        self.supervisor = supervisor
        self._clock = clock
        self._suspended = False
        self._restart_at: float | None = None
        self._restart_delay = RESTART_DELAY
        self._last_death = -CALM_PERIOD
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what is watched -----------------------------------------------------------

    def haproxy_down(self) -> list[str]:
        """Load balancers whose HAProxy should run (enabled marker) but has no live master."""
        down = []
        for lb_id in list_lb_ids(self.supervisor.base_path):
            instance = self.supervisor.instance(lb_id)
            if os.path.exists(instance.paths.enabled_marker) and instance.master_pid is None:
                down.append(lb_id)
        return down

    def _watched_pids(self) -> list[int]:
        pids = []
        for lb_id in list_lb_ids(self.supervisor.base_path):
            pid = self.supervisor.instance(lb_id).master_pid
            if pid is not None:
                pids.append(pid)
        if (pid := self.keepalived.pid) is not None:
            pids.append(pid)
        return pids

    def serving(self) -> bool:
        """False when this amphora of a pair cannot carry the VIP: its VRRP interface is
        down, or keepalived keeps dying. Heartbeats stop meanwhile."""
        if not self.keepalived.wanted():
            return True
        if not self.keepalived.running() and self._restart_delay > RESTART_DELAY * 4:
            return False
        interface = vrrp_system.vrrp_interface(vrrp_system.read_config(self.keepalived.paths))
        return interface is None or vrrp_system.interface_up(interface)

    # -- reactions -----------------------------------------------------------------

    def evaluate(self) -> None:
        """One look at HAProxy and keepalived, and what follows from it."""
        with self.keepalived.lock:
            if not self.keepalived.wanted():
                self._suspended, self._restart_at = False, None
                return
            down = self.haproxy_down()
            if down:
                if self.keepalived.running():
                    LOG.warning("HAProxy of %s is down: stopping keepalived so the peer takes the VIP",
                                ", ".join(down))
                    self.keepalived.halt()
                    self._suspended = True
                return
            if self.keepalived.running():
                self._restart_at = None
                return
            if self._suspended:
                LOG.info("HAProxy is back: starting keepalived again as BACKUP")
                self._suspended = False
                self._start()
            elif self._restart_at is None:
                self._died()
            elif self._clock() >= self._restart_at:
                self._start()

    def _died(self) -> None:
        """keepalived is gone without a clean stop: drop the VIP now, restart later."""
        now = self._clock()
        calm = now - self._last_death > CALM_PERIOD
        self._restart_delay = RESTART_DELAY if calm else min(MAX_RESTART_DELAY, self._restart_delay * 2)
        self._last_death = now
        self.keepalived.halt()  # a VRRP child left behind stops cleanly
        text = vrrp_system.read_config(self.keepalived.paths)
        try:
            removed = vrrp_system.remove_addresses(vrrp_system.configured_vips(text))
        except OSError:
            LOG.exception("Could not remove the VIP addresses of the dead keepalived")
            removed = []
        resigned = 0
        instance = vrrp_advert.parse_instance(text)
        if removed and instance is not None:
            try:
                resigned = vrrp_advert.send_resignation(instance)
            except (OSError, ValueError):
                LOG.exception("Could not send the priority-0 advertisement")
        LOG.error("keepalived died: removed VIP addresses %s, told %d peer(s); restarting it in %.1f s (%s)",
                  ", ".join(removed) or "(none held)", resigned, self._restart_delay,
                  self.keepalived.log_tail(3))
        self._restart_at = now + self._restart_delay

    def _start(self) -> None:
        try:
            self.keepalived.start()
            self._restart_at = None
        except KeepalivedError as exc:
            self._restart_delay = min(MAX_RESTART_DELAY, self._restart_delay * 2)
            self._restart_at = self._clock() + self._restart_delay
            LOG.error("Could not start keepalived (retry in %.1f s): %s", self._restart_delay, exc)

    # -- thread ----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="vrrp-guard", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        vrrp_system.preload()
        while not self._stop.is_set():
            try:
                self.evaluate()
                _wait_for_exit(self._watched_pids(), RESCAN_INTERVAL)
            except Exception:
                LOG.exception("VRRP guard check failed")
                self._stop.wait(RESCAN_INTERVAL)


def _wait_for_exit(pids: list[int], timeout: float) -> None:
    """Return when one of `pids` exits, or after `timeout` seconds."""
    poller = select.poll()
    descriptors = []
    try:
        for pid in pids:
            try:
                fd = os.pidfd_open(pid)
            except ProcessLookupError:
                return
            descriptors.append(fd)
            poller.register(fd, select.POLLIN)
        poller.poll(timeout * 1000)
    finally:
        for fd in descriptors:
            with contextlib.suppress(OSError):
                os.close(fd)
