"""`octavia-health-manager` as an operator runs it: config file, UDP heartbeats, SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from octavia.common import constants as c
from octavia.controller.health import heartbeat_packet as hb
from octavia.db import models

from .conftest import Seq, heartbeat, make_lb, operating, wait_until

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("OCTAVIA_TEST_DB_URL")), reason="the subprocess reads the SQLite test database"
)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_command_applies_heartbeats_and_stops_on_sigterm(db: Any, state_dir: str, tmp_path: Path) -> None:
    rows = make_lb()
    port = free_udp_port()
    conf = tmp_path / "octavia.conf"
    conf.write_text(
        f"[DEFAULT]\nstate_path = {state_dir}\n"
        f"[database]\nconnection = sqlite:///{state_dir}/octavia.sqlite\n"
        f"[health_manager]\nbind_ip = 127.0.0.1\nbind_port = {port}\nheartbeat_key = cmd-test-key\n"
        "heartbeat_interval = 0.2\nheartbeat_timeout = 600\nhealth_check_interval = 0.2\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "octavia.cmd.health_manager", "--config-file", str(conf)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        seq = Seq()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:

            def online() -> bool:
                sock.sendto(hb.encode(heartbeat(rows, seq()), b"cmd-test-key"), ("127.0.0.1", port))
                return operating(models.LoadBalancer, rows.lb) == c.ONLINE

            wait_until(online, timeout=20, what="the health manager to apply a heartbeat")
        assert operating(models.Member, rows.members[0]) == c.ONLINE
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    assert f"receiving heartbeats on 127.0.0.1:{port}" in out
    assert "cmd-test-key" not in out
