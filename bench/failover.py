"""Failover benchmark of the all-in-one: prints figures, asserts nothing.

For each topology, a populated load balancer (HTTP:80 over two members) is built
through the API with tuned heartbeats (interval 0.5 s, timeout 2 s, scans every 0.5 s),
a client sends a request every 10 ms to its VIP, and its amphora (SINGLE) or the
MASTER of its pair (ACTIVE_STANDBY) is broken in each way in turn. Per failure:

- loss window: the longest time without a successful answer, from the failure until
  the load balancer is whole again;
- detection: failure -> the health manager's failover starts (LB PENDING_UPDATE);
- failover: failover start -> LB ACTIVE again (rebuild time);
- healed: failure -> LB ACTIVE with its amphora (or pair) complete.

An API-triggered LB failover is measured the same way (call -> ACTIVE). ACTIVE_STANDBY
needs netns mode (root). The runner and probe are the integration tests'
(`tests/integration/active_standby/harness.py`).

    .venv/bin/python bench/failover.py [--mode netns|loopback] [--rounds 2] [--topology both]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from octavia.network import netns  # noqa: E402
from tests.integration.active_standby import harness  # noqa: E402
from tests.integration.active_standby.harness import Probe, TunedAllInOne, healthy_pair, wait_pair  # noqa: E402
from tests.integration.e2e.harness import populated_lb_body, wait_for  # noqa: E402
from tests.integration.e2e.traffic import NamedBackend  # noqa: E402

Breaker = Callable[[TunedAllInOne, str], None]


def _vrrp_interface(aio: TunedAllInOne, amphora_id: str) -> str:
    return str(aio.get(f"/v2/octavia/amphorae/{amphora_id}")["amphora"]["vrrp_interface"] or "eth1")


FAILURES: dict[str, dict[str, Breaker]] = {
    "SINGLE": {
        "haproxy killed": lambda aio, amp: harness.kill_haproxy(aio.amphora_dir(amp)),
        "agent killed": lambda aio, amp: harness.kill_agent(aio.amphora_dir(amp)),
        "namespace deleted": lambda aio, amp: harness.destroy_namespace(amp),
    },
    "ACTIVE_STANDBY": {
        "haproxy killed": lambda aio, amp: harness.kill_haproxy(aio.amphora_dir(amp)),
        "agent killed": lambda aio, amp: harness.kill_agent(aio.amphora_dir(amp)),
        "keepalived killed": lambda aio, amp: harness.kill_keepalived(aio.amphora_dir(amp)),
        "link down": lambda aio, amp: harness.link_down(amp, _vrrp_interface(aio, amp)),
    },
}


class StatusWatch:
    """Timestamps of the LB's provisioning status changes, polled every 20 ms."""

    def __init__(self, aio: TunedAllInOne, lb_id: str) -> None:
        self.aio, self.lb_id = aio, lb_id
        self.changes: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StatusWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        last = None
        while not self._stop.wait(0.02):
            try:
                status = self.aio.lb(self.lb_id)["provisioning_status"]
            except Exception:  # the API busy for a moment: try again
                continue
            if status != last:
                self.changes.append((time.monotonic(), status))
                last = status

    def first(self, status: str, after: float) -> float | None:
        return next((t for t, s in self.changes if s == status and t >= after), None)


@dataclass
class Figures:
    loss: list[float] = field(default_factory=list)
    detection: list[float] = field(default_factory=list)
    failover: list[float] = field(default_factory=list)
    healed: list[float] = field(default_factory=list)


def _healed(aio: TunedAllInOne, topology: str, lb_id: str, vip: str, old: str | None) -> Callable[[], bool]:
    if topology == "ACTIVE_STANDBY":
        return lambda: healthy_pair(aio, lb_id, vip, old) is not None

    def single() -> bool:
        lb, amphorae = aio.lb(lb_id), aio.amphorae(lb_id)
        return lb["provisioning_status"] == "ACTIVE" and len(amphorae) == 1 and amphorae[0]["id"] != old \
            and amphorae[0]["status"] == "ALLOCATED"
    return single


def _victim(aio: TunedAllInOne, topology: str, lb_id: str, vip: str) -> str:
    if topology == "ACTIVE_STANDBY":
        return wait_pair(aio, lb_id, vip, gone=None)[0]
    return str(aio.amphorae(lb_id)[0]["id"])


def measure(aio: TunedAllInOne, topology: str, lb: dict[str, Any], name: str, breaker: Breaker | None,
            figures: Figures) -> None:
    lb_id, vip = lb["id"], lb["vip_address"]
    aio.wait_lb(lb_id)
    victim = _victim(aio, topology, lb_id, vip)
    rebuilt = name not in ("keepalived killed",)
    with Probe(vip) as probe, StatusWatch(aio, lb_id) as watch:
        time.sleep(0.3)
        since = time.monotonic()
        if breaker is None:
            aio.call("PUT", f"/v2/lbaas/loadbalancers/{lb_id}/failover", expect=202)
            healed = _healed(aio, topology, lb_id, vip, None)
            done = lambda: watch.first("ACTIVE", since + 0.05) is not None and healed()  # noqa: E731
        else:
            breaker(aio, victim)
            done = _healed(aio, topology, lb_id, vip, victim if rebuilt else None)
        if not wait_for(done, 60, interval=0.05):
            print(f"  {name}: not healed within 60 s\n{aio.log_tail(20)}")
            return
        end = time.monotonic()
        time.sleep(0.3)
    figures.loss.append(probe.result.loss_window(since, end))
    figures.healed.append(end - since)
    started = watch.first("PENDING_UPDATE", since)
    active = watch.first("ACTIVE", started) if started is not None else None
    if started is not None and active is not None:
        figures.detection.append(started - since)
        figures.failover.append(active - started)


def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values) * 1000:7.0f} ({min(values) * 1000:.0f}-{max(values) * 1000:.0f})"


def run_topology(topology: str, mode: str, rounds: int) -> None:
    root = Path(tempfile.mkdtemp(prefix=f"bench-failover-{topology.lower()}-"))
    aio = TunedAllInOne(root, mode, topology=topology)
    servers: list[NamedBackend] = []
    try:
        aio.start()
        gateway = aio.vip_subnet()["gateway_ip"]
        servers = [NamedBackend(f"b{i}", gateway) for i in (1, 2)]
        body = populated_lb_body(aio.vip_subnet()["id"], [(s.address, s.port) for s in servers], name="bench")
        started = time.monotonic()
        lb = aio.call("POST", "/v2/lbaas/loadbalancers", json=body, expect=201).json()["loadbalancer"]
        aio.wait_lb(lb["id"])
        took = time.monotonic() - started
        print(f"\n{topology} ({mode} mode): load balancer ACTIVE {took:.1f} s after POST")
        print(f"  {'failure':<20} {'loss window ms':>22} {'detection ms':>22} {'failover->ACTIVE ms':>22}"
              f" {'healed ms':>22}")
        cases: list[tuple[str, Breaker | None]] = list(FAILURES[topology].items())
        cases.append(("API LB failover", None))
        for name, breaker in cases:
            if name == "namespace deleted" and mode != "netns":
                continue
            figures = Figures()
            for _ in range(rounds):
                measure(aio, topology, lb, name, breaker, figures)
            print(f"  {name:<20} {_ms(figures.loss):>22} {_ms(figures.detection):>22} "
                  f"{_ms(figures.failover):>22} {_ms(figures.healed):>22}")
    finally:
        for server in servers:
            server.stop()
        aio.close()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["netns", "loopback"], default="netns")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--topology", choices=["SINGLE", "ACTIVE_STANDBY", "both"], default="both")
    args = parser.parse_args()
    if args.mode == "netns" and not netns.netns_works():
        sys.exit("netns mode needs root and `ip netns`")
    print("Heartbeats: " + ", ".join(f"{k} {v} s" for k, v in harness.FAST_HEALTH.items())
          + "; probe: one GET per 10 ms, 100 ms timeout; figures: median (min-max)")
    topologies = ["SINGLE", "ACTIVE_STANDBY"] if args.topology == "both" else [args.topology]
    for topology in topologies:
        if topology == "ACTIVE_STANDBY" and args.mode != "netns":
            print("\nACTIVE_STANDBY: not offered in loopback mode")
            continue
        run_topology(topology, args.mode, args.rounds)


if __name__ == "__main__":
    main()
