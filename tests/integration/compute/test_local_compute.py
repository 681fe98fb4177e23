"""The local compute driver on this host: an amphora's namespace (or 127.x address),
agent process, files and clean removal, in every mode the machine allows."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import stat
import subprocess
import sys
import time
import uuid

import pytest

from octavia.amphorae.drivers import paths
from octavia.compute import base
from octavia.compute import local_process as proc
from octavia.compute.local import LocalComputeDriver
from octavia.network import netns
from tests.integration.compute.harness import STANDIN_AGENT, available_modes, http_get, wait_for

pytestmark = pytest.mark.slow

CERTS = {"/etc/octavia/certs/server.pem": "SERVER-PEM", "/etc/octavia/certs/client_ca.pem": "CA-PEM"}


def _build(driver: LocalComputeDriver) -> str:
    return driver.build(name="amphora-" + str(uuid.uuid4()), config_drive_files=CERTS,
                        amphora_flavor="flavor-x", availability_zone="az-1")


def _links(prefix: str) -> list[str]:
    return [line.split(":")[1].strip().split("@")[0]
            for line in netns.run(["-o", "link", "show"]).splitlines() if f": {prefix}" in line]


@pytest.mark.parametrize("local_env", available_modes(), indirect=True)
def test_build_runs_the_agent_on_its_management_address(local_env: str) -> None:
    driver = LocalComputeDriver(agent_module=STANDIN_AGENT)
    started = time.monotonic()
    compute_id = _build(driver)
    built_ms = (time.monotonic() - started) * 1000
    amphora, fault = driver.get_amphora(compute_id)
    assert fault is None and amphora.status == base.COMPUTE_ACTIVE
    assert amphora.cached_zone == "az-1" and amphora.compute_flavor == "flavor-x"
    address = ipaddress.ip_address(amphora.lb_network_ip or "")
    assert address in driver.management().network
    assert wait_for(lambda: http_get(str(address), 9443), timeout=10) is not None
    answer = http_get(str(address), 9443) or b""
    assert answer.endswith(compute_id.encode())
    print(f"\nbuild {local_env}: {built_ms:.1f} ms; agent answering after "
          f"{(time.monotonic() - started) * 1000:.0f} ms")

    amp_dir = paths.amphora_dir(compute_id)
    server_pem = os.path.join(amp_dir, "etc/octavia/certs/server.pem")
    assert open(server_pem).read() == "SERVER-PEM"
    assert stat.S_IMODE(os.stat(server_pem).st_mode) == 0o600
    conf = open(os.path.join(amp_dir, "agent.conf")).read()
    assert f"agent_server_cert = {server_pem}" in conf
    assert f"base_path = {paths.amphora_base_path(compute_id)}" in conf
    assert f"bind_host = {address}" in conf

    if local_env == "netns":
        namespace = netns.namespace_name(compute_id)
        assert netns.namespace_exists(namespace)
        inside = netns.run(["-o", "addr", "show"], namespace=namespace)
        assert f"inet {address}/" in inside and "lo    inet 127.0.0.1/8" in inside
        assert "UP" in netns.run(["link", "show", "lo"], namespace=namespace)
        veth = json.load(open(os.path.join(amp_dir, "compute.json")))["mgmt_veth"]
        assert f"master {driver.management().bridge}" in netns.run(["link", "show", veth])
        gateway = driver.management().gateway
        assert f"controller_ip_port_list = {gateway}:" in conf
        agent_pid = int(open(os.path.join(amp_dir, "agent.pid")).read())
        assert agent_pid in netns.namespace_pids(namespace)


@pytest.mark.parametrize("local_env", available_modes(), indirect=True)
def test_delete_leaves_no_namespace_link_process_or_directory(local_env: str) -> None:
    driver = LocalComputeDriver(agent_module=STANDIN_AGENT)
    compute_id = _build(driver)
    amp_dir = paths.amphora_dir(compute_id)
    namespace = netns.namespace_name(compute_id) if local_env == "netns" else None
    # An HAProxy-like child that left the agent's process group, named by its real config
    # path (the agent starts HAProxy with real paths, not the short base-path link).
    fake_haproxy = subprocess.Popen(
        [*netns.exec_prefix(namespace), sys.executable, "-c", "import time; time.sleep(120)",
         os.path.join(os.path.realpath(paths.amphora_base_path(compute_id)), "lb", "haproxy.cfg")],
        start_new_session=True,
    )
    agent_pid = int(open(os.path.join(amp_dir, "agent.pid")).read())
    veth = json.load(open(os.path.join(amp_dir, "compute.json")))["mgmt_veth"]
    driver.delete(compute_id)
    assert fake_haproxy.wait(timeout=5) is not None
    assert not proc.is_running(agent_pid, amp_dir)
    assert not os.path.exists(amp_dir)
    assert driver.status(compute_id) == base.COMPUTE_DELETED
    if namespace:
        assert not netns.namespace_exists(namespace)
        assert veth not in _links("om")
    driver.delete(compute_id)  # deleting again is not an error


@pytest.mark.parametrize("local_env", available_modes(), indirect=True)
def test_a_dead_agent_is_an_error_with_its_log_as_fault(local_env: str) -> None:
    driver = LocalComputeDriver(agent_module=STANDIN_AGENT)
    compute_id = _build(driver)
    agent_pid = int(open(os.path.join(paths.amphora_dir(compute_id), "agent.pid")).read())
    os.kill(agent_pid, signal.SIGKILL)
    assert wait_for(lambda: driver.status(compute_id) == base.COMPUTE_ERROR, timeout=5)
    amphora, fault = driver.get_amphora(compute_id)
    assert amphora.status == base.COMPUTE_ERROR and fault and "agent exited" in fault


@pytest.mark.parametrize("local_env", available_modes(), indirect=True)
def test_a_restarted_controller_finds_and_removes_existing_amphorae(local_env: str) -> None:
    first = LocalComputeDriver(agent_module=STANDIN_AGENT)
    compute_id = _build(first)
    ip = first.get_amphora(compute_id)[0].lb_network_ip
    second = LocalComputeDriver(agent_module=STANDIN_AGENT)
    assert second.get_amphora(compute_id) == (first.get_amphora(compute_id)[0], None)
    other = _build(second)
    assert second.get_amphora(other)[0].lb_network_ip != ip
    second.delete(compute_id)
    assert first.status(compute_id) == base.COMPUTE_DELETED
    assert first.status(other) == base.COMPUTE_ACTIVE


@pytest.mark.parametrize("local_env", available_modes(), indirect=True)
def test_build_failure_leaves_nothing(local_env: str) -> None:
    driver = LocalComputeDriver(agent_module=STANDIN_AGENT)
    amphora_id = str(uuid.uuid4())
    with pytest.raises(base.ComputeBuildException, match="leaves the amphora"):
        driver.build(name=f"amphora-{amphora_id}", config_drive_files={"../../escape.pem": "x"})
    root = paths.amphorae_root()
    assert [e for e in os.listdir(root) if not e.startswith(".")] == []
    assert not netns.namespace_exists(netns.namespace_name(amphora_id))
    assert netns.host_ifname("om", amphora_id) not in _links("om")
    assert not os.path.exists(os.path.join(os.path.dirname(root), "escape.pem"))
