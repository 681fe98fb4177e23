"""A bounded soak of mixed API traffic against the default all-in-one with real amphorae.

Two clients churn whole load balancers (create populated, add a member, change the
pool, add/rename/delete a listener with its own pool, delete in cascade), a third
changes the members of a resident load balancer that carries client traffic the whole
time, a fourth reads lists, trees and statistics. Figures are printed; the test fails
on growth beyond generous bounds (memory, file descriptors), on a leaked namespace or
amphora directory, on any object left outside a final state, or on a lost request.

CI runs 40 s of churn (about a minute with set-up and checks; `OCTAVIA_SOAK_SECONDS`);
`make soak` runs it for 10 minutes.
"""

from __future__ import annotations

import collections
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from octavia.common.config import CONF
from octavia.network import netns
from tests.integration.e2e.harness import AllInOne, ApiError, populated_lb_body, wait_for
from tests.integration.e2e.host import pids_naming
from tests.integration.e2e.traffic import LoadLoop, NamedBackend
from tests.soak import processes
from tests.soak.processes import Usage

pytestmark = pytest.mark.slow
SOAK_S = float(os.environ.get("OCTAVIA_SOAK_SECONDS", "40"))
MIB = 1024
# Generous: interpreter caches and allocator arenas settle over minutes, not seconds.
MAX_AIO_GROWTH_KIB = 64 * MIB
MAX_AGENT_GROWTH_KIB = 32 * MIB
MAX_HAPROXY_MASTER_GROWTH_KIB = 32 * MIB
MAX_FD_GROWTH = 16
LBS = "/v2/lbaas/loadbalancers"


@pytest.fixture(scope="module")
def aio() -> Iterator[AllInOne]:
    if shutil.which(CONF.haproxy_amphora.haproxy_cmd) is None:
        pytest.skip("haproxy is not installed")
    mode = "netns" if netns.netns_works() else "loopback"
    root = Path(tempfile.mkdtemp(prefix=f"soak-{mode}-"))
    service = AllInOne(root, mode)
    try:
        service.start()
        yield service
    finally:
        service.close()
        shutil.rmtree(root, ignore_errors=True)


class Client:
    """Shared counters and the first error of the client threads."""

    def __init__(self, aio: AllInOne, deadline: float) -> None:
        self.aio, self.deadline = aio, deadline
        self.calls: collections.Counter[str] = collections.Counter()
        self.errors: list[str] = []
        self.settle_s: list[float] = []
        self._lock = threading.Lock()

    def call(self, method: str, path: str, expect: int | tuple[int, ...] = (200, 201, 202, 204),
             **kwargs: Any) -> Any:
        response = self.aio.call(method, path, expect=expect, **kwargs)
        with self._lock:
            self.calls[method] += 1
        return response.json() if response.content else None

    def settle(self, lb_id: str) -> None:
        """Wait for the change to be applied (the API's lock on the LB released)."""
        started = time.monotonic()
        self.aio.wait_lb(lb_id, timeout=120)
        with self._lock:
            self.settle_s.append(time.monotonic() - started)

    def run(self, name: str, cycle: Callable[[int], None]) -> threading.Thread:
        def loop() -> None:
            number = 0
            try:
                while time.monotonic() < self.deadline:
                    cycle(number)
                    number += 1
            except (ApiError, AssertionError) as exc:
                with self._lock:
                    self.errors.append(f"{name} cycle {number}: {exc}")
            with self._lock:
                self.calls[f"{name} cycles"] += number

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        return thread


def churn(client: Client, subnet_id: str, members: list[NamedBackend], tag: str) -> Callable[[int], None]:
    """Build a load balancer, change it step by step until the soak's time is up, delete it."""

    def cycle(number: int) -> None:
        b1, b2, b3 = members[:3]
        pair = [(str(b1.address), b1.port), (str(b2.address), b2.port)]
        body = populated_lb_body(subnet_id, pair, name=f"soak-{tag}")
        lb = client.call("POST", LBS, json=body)["loadbalancer"]
        lb_id, pool_id = lb["id"], lb["pools"][0]["id"]
        made: dict[str, str] = {}

        def create(kind: str, path: str, fields: dict[str, Any]) -> None:
            made[kind] = client.call("POST", path, json={kind: fields})[kind]["id"]

        steps: list[Callable[[], object]] = [
            lambda: create("member", f"/v2/lbaas/pools/{pool_id}/members",
                           {"address": b3.address, "protocol_port": b3.port}),
            lambda: client.call("PUT", f"/v2/lbaas/pools/{pool_id}",
                                json={"pool": {"lb_algorithm": "LEAST_CONNECTIONS"}}),
            lambda: create("pool", "/v2/lbaas/pools",
                           {"loadbalancer_id": lb_id, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}),
            lambda: create("listener", "/v2/lbaas/listeners", {
                "loadbalancer_id": lb_id, "protocol": "HTTP", "protocol_port": 8080,
                "default_pool_id": made["pool"]}),
            lambda: client.call("PUT", f"/v2/lbaas/listeners/{made['listener']}",
                                json={"listener": {"name": f"renamed-{number}", "connection_limit": 1000}}),
            lambda: client.call("DELETE", f"/v2/lbaas/pools/{pool_id}/members/{made['member']}"),
            lambda: client.call("DELETE", f"/v2/lbaas/listeners/{made['listener']}"),
        ]
        try:
            client.settle(lb_id)
            for step in steps:
                if time.monotonic() > client.deadline:
                    break
                step()
                client.settle(lb_id)
        finally:
            client.call("DELETE", f"{LBS}/{lb_id}", params={"cascade": "true"})
            client.aio.wait_lb_gone(lb_id, timeout=120)

    return cycle


def member_changes(client: Client, lb_id: str, pool_id: str, spare: NamedBackend) -> Callable[[int], None]:
    def cycle(number: int) -> None:
        body = {"member": {"address": spare.address, "protocol_port": spare.port}}
        member = client.call("POST", f"/v2/lbaas/pools/{pool_id}/members", json=body)["member"]
        client.settle(lb_id)
        client.call("PUT", f"/v2/lbaas/pools/{pool_id}/members/{member['id']}",
                    json={"member": {"weight": 1 + number % 5}})
        client.settle(lb_id)
        client.call("DELETE", f"/v2/lbaas/pools/{pool_id}/members/{member['id']}")
        client.settle(lb_id)

    return cycle


def reads(client: Client, lb_id: str, pool_id: str) -> Callable[[int], None]:
    def cycle(number: int) -> None:
        for path in (LBS, "/v2/lbaas/listeners", "/v2/lbaas/pools", f"/v2/lbaas/pools/{pool_id}/members",
                     f"{LBS}/{lb_id}/status", f"{LBS}/{lb_id}/stats", "/v2/octavia/amphorae"):
            client.call("GET", path)
        time.sleep(0.1)

    return cycle


def _service_usage(aio: AllInOne, resident: str) -> dict[str, Usage]:
    assert aio.process is not None
    amp_dir = aio.state_path / "amphorae" / resident
    agent = int((amp_dir / "agent.pid").read_text())
    haproxy = [pid for pid in pids_naming(str(amp_dir / "lbs")) if pid != agent]
    master = min(haproxy) if haproxy else 0
    return {
        "all-in-one": processes.usage(aio.process.pid),
        "amphora agent": processes.usage(agent),
        "haproxy master": processes.usage(master),
        "haproxy (all)": processes.total(haproxy),
    }


def _quiet(aio: AllInOne, resident: str) -> None:
    """Old HAProxy workers finish their last connections and exit (master + one worker left)."""
    wait_for(lambda: _service_usage(aio, resident)["haproxy (all)"].processes <= 2, 15)


def _final_states(aio: AllInOne) -> list[str]:
    wrong = []
    for kind in ("loadbalancers", "listeners", "pools"):
        for item in aio.get(f"/v2/lbaas/{kind}")[kind]:
            if item["provisioning_status"] != "ACTIVE":
                wrong.append(f"{kind} {item['id']} {item['provisioning_status']}")
    return wrong


def test_mixed_api_soak_with_real_amphorae(aio: AllInOne) -> None:
    namespaces_before = processes.namespaces()
    directories_before = processes.amphora_directories(aio.state_path)
    gateway = aio.vip_subnet()["gateway_ip"]
    subnet_id = aio.vip_subnet()["id"]
    backends = [NamedBackend(f"b{i}", gateway) for i in range(1, 5)]
    try:
        pair = [(str(b.address), b.port) for b in backends[:2]]
        body = populated_lb_body(subnet_id, pair, name="soak-resident")
        # No health monitor on the LB that carries the client traffic: the member servers
        # share this process with the load and API clients, and a stall of a few seconds
        # would fail their 1 s checks and take them out (503s that say nothing about
        # reloads). The churned load balancers keep theirs.
        del body["loadbalancer"]["listeners"][0]["default_pool"]["healthmonitor"]
        resident = aio.call("POST", LBS, json=body, expect=201).json()["loadbalancer"]
        aio.wait_lb(resident["id"])
        resident_amphora = aio.amphorae(resident["id"])[0]["compute_id"]
        resident_pool = resident["pools"][0]["id"]

        warmup = Client(aio, time.monotonic() + 3600)
        churn(warmup, subnet_id, backends, "warmup")(0)
        member_changes(warmup, resident["id"], resident_pool, backends[3])(0)
        _quiet(aio, resident_amphora)
        start = _service_usage(aio, resident_amphora)

        client = Client(aio, time.monotonic() + SOAK_S)
        started = time.monotonic()
        with LoadLoop(resident["vip_address"], threads=4, max_seconds=SOAK_S + 120) as load:
            threads = [
                client.run("churn-a", churn(client, subnet_id, backends, "a")),
                client.run("churn-b", churn(client, subnet_id, backends, "b")),
                client.run("members", member_changes(client, resident["id"], resident_pool, backends[3])),
                client.run("reads", reads(client, resident["id"], resident_pool)),
            ]
            for thread in threads:
                thread.join(timeout=SOAK_S + 300)
        elapsed = time.monotonic() - started
        _quiet(aio, resident_amphora)
        end = _service_usage(aio, resident_amphora)
        wrong = _final_states(aio)
        traffic = load.result

        settle = sorted(client.settle_s)
        print(f"\nsoak {aio.mode} {elapsed:.0f} s: API calls {dict(client.calls)}; "
              f"{traffic.ok} requests through the resident VIP, {traffic.failed} failed; changes applied in "
              f"median {settle[len(settle) // 2]:.2f} s, slowest {settle[-1]:.2f} s")
        for name in start:
            print(f"  {name:15} RSS {start[name].rss_kib / MIB:7.1f} -> {end[name].rss_kib / MIB:7.1f} MiB"
                  f"  fds {start[name].fds:4} -> {end[name].fds:4}"
                  f"  processes {start[name].processes} -> {end[name].processes}")

        assert client.errors == [], client.errors
        assert all(not thread.is_alive() for thread in threads)
        assert wrong == []
        assert traffic.failed == 0, traffic.errors
        assert client.calls["churn-a cycles"] + client.calls["churn-b cycles"] >= 2
        assert end["all-in-one"].rss_kib - start["all-in-one"].rss_kib < MAX_AIO_GROWTH_KIB
        assert end["all-in-one"].fds - start["all-in-one"].fds <= MAX_FD_GROWTH
        assert end["amphora agent"].rss_kib - start["amphora agent"].rss_kib < MAX_AGENT_GROWTH_KIB
        assert end["amphora agent"].fds - start["amphora agent"].fds <= MAX_FD_GROWTH
        assert end["haproxy master"].rss_kib - start["haproxy master"].rss_kib < MAX_HAPROXY_MASTER_GROWTH_KIB
        assert end["haproxy master"].fds - start["haproxy master"].fds <= MAX_FD_GROWTH

        aio.call("DELETE", f"{LBS}/{resident['id']}", params={"cascade": "true"}, expect=204)
        aio.wait_lb_gone(resident["id"])
        # Only new namespaces count: other test runs on the host may add or remove theirs.
        assert processes.namespaces() - namespaces_before == set()
        assert processes.amphora_directories(aio.state_path) == directories_before
        assert aio.get(LBS)["loadbalancers"] == []
    finally:
        for server in backends:
            server.stop()
