"""API benchmark: requests/s and latency of the hot read paths and of a full create→delete cycle.

Starts its own all-in-one (noop provider, SQLite in a temporary state directory), loads
1,000 load balancers through the DB layer and one LB with 10 listeners / 10 pools /
100 members through the API, then measures, at 1 and at 16 concurrent clients:

* GET /v2/lbaas/loadbalancers (the 1,000 LBs)
* GET /v2/lbaas/loadbalancers/{id}
* GET /v2/lbaas/loadbalancers/{id}/status (the 10/10/100 tree)
* create (LB + listener + pool in one call) → ACTIVE → cascade delete → 404

and prints them next to upstream Octavia's single-client figures from issue 2.
Usage: .venv/bin/python bench/api.py [--duration 5] [--clients 1,16] [--lbs 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.functional.clients.service import running_service  # noqa: E402

PROJECT = "bench"
SUBNET = "6f1d4a7e-3c52-4f4b-9d0a-1b2c3d4e5f60"
HEADERS = {"X-Project-Id": PROJECT}
# Upstream Octavia, one client, this kind of machine (issue 2): p50 seconds and the speed-up we owe.
UPSTREAM = {"list": (0.860, 10), "show": (0.029, 10), "tree": (0.165, 10), "cycle": (2.7, 5)}


@dataclass
class Result:
    case: str
    clients: int
    done: int
    elapsed: float
    latencies: list[float]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def seed_load_balancers(state_path: Path, count: int) -> None:
    """Insert ACTIVE, tagged LBs straight into the service's database (fast, and what a list reads)."""
    from octavia.db import api as db_api
    from octavia.db import models

    db_api.set_engine(db_api.make_engine(f"sqlite:///{state_path}/octavia.sqlite"))
    with db_api.session_scope(write=True) as session:
        for i in range(count):
            lb_id = str(uuid.uuid4())
            session.add(models.LoadBalancer(
                id=lb_id, project_id=PROJECT, name=f"bench-{i}", description="seeded", provider="noop_driver",
                provisioning_status="ACTIVE", operating_status="ONLINE", topology="SINGLE",
                vip_address=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", vip_subnet_id=SUBNET,
                vip_network_id=str(uuid.uuid4()), vip_port_id=str(uuid.uuid4()),
            ))
            session.add(models.Tag(resource_id=lb_id, tag="bench"))
    db_api.set_engine(None)


def wait_status(client: httpx.Client, path: str, key: str, status: str = "ACTIVE",
                timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = client.get(path)
        if status == "DELETED" and resp.status_code == 404:
            return
        if resp.status_code == 200 and resp.json()[key]["provisioning_status"] == status:
            return
        if resp.status_code == 200 and resp.json()[key]["provisioning_status"] == "ERROR":
            raise RuntimeError(f"{path} went to ERROR")
        time.sleep(0.005)
    raise RuntimeError(f"{path} did not reach {status} within {timeout} s")


def create(client: httpx.Client, path: str, key: str, body: dict[str, object]) -> str:
    resp = client.post(path, json={key: body})
    if resp.status_code != 201:
        raise RuntimeError(f"POST {path}: {resp.status_code} {resp.text}")
    return str(resp.json()[key]["id"])


def build_tree(client: httpx.Client, listeners: int = 10, members_per_pool: int = 10) -> str:
    """An LB with `listeners` listeners, each with its own default pool of `members_per_pool` members."""
    lb_path = "/v2/lbaas/loadbalancers/{}"
    lb_id = create(client, "/v2/lbaas/loadbalancers", "loadbalancer", {"vip_subnet_id": SUBNET})
    wait_status(client, lb_path.format(lb_id), "loadbalancer")
    for n in range(listeners):
        listener_id = create(client, "/v2/lbaas/listeners", "listener",
                             {"loadbalancer_id": lb_id, "protocol": "HTTP", "protocol_port": 8000 + n})
        wait_status(client, lb_path.format(lb_id), "loadbalancer")
        pool_id = create(client, "/v2/lbaas/pools", "pool",
                         {"listener_id": listener_id, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"})
        wait_status(client, lb_path.format(lb_id), "loadbalancer")
        members = [{"address": f"192.0.2.{m + 1}", "protocol_port": 80, "subnet_id": SUBNET}
                   for m in range(members_per_pool)]
        resp = client.put(f"/v2/lbaas/pools/{pool_id}/members", json={"members": members})
        if resp.status_code != 202:
            raise RuntimeError(f"member batch: {resp.status_code} {resp.text}")
        wait_status(client, lb_path.format(lb_id), "loadbalancer")
    return lb_id


def cycle(client: httpx.Client) -> None:
    """One LB with a listener and a pool: create (single call) → ACTIVE → cascade delete → gone."""
    body = {"vip_subnet_id": SUBNET, "listeners": [{"protocol": "HTTP", "protocol_port": 80, "default_pool": {
        "name": "pool", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}}]}
    lb_id = create(client, "/v2/lbaas/loadbalancers", "loadbalancer", body)
    path = f"/v2/lbaas/loadbalancers/{lb_id}"
    wait_status(client, path, "loadbalancer")
    resp = client.delete(path, params={"cascade": "true"})
    if resp.status_code != 204:
        raise RuntimeError(f"DELETE {path}: {resp.status_code} {resp.text}")
    wait_status(client, path, "loadbalancer", status="DELETED")


def getter(path: str) -> Callable[[httpx.Client], None]:
    def get(client: httpx.Client) -> None:
        resp = client.get(path)
        if resp.status_code != 200:
            raise RuntimeError(f"GET {path}: {resp.status_code} {resp.text[:200]}")

    return get


def run(url: str, case: str, action: Callable[[httpx.Client], None], clients: int, duration: float) -> Result:
    """`clients` threads, each with its own keep-alive connection, repeating `action` for `duration` s."""
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = time.monotonic()
    stop_at = start + duration

    def worker() -> None:
        mine: list[float] = []
        with httpx.Client(base_url=url, headers=HEADERS, timeout=60) as client:
            try:
                action(client)  # warm-up: connection, caches
                while True:  # at least one measured call, even when one takes longer than `duration`
                    t0 = time.perf_counter()
                    action(client)
                    mine.append(time.perf_counter() - t0)
                    if time.monotonic() >= stop_at:
                        break
            except Exception as exc:  # report, don't hide: the figures would be meaningless
                errors.append(exc)
                return
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{case} with {clients} clients failed: {errors[0]}")
    return Result(case, clients, len(latencies), time.monotonic() - start, latencies)


def report(results: list[Result], seeded: int) -> bool:
    header = (f"{'case':<34} {'clients':>7} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} "
              f"{'upstream p50':>13} {'speed-up':>9} {'target':>7}")
    print(header)
    print("-" * len(header))
    labels = {"list": f"list ({seeded} LBs)", "show": "show one LB", "tree": "status tree (10/10/100)",
              "cycle": "create→ACTIVE→delete cycle"}
    ok = True
    for r in results:
        p50 = r.quantile(0.5)
        upstream, factor = UPSTREAM[r.case]
        rate = r.done / r.elapsed
        p99 = r.quantile(0.99)
        line = f"{labels[r.case]:<34} {r.clients:>7} {rate:>9.1f} {p50 * 1000:>9.2f} {p99 * 1000:>9.2f}"
        if r.clients == 1:
            speedup = upstream / p50
            met = speedup >= factor
            ok &= met
            line += f" {upstream * 1000:>10.0f} ms {speedup:>8.1f}x {factor:>5}x {'ok' if met else 'MISSED'}"
        print(line)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per case and concurrency")
    parser.add_argument("--clients", default="1,16", help="comma-separated concurrency levels")
    parser.add_argument("--lbs", type=int, default=1000, help="load balancers in the database for the list")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.clients.split(",")]

    with tempfile.TemporaryDirectory(prefix="octavia-bench-") as tmp, running_service(Path(tmp)) as svc:
        print(f"service pid {svc.pid} on {svc.url}; seeding {args.lbs} load balancers ...", flush=True)
        seed_load_balancers(svc.state_path, args.lbs)
        with httpx.Client(base_url=svc.url, headers=HEADERS, timeout=60) as client:
            tree_lb = build_tree(client)
            listed = client.get("/v2/lbaas/loadbalancers").json()["loadbalancers"]
            print(f"list returns {len(listed)} load balancers; tree LB {tree_lb}", flush=True)
            show_lb = listed[len(listed) // 2]["id"]
        cases: list[tuple[str, Callable[[httpx.Client], None]]] = [
            ("list", getter("/v2/lbaas/loadbalancers")),
            ("show", getter(f"/v2/lbaas/loadbalancers/{show_lb}")),
            ("tree", getter(f"/v2/lbaas/loadbalancers/{tree_lb}/status")),
            ("cycle", cycle),
        ]
        results = [run(svc.url, name, action, clients, args.duration)
                   for name, action in cases for clients in levels]
    print()
    met = report(results, args.lbs)
    print("\nall single-client targets met" if met else "\nsome single-client targets MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
