"""The fixed per-load-balancer file layout under the agent's `base_path`.

The HAProxy renderer writes these paths into configurations and the heartbeat sender
reads the stats sockets, so the names must not drift:
`{base_path}/{lb_id}/haproxy.cfg`, `haproxy.sock`, `master.sock`, `haproxy.pid`, `certs/`.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from dataclasses import dataclass

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_SAFE_PEM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,250}\.pem$")


class InvalidName(ValueError):
    """An id or file name that could escape its directory."""


def check_lb_id(lb_id: str) -> str:
    if not _SAFE_ID.match(lb_id):
        raise InvalidName(f"Invalid load balancer id: {lb_id!r}")
    return lb_id


def check_pem_name(filename: str) -> str:
    if not _SAFE_PEM_NAME.match(filename) or ".." in filename:
        raise InvalidName(f"Invalid certificate file name: {filename!r}")
    return filename


@dataclass(frozen=True)
class LBPaths:
    """Every file of one load balancer inside an amphora."""

    base_path: str
    lb_id: str

    @property
    def directory(self) -> str:
        return os.path.join(self.base_path, self.lb_id)

    @property
    def config(self) -> str:
        return os.path.join(self.directory, "haproxy.cfg")

    @property
    def stats_socket(self) -> str:
        return os.path.join(self.directory, "haproxy.sock")

    @property
    def server_state(self) -> str:
        """`show servers state` saved before a reload (the config's `server-state-file`)."""
        return os.path.join(self.directory, "servers.state")

    @property
    def master_socket(self) -> str:
        return os.path.join(self.directory, "master.sock")

    @property
    def pid_file(self) -> str:
        return os.path.join(self.directory, "haproxy.pid")

    @property
    def certs(self) -> str:
        return os.path.join(self.directory, "certs")

    @property
    def log(self) -> str:
        """HAProxy's own stderr (start-up and reload alerts)."""
        return os.path.join(self.directory, "haproxy.log")

    @property
    def enabled_marker(self) -> str:
        """Present while HAProxy should run: restarts it when the amphora comes back."""
        return os.path.join(self.directory, "haproxy.enabled")

    def cert(self, filename: str) -> str:
        return os.path.join(self.certs, check_pem_name(filename))


def lb_paths(base_path: str, lb_id: str) -> LBPaths:
    return LBPaths(base_path=base_path, lb_id=check_lb_id(lb_id))


def list_lb_ids(base_path: str) -> list[str]:
    """Load balancers that have a configuration in this amphora."""
    try:
        names = sorted(os.listdir(base_path))
    except FileNotFoundError:
        return []
    return [
        name for name in names if _SAFE_ID.match(name) and os.path.isfile(LBPaths(base_path, name).config)
    ]


def write_atomically(path: str, data: bytes, mode: int = 0o644) -> None:
    """Replace `path` in one rename so that readers see the old or the new content."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
