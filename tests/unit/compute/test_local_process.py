"""Process supervision of local amphorae: detached start, identity by marker, clean kill."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from octavia.compute import local_process as proc
from octavia.compute.local import _amphora_id_from_name


def test_amphora_id_comes_from_upstreams_name() -> None:
    amp_id = "3f0e3a9e-8d56-4a55-9f0e-b6c7e5f2a1d4"
    assert _amphora_id_from_name(f"amphora-{amp_id}") == amp_id
    assert _amphora_id_from_name("my-amphora") != _amphora_id_from_name("my-amphora")


def test_detached_process_is_found_and_its_group_is_killed(tmp_path: Path) -> None:
    marker = os.path.join(str(tmp_path), "amp-marker")
    script = ("import subprocess,sys,time; subprocess.Popen([sys.executable,'-c','import time; "
              "time.sleep(60)']); time.sleep(60)")
    pid = proc.start_detached([sys.executable, "-c", script, marker], str(tmp_path / "log"),
                              str(tmp_path / "pid"), cwd=str(tmp_path))
    assert proc.read_pid(str(tmp_path / "pid")) == pid
    assert proc.is_running(pid, marker)
    assert not proc.is_running(pid, "some-other-amphora")
    assert os.getpgid(pid) == pid
    victims: set[int] = set()
    deadline = time.monotonic() + 5
    while len(victims) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
        victims = proc.processes_of(pid, marker)
    assert pid in victims and len(victims) == 2
    assert proc.terminate(victims) == set()
    assert not proc.is_running(pid, marker)
    assert proc.processes_of(None, marker) == set()
