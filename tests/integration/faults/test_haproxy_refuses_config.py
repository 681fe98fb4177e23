"""HAProxy refusing a configuration never takes the load balancer's traffic down.

* `haproxy -c` fails: a configuration pushed to the agent with the controller's own
  certificate is refused (400, HAProxy's message) and the running file stays.
* `haproxy -c` passes but HAProxy could not bind it: a listener created through the API
  on a port something else holds inside the amphora. The agent's bind probe refuses the
  upload (a reload would have paused every running listener for ~2 s while HAProxy
  retried the bind), the listener ends in ERROR and the load balancer ACTIVE.

Client load runs through the VIP the whole time and must lose no request.
"""

from __future__ import annotations

import collections
import ssl
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from octavia.network import netns
from tests.integration.e2e.harness import wait_for
from tests.integration.e2e.traffic import LoadLoop, NamedBackend, answers
from tests.integration.faults import harness
from tests.integration.faults.harness import REPO_ROOT, FaultAllInOne, LocalAmphora

pytestmark = pytest.mark.slow
TAKEN_PORT = 8080
PORT_HOLDER = """
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
print("held", flush=True)
sys.stdin.read()
"""


def _agent_client(aio: FaultAllInOne, amphora: LocalAmphora) -> httpx.Client:
    """The controller's client certificate from the all-in-one's generated CA."""
    ca_dir = aio.state_path / "ca"
    context = ssl.create_default_context(cafile=str(ca_dir / "ca.pem"))
    context.load_cert_chain(str(ca_dir / "client.pem"))
    return httpx.Client(base_url=f"https://{amphora.lb_network_ip}:{amphora.agent_conf()['bind_port']}/1.0",
                        verify=context, timeout=30, trust_env=False)


def test_config_refused_by_haproxy_check_leaves_the_running_one(
    aio: FaultAllInOne, backends: list[NamedBackend]
) -> None:
    created = harness.create_lb(aio, backends[:2], "check")
    lb_id, vip = created["id"], created["vip_address"]
    try:
        amphora = harness.local_amphora(aio, lb_id)
        running = amphora.haproxy_cfg(lb_id)
        broken = running.replace(b"\n    mode http\n", b"\n    mode http\n    no_such_keyword here\n", 1)
        assert broken != running
        with LoadLoop(vip, threads=4, max_seconds=60) as load, _agent_client(aio, amphora) as agent:
            path = f"/loadbalancer/{amphora.id}/{lb_id}/haproxy"
            refused = agent.put(path, content=broken, extensions={"sni_hostname": amphora.id})
            assert refused.status_code == 400, refused.text
            assert "no_such_keyword" in refused.json()["details"]
            reload = agent.put(f"/loadbalancer/{lb_id}/reload", extensions={"sni_hostname": amphora.id})
            assert reload.status_code == 202, reload.text
            shown = agent.get(f"/loadbalancer/{lb_id}/haproxy", extensions={"sni_hostname": amphora.id})
            assert shown.content == running
        result = load.result
        print(f"\n{aio.mode}: {result.ok} requests during the refused upload, {result.failed} failed")
        assert result.failed == 0, result.errors
        assert result.ok > 0
        assert amphora.haproxy_cfg(lb_id) == running
        assert aio.lb(lb_id)["provisioning_status"] == "ACTIVE"
    finally:
        harness.delete_lb(aio, lb_id)


@pytest.fixture
def port_holder(aio: FaultAllInOne) -> Iterator[list[subprocess.Popen[str]]]:
    held: list[subprocess.Popen[str]] = []
    yield held
    for process in held:
        process.kill()
        process.wait(timeout=10)


def _hold(amphora: LocalAmphora, address: str, port: int) -> subprocess.Popen[str]:
    """A process in the amphora's network (its namespace, or the host) bound to address:port."""
    process = subprocess.Popen(
        [*netns.exec_prefix(amphora.namespace), sys.executable, "-c", PORT_HOLDER, address, str(port)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def _listener(aio: FaultAllInOne, lb_id: str, port: int) -> dict[str, object]:
    return next(item for item in aio.status_tree(lb_id)["listeners"] if item["name"] == f"taken-{port}")


def test_listener_on_a_port_held_in_the_amphora_is_refused_and_the_old_config_serves(
    aio: FaultAllInOne, backends: list[NamedBackend], port_holder: list[subprocess.Popen[str]]
) -> None:
    created = harness.create_lb(aio, backends[:2], "reload")
    lb_id, vip, pool_id = created["id"], created["vip_address"], created["pools"][0]["id"]
    try:
        amphora = harness.local_amphora(aio, lb_id)
        running = amphora.haproxy_cfg(lb_id)
        port_holder.append(_hold(amphora, vip, TAKEN_PORT))
        listener = {"listener": {"loadbalancer_id": lb_id, "name": f"taken-{TAKEN_PORT}", "protocol": "HTTP",
                                 "protocol_port": TAKEN_PORT, "default_pool_id": pool_id}}
        log_offset = aio.log_size()
        with LoadLoop(vip, threads=4, max_seconds=60) as load:
            aio.call("POST", "/v2/lbaas/listeners", json=listener, expect=201)
            aio.wait_lb(lb_id)
            assert wait_for(lambda: _listener(aio, lb_id, TAKEN_PORT)["provisioning_status"] == "ERROR", 15)
        result = load.result
        print(f"\n{aio.mode}: {result.ok} requests during the refused listener, {result.failed} failed")
        assert result.failed == 0, result.errors
        assert amphora.haproxy_cfg(lb_id) == running
        log = aio.log_since(log_offset)
        assert f"Cannot bind {vip}:{TAKEN_PORT} (Address already in use)" in log, log[-3000:]
        assert answers(vip, 4) == collections.Counter({"b1": 2, "b2": 2})

        # The port is free again: the failed listener goes and comes back, and serves.
        port_holder.pop().kill()
        failed = _listener(aio, lb_id, TAKEN_PORT)
        aio.call("DELETE", f"/v2/lbaas/listeners/{failed['id']}", expect=204)
        aio.wait_lb(lb_id)
        aio.call("POST", "/v2/lbaas/listeners", json=listener, expect=201)
        aio.wait_lb(lb_id)
        assert _listener(aio, lb_id, TAKEN_PORT)["provisioning_status"] == "ACTIVE"
        assert answers(vip, 2, port=TAKEN_PORT) == collections.Counter({"b1": 1, "b2": 1})
    finally:
        harness.delete_lb(aio, lb_id)
