"""Where an amphora keeps its keepalived files: `<amphora directory>/vrrp/`.

The controller renders the check script's path into keepalived.conf and the agent
writes the script there, so both compute it here. The amphora directory is the one
holding the agent's `lbs` base path (the agent resolves its base path's link).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

VRRP_DIR = "vrrp"


@dataclass(frozen=True)
class VrrpPaths:
    """Every keepalived file of one amphora."""

    directory: str

    @property
    def config(self) -> str:
        return os.path.join(self.directory, "keepalived.conf")

    @property
    def pid_file(self) -> str:
        """keepalived's parent process."""
        return os.path.join(self.directory, "keepalived.pid")

    @property
    def vrrp_pid_file(self) -> str:
        """keepalived's VRRP child (the process that owns the VIP)."""
        return os.path.join(self.directory, "vrrp.pid")

    @property
    def checkers_pid_file(self) -> str:
        """Never used (`--vrrp` only), but keepalived's default is host-wide."""
        return os.path.join(self.directory, "checkers.pid")

    @property
    def check_script(self) -> str:
        return os.path.join(self.directory, "check_haproxy.sh")

    @property
    def log(self) -> str:
        return os.path.join(self.directory, "keepalived.log")

    @property
    def enabled_marker(self) -> str:
        """Present while keepalived should run (PUT /vrrp/start until PUT /vrrp/stop)."""
        return os.path.join(self.directory, "keepalived.enabled")


def vrrp_paths(amphora_directory: str) -> VrrpPaths:
    return VrrpPaths(os.path.join(amphora_directory, VRRP_DIR))


def agent_vrrp_paths(base_path: str) -> VrrpPaths:
    """The agent's view: its base path (or the link to it) sits in the amphora directory."""
    return vrrp_paths(os.path.dirname(os.path.realpath(base_path)))
