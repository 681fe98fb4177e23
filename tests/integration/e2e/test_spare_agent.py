"""The local compute driver's spare agent: a pre-imported process that becomes the next
amphora's agent in that amphora's namespace, directory and log; replaced after use,
gone after cool_down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from octavia.amphorae.drivers import paths
from octavia.compute import base
from octavia.compute import local_process as proc
from octavia.compute.local import LocalComputeDriver
from octavia.network import netns
from tests.integration.compute.harness import REPO_ROOT, available_modes, http_get, local_env, wait_for

pytestmark = pytest.mark.slow
ECHO_AGENT = "tests.integration.e2e.echo_agent"
__all__ = ["local_env"]


def _spares(root: str) -> list[str]:
    spares = os.path.join(root, ".spares")
    return sorted(os.listdir(spares)) if os.path.isdir(spares) else []


def _spare_processes() -> list[int]:
    return proc.processes_of(None, f"{paths.amphorae_root()}/.spares/")


@pytest.mark.parametrize("local_env", available_modes(), indirect=True)
def test_a_spare_becomes_the_amphora_agent_and_is_replaced(local_env: str) -> None:
    driver = LocalComputeDriver(agent_module=ECHO_AGENT)
    driver.warm_up()
    try:
        root = paths.amphorae_root()
        assert wait_for(lambda: any(os.path.exists(os.path.join(root, ".spares", s, "activate.sock"))
                                    for s in _spares(root)), timeout=30)
        (first_spare,) = _spares(root)
        compute_id = driver.build(name=f"amphora-{uuid.uuid4()}")
        amp_dir = paths.amphora_dir(compute_id)
        state = json.load(open(os.path.join(amp_dir, "compute.json")))
        assert state["agent_marker"] == os.path.join(root, ".spares", first_spare)
        assert driver.status(compute_id) == base.COMPUTE_ACTIVE

        address = driver.get_amphora(compute_id)[0].lb_network_ip or ""
        answer = wait_for(lambda: http_get(address, 9443), timeout=10)
        assert answer is not None
        amphora_id, inode, cwd = answer.split(b"\r\n\r\n", 1)[1].decode().split()
        assert (amphora_id, cwd) == (compute_id, amp_dir)
        if local_env == "netns":
            namespace_inode = os.stat(os.path.join("/run/netns", netns.namespace_name(compute_id))).st_ino
            assert int(inode) == namespace_inode
        assert "echo agent" in open(os.path.join(amp_dir, "agent.log")).read()

        # A new spare waits for the next amphora.
        assert wait_for(lambda: [s for s in _spares(root) if s != first_spare], timeout=10)
        agent_pid = int(open(os.path.join(amp_dir, "agent.pid")).read())
        driver.delete(compute_id)
        assert not proc.is_running(agent_pid, state["agent_marker"])
        assert not os.path.exists(amp_dir)
    finally:
        driver.cool_down()
    assert wait_for(lambda: not _spare_processes(), timeout=10), _spare_processes()
    assert _spares(paths.amphorae_root()) == []


SPARE_OWNER = """
import os, sys, time
from octavia.compute.warm_agent import WarmAgents
warm = WarmAgents(sys.argv[1], "tests.integration.e2e.echo_agent")
warm.start_spare()
spares = os.path.join(sys.argv[1], ".spares")
deadline = time.monotonic() + 30
while time.monotonic() < deadline and not any(
        os.path.exists(os.path.join(spares, d, "activate.sock")) for d in os.listdir(spares)):
    time.sleep(0.02)
print(warm._spare[0].pid)
"""


def test_a_spare_whose_controller_is_gone_exits(tmp_path: Path) -> None:
    owner = subprocess.run([sys.executable, "-c", SPARE_OWNER, str(tmp_path)], capture_output=True, text=True,
                           timeout=60, check=True, env={**os.environ, "PYTHONPATH": REPO_ROOT})
    spare_pid = int(owner.stdout.split()[-1])
    assert wait_for(lambda: not proc.is_running(spare_pid, str(tmp_path)), timeout=10)
    assert wait_for(lambda: os.listdir(tmp_path / ".spares") == [], timeout=5)
