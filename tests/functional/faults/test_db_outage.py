"""The database unavailable for 10 s under a steady stream of API calls.

The API answers 503 with a WSME-style body (never 500, never a hang past the busy
timeout or the connect failure), recovers by itself with no restart, and once settled
every object is either fully created and ACTIVE or absent: nothing half-written,
nothing left PENDING_*.
"""

from __future__ import annotations

import collections
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from octavia.common import constants as c
from octavia.db import models
from octavia.db.api import session_scope
from tests.functional.faults.outages import Outage

LBS = "/v2/lbaas/loadbalancers"
OUTAGE_S = 10.0
SETTLE_S = 30.0
DB_DOWN = {
    "faultcode": "Server",
    "faultstring": "The database is unavailable; retry the request later.",
    "debuginfo": None,
}
OK = {200, 201, 202, 204}


@dataclass
class Call:
    phase: str
    method: str
    path: str
    status: int
    body: Any
    seconds: float
    name: str | None = None


def _graph(name: str) -> dict[str, Any]:
    return {"loadbalancer": {
        "name": name, "vip_subnet_id": str(uuid.uuid4()),
        "listeners": [{"name": f"{name}-l", "protocol": "HTTP", "protocol_port": 80, "default_pool": {
            "name": f"{name}-p", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
            "members": [{"address": "192.0.2.10", "protocol_port": 8080}],
        }}],
    }}


class Traffic:
    """One client cycling through reads, graph creates, LB updates and member creates."""

    def __init__(self, api: Any, base_lb: str, base_pool: str) -> None:
        self.api, self.base_lb, self.base_pool = api, base_lb, base_pool
        self.calls: list[Call] = []
        self.serial = 0

    def create_graph(self, phase: str) -> None:
        self.serial += 1
        name = f"outage-{self.serial}"
        self._call(phase, "POST", LBS, json=_graph(name), name=name)

    def one_round(self, phase: str) -> None:
        self._call(phase, "GET", LBS)
        self.create_graph(phase)
        self._call(phase, "GET", f"{LBS}/{self.base_lb}")
        self._call(phase, "PUT", f"{LBS}/{self.base_lb}",
                   json={"loadbalancer": {"description": f"round {self.serial}"}})
        self._call(phase, "POST", f"/v2/lbaas/pools/{self.base_pool}/members",
                   json={"member": {"address": "192.0.2.20", "protocol_port": 1000 + self.serial}})

    def _call(self, phase: str, method: str, path: str, name: str | None = None, **kw: Any) -> Call:
        started = time.monotonic()
        resp = self.api.request(method, path, **kw)
        body = resp.json() if resp.content else None
        call = Call(phase, method, path, resp.status_code, body, time.monotonic() - started, name)
        self.calls.append(call)
        return call

    def run_for(self, phase: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.one_round(phase)

    def of(self, phase: str) -> list[Call]:
        return [call for call in self.calls if call.phase == phase]


def _pending_rows() -> list[tuple[str, str, str]]:
    found = []
    with session_scope() as session:
        for model in (models.LoadBalancer, models.Listener, models.Pool, models.Member):
            rows = session.execute(select(model.id, model.provisioning_status).where(
                model.provisioning_status.like("PENDING_%"))).all()
            found += [(model.__tablename__, row[0], row[1]) for row in rows]
    return found


def _settled(timeout: float) -> list[tuple[str, str, str]]:
    deadline = time.monotonic() + timeout
    while True:
        pending = _pending_rows()
        if not pending or time.monotonic() > deadline:
            return pending
        time.sleep(0.1)


def _graphs() -> dict[str, tuple[str, int, int, int]]:
    """Every outage-* load balancer: (provisioning status, listeners, pools, members)."""
    result = {}
    with session_scope() as session:
        for lb in session.execute(select(models.LoadBalancer).where(
                models.LoadBalancer.name.like("outage-%"))).scalars():
            members = session.execute(select(func.count()).select_from(models.Member).join(models.Pool).where(
                models.Pool.load_balancer_id == lb.id)).scalar_one()
            result[str(lb.name)] = (lb.provisioning_status, len(lb.listeners), len(lb.pools), members)
    return result


def test_database_outage_answers_503_recovers_and_leaves_nothing_half_written(
    api: Any, outage: Outage
) -> None:
    base = api.create_lb(name="base")
    resp = api.post("/v2/lbaas/pools", json={"pool": {
        "loadbalancer_id": base["id"], "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}})
    assert resp.status_code == 201, resp.text
    pool_id = resp.json()["pool"]["id"]
    api.wait_lb(base["id"])
    traffic = Traffic(api, base["id"], pool_id)

    traffic.run_for("before", 1.0)
    traffic.create_graph("before")  # its completion is still running when the database goes
    outage.cut()
    cut_at = time.monotonic()
    try:
        traffic.run_for("during", OUTAGE_S)
    finally:
        outage.restore()
    outage_seconds = time.monotonic() - cut_at
    restored_at = time.monotonic()
    while not any(call.status == 201 for call in traffic.of("after")):
        assert time.monotonic() - restored_at < 10, [(x.path, x.status, x.body) for x in traffic.of("after")]
        traffic.one_round("after")
    recovery = next(call for call in traffic.of("after") if call.status == 201)
    recovered_in = sum(call.seconds for call in traffic.of("after")[:traffic.of("after").index(recovery) + 1])
    traffic.run_for("after", 2.0)

    statuses = collections.Counter((call.phase, call.status) for call in traffic.calls)
    during = traffic.of("during")
    slowest = max(call.seconds for call in during)
    print(f"\n{outage.name}: outage {outage_seconds:.1f} s, calls {dict(statuses)}, "
          f"slowest call during the outage {slowest:.2f} s, first write after it {recovered_in:.2f} s")

    # Never a 500; every refusal during the outage is the documented 503 body.
    assert {call.status for call in traffic.calls} <= OK | {409, 503}, statuses
    assert [call.body for call in traffic.calls if call.status == 503] == [DB_DOWN] * statuses_503(traffic)
    assert statuses[("during", 503)] > 0
    assert all(call.status in OK | {409} for call in traffic.of("before"))
    # Bounded: a call fails within the busy timeout / connect failure, it does not hang.
    assert slowest < 5.0
    # Recovered with no restart: writes work again at once and keep working.
    assert recovered_in < 5.0
    assert all(call.status in OK | {409} for call in traffic.of("after")[-5:])

    # Nothing stuck, nothing half-written.
    assert _settled(SETTLE_S) == []
    graphs = _graphs()
    created = {call.name for call in traffic.calls if call.name and call.status == 201}
    refused = {call.name for call in traffic.calls if call.name and call.status == 503}
    assert created <= set(graphs)
    for name, graph in graphs.items():
        assert graph == (c.ACTIVE, 1, 1, 1), (name, graph)
    half = {name for name in refused if name in graphs}
    print(f"graph creates: {len(created)} created, {len(refused)} refused with 503 "
          f"({len(half)} of those committed before the connection dropped)")
    assert api.wait_lb(base["id"])["provisioning_status"] == c.ACTIVE


def statuses_503(traffic: Traffic) -> int:
    return sum(1 for call in traffic.calls if call.status == 503)
