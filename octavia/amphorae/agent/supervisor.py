"""All HAProxy instances of an amphora, and the thread that notices when one dies."""

from __future__ import annotations

import logging
import os
import shutil
import threading

from octavia.amphorae.agent import haproxy_files
from octavia.amphorae.agent.haproxy_process import HAProxyInstance, Status
from octavia.amphorae.agent.layout import lb_paths, list_lb_ids

LOG = logging.getLogger(__name__)


class HAProxySupervisor:
    """Owns one HAProxyInstance per load balancer directory under `base_path`."""

    def __init__(self, base_path: str, haproxy_cmd: str, timeout: float, check_interval: float) -> None:
        self.base_path = base_path
        self.haproxy_cmd = haproxy_cmd
        self._timeout = timeout
        self._check_interval = check_interval
        self._instances: dict[str, HAProxyInstance] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None

    def instance(self, lb_id: str) -> HAProxyInstance:
        paths = lb_paths(self.base_path, lb_id)
        with self._lock:
            found = self._instances.get(lb_id)
            if found is None:
                found = HAProxyInstance(paths, self.haproxy_cmd, self._timeout)
                self._instances[lb_id] = found
            return found

    def known(self, lb_id: str) -> bool:
        """A load balancer with a configuration in this amphora."""
        return os.path.isfile(lb_paths(self.base_path, lb_id).config)

    def resume(self) -> None:
        """At agent start: adopt HAProxies still running, restart the ones that should run."""
        os.makedirs(self.base_path, exist_ok=True)
        for lb_id in list_lb_ids(self.base_path):
            instance = self.instance(lb_id)
            if instance.adopt():
                continue
            if os.path.exists(instance.paths.enabled_marker):
                try:
                    instance.start()
                except Exception:  # one broken load balancer must not keep the agent down
                    LOG.exception("Could not restart HAProxy of load balancer %s", lb_id)

    def delete(self, lb_id: str) -> None:
        """Stop HAProxy (hard) and remove every file of the load balancer."""
        instance = self.instance(lb_id)
        with instance.lock:
            instance.stop(graceful=False)
            shutil.rmtree(instance.paths.directory, ignore_errors=True)
            with self._lock:
                self._instances.pop(lb_id, None)

    def statuses(self) -> list[dict[str, object]]:
        """Per load balancer: status, why it failed, and the frontends its config declares."""
        report: list[dict[str, object]] = []
        for lb_id in list_lb_ids(self.base_path):
            instance = self.instance(lb_id)
            status = instance.status()
            config = haproxy_files.read_config(instance.paths) or b""
            report.append(
                {
                    "lb_id": lb_id,
                    "status": str(status),
                    "reason": instance.failure if status is Status.ERROR else None,
                    "pid": instance.master_pid,
                    "frontends": haproxy_files.frontend_names(config),
                }
            )
        return report

    def start_monitor(self) -> None:
        self._monitor = threading.Thread(target=self._watch, name="haproxy-monitor", daemon=True)
        self._monitor.start()

    def _watch(self) -> None:
        while not self._stopping.wait(self._check_interval):
            with self._lock:
                instances = list(self._instances.values())
            for instance in instances:
                instance.check()

    def shutdown(self) -> None:
        """Agent exit: stop watching and stop every HAProxy."""
        self._stopping.set()
        if self._monitor is not None:
            self._monitor.join(timeout=5)
        with self._lock:
            instances = list(self._instances.values())
        for instance in instances:
            try:
                instance.stop(graceful=False, disable=False)
            except Exception:
                LOG.exception("Could not stop HAProxy of load balancer %s", instance.paths.lb_id)
