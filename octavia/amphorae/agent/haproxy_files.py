"""Receiving a load balancer's HAProxy configuration: check it with `haproxy -c`, then swap.

The candidate is written next to the live file and only renamed over it once HAProxy
accepts it and every address it adds can be bound (`bind_probe`), so an invalid upload
never touches what is running.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess

from octavia.amphorae.agent import bind_probe
from octavia.amphorae.agent.layout import LBPaths, write_atomically

CHECK_TIMEOUT = 60.0
_FRONTEND = re.compile(r"^\s*(?:frontend|listen)\s+(\S+)", re.MULTILINE)


class InvalidConfig(ValueError):
    """HAProxy refused the configuration; the message is its own output."""


def check_config(haproxy_cmd: str, path: str, cwd: str) -> None:
    """Run `haproxy -c -f path`; raise InvalidConfig with HAProxy's messages when it fails."""
    try:
        result = subprocess.run(
            [haproxy_cmd, "-c", "-f", path],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=CHECK_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise InvalidConfig(f"haproxy -c did not finish within {CHECK_TIMEOUT:.0f} s") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace")
        alerts = [line for line in output.splitlines() if line and not line.startswith("[NOTICE]")]
        raise InvalidConfig("\n".join(alerts) or f"haproxy -c exited with code {result.returncode}")


def install_config(paths: LBPaths, text: bytes, haproxy_cmd: str) -> None:
    """Validate `text` and make it the load balancer's haproxy.cfg (unchanged if invalid)."""
    os.makedirs(paths.certs, mode=0o700, exist_ok=True)
    candidate = paths.config + ".new"
    write_atomically(candidate, text, mode=0o640)
    try:
        check_config(haproxy_cmd, candidate, paths.directory)
        unbindable = bind_probe.unbindable(text, read_config(paths))
        if unbindable:
            raise InvalidConfig(f"Cannot bind {', '.join(unbindable)}")
    except InvalidConfig:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(candidate)
        raise
    os.replace(candidate, paths.config)


def read_config(paths: LBPaths) -> bytes | None:
    try:
        with open(paths.config, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def frontend_names(text: bytes) -> list[str]:
    """Names of the frontends (and listen sections) a configuration declares."""
    return _FRONTEND.findall(text.decode(errors="replace"))
