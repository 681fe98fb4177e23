"""What the local HAProxy build can do, asked once per process.

The renderer only emits directives the binary understands: the Prometheus exporter is a
build option (`haproxy -vv` lists it under "Available services"), and
`option idle-close-on-response` (which makes reloads hitless for keep-alive clients)
appeared during the 2.6 branch, so it is probed by letting `haproxy -c` parse it.
"""

from __future__ import annotations

import functools
import logging
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

LOG = logging.getLogger(__name__)

_PROBE_TIMEOUT_S = 10.0
_IDLE_CLOSE_PROBE = """\
defaults
    mode http
    timeout client 1s
    timeout server 1s
    timeout connect 1s
frontend probe
    bind 127.0.0.1:1
    option idle-close-on-response
"""


@dataclass(frozen=True)
class HaproxyFeatures:
    version: tuple[int, ...]
    prometheus_exporter: bool
    idle_close_on_response: bool


NO_FEATURES = HaproxyFeatures(version=(), prometheus_exporter=False, idle_close_on_response=False)


@functools.cache
def detect_features(haproxy_cmd: str) -> HaproxyFeatures:
    """Features of the binary at `haproxy_cmd`; none when it cannot be run."""
    try:
        info = subprocess.run(
            [haproxy_cmd, "-vv"], capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        LOG.warning("Cannot run %s -vv (%s): rendering without optional HAProxy features", haproxy_cmd, exc)
        return NO_FEATURES
    match = re.search(r"version (\d+)\.(\d+)(?:\.(\d+))?", info)
    version = tuple(int(part) for part in match.groups() if part is not None) if match else ()
    services = re.search(r"Available services :(.*)", info)
    return HaproxyFeatures(
        version=version,
        prometheus_exporter=bool(services and "prometheus-exporter" in services.group(1)),
        idle_close_on_response=_parses(haproxy_cmd, _IDLE_CLOSE_PROBE),
    )


def _parses(haproxy_cmd: str, config: str) -> bool:
    with tempfile.TemporaryDirectory(prefix="haproxy-probe-") as tmp:
        path = Path(tmp, "probe.cfg")
        path.write_text(config)
        try:
            result = subprocess.run(
                [haproxy_cmd, "-c", "-q", "-f", str(path)], capture_output=True, timeout=_PROBE_TIMEOUT_S
            )
        except (OSError, subprocess.SubprocessError):
            return False
    return result.returncode == 0
