"""The driver agent's lifecycle: in-process start/stop, the `octavia-driver-agent` command,
and the provider agents it supervises."""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import pytest
from octavia_lib.api.drivers import driver_lib

from octavia.common import config
from octavia.db import api as db_api
from octavia.db import models
from octavia.providers.agent_client import socket_paths
from octavia.providers.driver_agent import DriverAgent, provider_agents, start_driver_agent

from .helpers import Database, build_tree, status_of, wait_for

CONF = config.CONF


def test_start_is_idempotent_and_follows_the_configured_paths(database: Any, state: str) -> None:
    first = start_driver_agent()
    other = tempfile.mkdtemp(prefix="octp-", dir="/tmp")
    try:
        assert start_driver_agent() is first
        assert all(os.path.exists(p) for p in socket_paths())
        CONF.set_override("state_path", other)
        second = start_driver_agent()
        assert second is not first and not first.running
        assert os.path.exists(os.path.join(other, "status.sock"))
        assert not os.path.exists(os.path.join(state, "status.sock"))
        second.stop()
        assert not os.path.exists(os.path.join(other, "status.sock"))
    finally:
        first.stop()
        CONF.set_override("state_path", state)
        shutil.rmtree(other, ignore_errors=True)


def test_a_live_agent_is_never_displaced(agent: DriverAgent) -> None:
    with pytest.raises(RuntimeError, match="Another driver agent"):
        DriverAgent(agent.paths).start()
    assert agent.running
    with db_api.session_scope(write=True) as session:
        tree = build_tree(session, status="PENDING_UPDATE")
    driver_lib.DriverLibrary(*agent.paths).update_loadbalancer_status(
        {"loadbalancers": [{"id": tree.lb, "provisioning_status": "ACTIVE"}]}
    )
    assert status_of(models.LoadBalancer, tree.lb) == ("ACTIVE", "OFFLINE")


def test_a_stale_socket_file_is_replaced(database: Any, state: str) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(socket_paths().status)
    stale.close()  # the file stays, nobody listens: what a crashed agent leaves behind
    running = start_driver_agent()
    try:
        assert running.running
    finally:
        running.stop()


def test_socket_paths_that_cannot_be_bound_are_reported(database: Any) -> None:
    CONF.set_override("status_socket_path", "/tmp/" + "x" * 120 + ".sock", group="driver_agent")
    try:
        with pytest.raises(RuntimeError, match="longer than 107 bytes"):
            start_driver_agent()
    finally:
        CONF.clear_override("status_socket_path", group="driver_agent")


def test_the_command_serves_until_sigterm(database: Database, state: str) -> None:
    with db_api.session_scope(write=True) as session:
        tree = build_tree(session, status="PENDING_UPDATE")
    conf = Path(state) / "octavia.conf"
    conf.write_text(
        f"[DEFAULT]\nstate_path = {state}\n"
        f"[database]\nconnection = {database.url}\n"
        "[driver_agent]\nenabled_provider_agents = not_installed\n"
    )
    proc = subprocess.Popen([sys.executable, "-m", "octavia.cmd.driver_agent", "--config-file", str(conf)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        paths = socket_paths()
        wait_for(lambda: all(os.path.exists(p) for p in paths) or proc.poll() is not None, timeout=20)
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        driver_lib.DriverLibrary(*paths).update_loadbalancer_status(
            {"loadbalancers": [{"id": tree.lb, "provisioning_status": "ACTIVE"}]}
        )
        assert status_of(models.LoadBalancer, tree.lb) == ("ACTIVE", "OFFLINE")
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output
    assert "Provider agent 'not_installed' is enabled but not installed." in output
    assert not any(os.path.exists(p) for p in paths)


def _steady_agent(marker: str, exit_event: Event) -> None:
    with open(marker, "a") as f:
        f.write(f"{os.getpid()}\n")
    exit_event.wait()


def _flaky_agent(marker: str, exit_event: Event) -> None:
    with open(marker, "a") as f:
        f.write("run\n")
    if Path(marker).read_text().count("run") == 1:
        raise RuntimeError("first run fails")
    exit_event.wait()


def test_provider_agents_run_in_their_own_processes_until_told_to_stop(tmp_path: Path) -> None:
    marker = tmp_path / "steady"
    exit_event = multiprocessing.Event()
    processes = provider_agents.start_provider_agents(
        {"steady": functools.partial(_steady_agent, str(marker))}, exit_event
    )
    try:
        wait_for(lambda: marker.exists() and marker.read_text().strip())
        assert int(marker.read_text()) == processes[0].pid != os.getpid()
    finally:
        provider_agents.stop_provider_agents(processes, exit_event, timeout=10)
    assert processes[0].exitcode == 0


def test_a_failing_provider_agent_is_restarted(tmp_path: Path) -> None:
    marker = tmp_path / "flaky"
    exit_event = multiprocessing.Event()
    processes = provider_agents.start_provider_agents(
        {"flaky": functools.partial(_flaky_agent, str(marker))}, exit_event
    )
    try:
        wait_for(lambda: marker.exists() and marker.read_text().count("run") == 2, timeout=10)
        assert processes[0].is_alive()
    finally:
        provider_agents.stop_provider_agents(processes, exit_event, timeout=10)
    assert processes[0].exitcode == 0


def test_unknown_provider_agents_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert provider_agents.load_provider_agents(["no_such_agent"]) == {}
    assert "Provider agent 'no_such_agent' is enabled but not installed." in caplog.text
