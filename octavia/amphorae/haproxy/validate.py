"""Check a rendered configuration with the real parser before anything runs it."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from octavia.amphorae.haproxy.errors import HaproxyConfigInvalid
from octavia.common.config import CONF

_CHECK_TIMEOUT_S = 30.0


def validate_config(text: str, *, haproxy_cmd: str | None = None) -> None:
    """Run `haproxy -c` on `text`; raise HaproxyConfigInvalid with HAProxy's alerts if it refuses.

    The file is checked in a private temporary directory, so a refused configuration
    never replaces a running one. Files the configuration names (certificates, CA
    bundles) must already exist at their final paths.
    """
    command = haproxy_cmd or CONF.haproxy_amphora.haproxy_cmd
    with tempfile.TemporaryDirectory(prefix="haproxy-check-") as tmp:
        path = Path(tmp, "haproxy.cfg")
        path.write_text(text)
        try:
            result = subprocess.run(
                [command, "-c", "-f", str(path)],
                capture_output=True,
                text=True,
                timeout=_CHECK_TIMEOUT_S,
                cwd=tmp,
            )
        except FileNotFoundError as exc:
            raise HaproxyConfigInvalid(f"HAProxy binary {command!r} not found", "") from exc
        except subprocess.TimeoutExpired as exc:
            raise HaproxyConfigInvalid(f"haproxy -c did not finish in {_CHECK_TIMEOUT_S:.0f} s", "") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        alerts = [line for line in output.splitlines() if "[ALERT]" in line] or output.splitlines()[-5:]
        raise HaproxyConfigInvalid("HAProxy refused the configuration: " + " | ".join(alerts), output)
