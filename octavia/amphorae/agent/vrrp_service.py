"""The agent's VRRP side as one object: keepalived, its files and the guard.

Built once per agent (`VrrpService.for_agent`); the routes call `upload` and `act`,
the agent's lifespan calls `resume` and `shutdown`, and the heartbeat sender asks
`silent()` before each heartbeat.
"""

from __future__ import annotations

import logging
import shutil

from octavia.amphorae.agent import vrrp_system
from octavia.amphorae.agent.keepalived_process import KEEPALIVED_CMD, KeepalivedError, KeepalivedProcess
from octavia.amphorae.agent.supervisor import HAProxySupervisor
from octavia.amphorae.agent.vrrp_guard import VrrpGuard
from octavia.amphorae.keepalived.layout import agent_vrrp_paths

LOG = logging.getLogger(__name__)

ACTIONS = ("start", "stop", "reload")


class VrrpService:
    def __init__(self, keepalived: KeepalivedProcess, supervisor: HAProxySupervisor) -> None:
        self.keepalived = keepalived
        self.supervisor = supervisor
        self.guard = VrrpGuard(keepalived, supervisor)
        self._guarding = False

    @classmethod
    def for_agent(cls, supervisor: HAProxySupervisor) -> VrrpService:
        cmd = shutil.which("keepalived") or KEEPALIVED_CMD
        return cls(KeepalivedProcess(agent_vrrp_paths(supervisor.base_path), cmd), supervisor)

    def upload(self, text: bytes) -> None:
        """Prepare the amphora for VRRP, then validate and install the configuration.

        Raises InvalidKeepalivedConfig (nothing changed) or VrrpSystemError.
        """
        vrrp_system.write_check_script(self.keepalived.paths, self.supervisor.base_path)
        vrrp_system.enable_nonlocal_bind()
        self.keepalived.install(text)
        LOG.info("keepalived configuration installed")

    def act(self, action: str) -> str:
        if action not in ACTIONS:
            raise ValueError(f"Unknown action: {action}")
        if action == "stop":
            return self.keepalived.stop()
        if not self.keepalived.has_config():
            raise KeepalivedError("No keepalived configuration was uploaded")
        details = self.keepalived.start() if action == "start" else self.keepalived.reload()
        self._ensure_guard()
        return details

    def resume(self) -> None:
        """At agent start: adopt the running keepalived, or start it if it should run."""
        if self.keepalived.has_config():
            vrrp_system.write_check_script(self.keepalived.paths, self.supervisor.base_path)
            try:
                vrrp_system.enable_nonlocal_bind()
            except vrrp_system.VrrpSystemError as exc:
                LOG.error("%s", exc)
        if not self.keepalived.adopt() and self.keepalived.wanted() and not self.guard.haproxy_down():
            try:
                self.keepalived.start()
            except KeepalivedError:
                LOG.exception("Could not restart keepalived")
        if self.keepalived.has_config():
            self._ensure_guard()

    def _ensure_guard(self) -> None:
        """The guard runs from the first VRRP use on (a SINGLE amphora never needs it)."""
        if not self._guarding:
            self._guarding = True
            self.guard.start()

    def silent(self) -> bool:
        """True while heartbeats should stop (see VrrpGuard.serving)."""
        return self._guarding and not self.guard.serving()

    def shutdown(self) -> None:
        """Agent exit: its HAProxy is about to stop, so hand the VIP over (keepalived is
        started again with the agent)."""
        if self._guarding:
            self.guard.stop()
        if self.keepalived.running():
            self.keepalived.halt()
