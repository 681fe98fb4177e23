"""Data-plane benchmark of the default all-in-one: prints figures, asserts nothing.

In one run:

1. requests/s and p99 latency (wrk, keep-alive, bounded duration) of the same two
   backends reached directly, through a load balancer built by the API, and through a
   minimal hand-written HAProxy configuration bound to the same VIP and port in the
   same amphora (our listener is disabled through the API meanwhile), with the HAProxy
   CPU time per request of both; rounds alternate and medians are printed;
2. the time from the API call creating a fully populated load balancer to the first
   HTTP 200 through its VIP (p50 over several creates).

The backends are HAProxy processes answering `200 <name>` themselves, so the figure is
the load balancer's cost, not a slow test server's. Every HAProxy runs in its own
session, as the amphora's does: with the kernel's session autogroups, a process sharing
wrk's session would be scheduled with it and look faster on a busy host. The all-in-one runner is the
end-to-end tests' (`tests/integration/e2e/harness.py`).

    .venv/bin/python bench/dataplane.py [--mode netns|loopback] [--duration 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from octavia.network import netns  # noqa: E402
from tests.integration.e2e.harness import AllInOne, free_port, populated_lb_body, wait_for  # noqa: E402
from tests.integration.e2e.traffic import get  # noqa: E402

HAPROXY = "/usr/sbin/haproxy"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass
class Load:
    rps: float
    p99_ms: float
    requests: int
    cpu_us_per_request: float | None = None


def run_wrk(url: str, duration: float, connections: int, threads: int) -> Load:
    argv = ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{duration:.0f}s", "--timeout", "5s"]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True,
                         timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
    if errors:
        print(f"  wrk {url}: {errors.group(0)}", file=sys.stderr)
    return Load(rps, float(value) * _UNITS[unit], requests)


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def haproxy_pids(marker: str) -> list[int]:
    """HAProxy processes whose command line contains marker (a config path)."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "haproxy" and any(marker in arg for arg in proc.info["cmdline"] or []):
            found.append(proc.pid)
    return found


def measured(url: str, marker: str, args: argparse.Namespace) -> Load:
    pids = haproxy_pids(marker) if marker else []
    before = cpu_seconds(pids)
    load = run_wrk(url, args.duration, args.connections, args.threads)
    if pids:
        load.cpu_us_per_request = (cpu_seconds(pids) - before) / max(load.requests, 1) * 1e6
    return load


class HandWritten:
    """A minimal HAProxy for the same backends, in the amphora's namespace (or on the host)."""

    def __init__(self, root: Path, namespace: str | None, vip: str, backends: list[tuple[str, int]]) -> None:
        self.config = root / "hand-written.cfg"
        servers = "".join(f"    server b{i} {a}:{p} check\n" for i, (a, p) in enumerate(backends, 1))
        self.config.write_text(
            "global\n    maxconn 9000\n"
            "defaults\n    mode http\n    timeout connect 5s\n"
            "    timeout client 50s\n    timeout server 50s\n"
            f"frontend fe\n    bind {vip}:80\n    default_backend be\n"
            f"backend be\n    balance roundrobin\n{servers}"
        )
        argv = [HAPROXY, "-db", "-f", str(self.config)]
        self.process = subprocess.Popen([*netns.exec_prefix(namespace), *argv], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)

    def stop(self) -> None:
        for pid in haproxy_pids(str(self.config)):
            psutil.Process(pid).terminate()
        self.process.wait(timeout=10)


def start_backend(root: Path, name: str, address: str, port: int) -> subprocess.Popen[bytes]:
    config = root / f"backend-{name}.cfg"
    config.write_text(
        "global\n    maxconn 9000\n"
        "defaults\n    mode http\n    timeout client 50s\n"
        f"frontend {name}\n    bind {address}:{port}\n"
        f'    http-request return status 200 content-type text/plain string "{name}"\n'
    )
    return subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def first_200(vip: str, timeout: float = 30.0) -> bool:
    def answered() -> bool:
        try:
            return get(vip, timeout=0.2)[0] == 200
        except OSError:
            return False

    return bool(wait_for(answered, timeout, interval=0.005))


def set_listener(aio: AllInOne, lb_id: str, listener_id: str, enabled: bool) -> None:
    aio.call("PUT", f"/v2/lbaas/listeners/{listener_id}", json={"listener": {"admin_state_up": enabled}})
    aio.wait_lb(lb_id)


def compare_throughput(aio: AllInOne, root: Path, backends: list[tuple[str, int]],
                       args: argparse.Namespace) -> dict[str, list[Load]]:
    subnet = aio.vip_subnet()
    lb = aio.call("POST", "/v2/lbaas/loadbalancers", json=populated_lb_body(subnet["id"], backends, "bench"),
                  expect=201).json()["loadbalancer"]
    lb_id, vip, listener_id = lb["id"], lb["vip_address"], lb["listeners"][0]["id"]
    aio.wait_lb(lb_id)
    assert first_200(vip), "the load balancer never answered"
    amphora = aio.amphorae(lb_id)[0]
    namespace = netns.namespace_name(amphora["compute_id"]) if aio.mode == "netns" else None
    results: dict[str, list[Load]] = {"direct": [], "our LB": [], "hand-written": []}
    address, port = backends[0]
    def ours() -> None:
        results["our LB"].append(measured(f"http://{vip}/", lb_id, args))

    def hand_written() -> None:
        set_listener(aio, lb_id, listener_id, enabled=False)
        hand = HandWritten(root, namespace, vip, backends)
        try:
            assert first_200(vip, timeout=10), "the hand-written HAProxy never answered"
            results["hand-written"].append(measured(f"http://{vip}/", str(hand.config), args))
        finally:
            hand.stop()
        set_listener(aio, lb_id, listener_id, enabled=True)
        assert first_200(vip, timeout=10), "the load balancer did not come back"

    for round_number in range(1, args.rounds + 1):
        print(f"round {round_number}/{args.rounds}", file=sys.stderr)
        results["direct"].append(measured(f"http://{address}:{port}/", "", args))
        # Alternate which goes first: on a shared host, load drifts within a round.
        for step in (ours, hand_written) if round_number % 2 else (hand_written, ours):
            step()
    aio.call("DELETE", f"/v2/lbaas/loadbalancers/{lb_id}", params={"cascade": "true"}, expect=204)
    aio.wait_lb_gone(lb_id)
    return results


def time_to_first_200(aio: AllInOne, backends: list[tuple[str, int]], runs: int) -> list[float]:
    subnet = aio.vip_subnet()
    timings = []
    for run in range(runs):
        started = time.monotonic()
        body = populated_lb_body(subnet["id"], backends, f"t{run}")
        lb = aio.call("POST", "/v2/lbaas/loadbalancers", json=body, expect=201).json()["loadbalancer"]
        assert first_200(lb["vip_address"]), "the load balancer never answered"
        timings.append(time.monotonic() - started)
        aio.wait_lb(lb["id"])
        aio.call("DELETE", f"/v2/lbaas/loadbalancers/{lb['id']}", params={"cascade": "true"}, expect=204)
        aio.wait_lb_gone(lb["id"])
    return timings


def median_load(loads: list[Load]) -> Load:
    cpu = [x.cpu_us_per_request for x in loads if x.cpu_us_per_request is not None]
    return Load(statistics.median(x.rps for x in loads), statistics.median(x.p99_ms for x in loads),
                int(statistics.median(x.requests for x in loads)), statistics.median(cpu) if cpu else None)


def report(results: dict[str, list[Load]], timings: list[float], args: argparse.Namespace, mode: str) -> None:
    print(f"\nData plane, {mode} mode: wrk -t{args.threads} -c{args.connections} -d{args.duration:.0f}s "
          f"keep-alive, median of {args.rounds} rounds, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    print(f"{'path':<14}{'req/s':>12}{'p99 ms':>10}{'HAProxy CPU us/req':>22}")
    medians = {name: median_load(loads) for name, loads in results.items()}
    for name, load in medians.items():
        cpu = f"{load.cpu_us_per_request:.1f}" if load.cpu_us_per_request is not None else "-"
        print(f"{name:<14}{load.rps:>12.0f}{load.p99_ms:>10.2f}{cpu:>22}")
    ratio = medians["our LB"].rps / medians["hand-written"].rps
    pairs = zip(results["our LB"], results["hand-written"], strict=True)
    rounds = [ours.rps / hand.rps for ours, hand in pairs]
    print(f"our LB / hand-written req/s: {ratio:.3f} (aim >= 0.98; per round "
          f"{', '.join(f'{r:.2f}' for r in rounds)}); "
          f"our LB / direct: {medians['our LB'].rps / medians['direct'].rps:.3f}")
    print(f"\nAPI create (fully populated) -> first 200 through the VIP, {len(timings)} runs: "
          f"p50 {statistics.median(timings) * 1000:.0f} ms, min {min(timings) * 1000:.0f} ms, "
          f"max {max(timings) * 1000:.0f} ms (aim < 1000 ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["netns", "loopback"],
                        default="netns" if netns.netns_works() else "loopback")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--create-runs", type=int, default=7)
    args = parser.parse_args()
    if shutil.which("wrk") is None or not os.path.exists(HAPROXY):
        print("bench/dataplane.py needs wrk and haproxy (apt-get install wrk haproxy)", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="bench-dataplane-"))
    aio = AllInOne(root, args.mode)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        aio.start()
        gateway = aio.vip_subnet()["gateway_ip"]
        backends = [(gateway, port) for port in (free_port(), free_port())]
        processes = [start_backend(root, f"b{i}", a, p) for i, (a, p) in enumerate(backends, 1)]
        for address, port in backends:
            assert wait_for(lambda a=address, p=port: _answers(a, p), 10), f"backend {address}:{port} is down"
        results = compare_throughput(aio, root, backends, args)
        timings = time_to_first_200(aio, backends, args.create_runs)
        report(results, timings, args, args.mode)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        aio.close()
        shutil.rmtree(root, ignore_errors=True)
    return 0


def _answers(address: str, port: int) -> bool:
    try:
        return get(address, port, timeout=0.5)[0] == 200
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
