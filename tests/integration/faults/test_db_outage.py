"""The database unavailable for 10 s while the worker is building and changing load
balancers with real amphorae: the data plane keeps serving, the API answers 503, and
after the outage every object settles by itself (no restart) in a final state, with no
amphora left over."""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url

from octavia.common.config import CONF
from tests.functional.faults.outages import CuttableProxy, Outage, SqliteWriteLock
from tests.integration.databases import PG_ADMIN_URL, postgres_available, postgres_database
from tests.integration.e2e.harness import wait_for
from tests.integration.e2e.traffic import LoadLoop, NamedBackend, answers
from tests.integration.faults import harness
from tests.integration.faults.harness import FaultAllInOne

pytestmark = pytest.mark.slow
OUTAGE_S = 10.0
def _backends() -> list[object]:
    haproxy = pytest.mark.skipif(shutil.which(CONF.haproxy_amphora.haproxy_cmd) is None,
                                 reason="haproxy is not installed")
    postgres = pytest.mark.skipif(not postgres_available(), reason=f"no PostgreSQL at {PG_ADMIN_URL}")
    return [pytest.param("sqlite", marks=[haproxy], id="sqlite"),
            pytest.param("postgresql", marks=[haproxy, postgres], id="postgresql")]


@pytest.fixture(scope="module", params=_backends())
def outage_aio(request: pytest.FixtureRequest) -> Iterator[tuple[FaultAllInOne, Outage]]:
    root = Path(tempfile.mkdtemp(prefix="faults-db-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, root, True)
        outage: Outage
        if request.param == "sqlite":
            database = root / "state" / "octavia.sqlite"
            database.parent.mkdir()
            outage = SqliteWriteLock(str(database))
            url = f"sqlite:///{database}?timeout=2"
        else:
            direct = make_url(stack.enter_context(postgres_database("octavia_faults")))
            outage = CuttableProxy(direct.host or "127.0.0.1", direct.port or 5432)
            proxied = direct.set(host="127.0.0.1", port=outage.port)
            url = proxied.render_as_string(hide_password=False)
        stack.callback(outage.close)
        service = FaultAllInOne(root, "loopback", extra=f"[database]\nconnection = {url}\n")
        stack.callback(service.close)
        service.start()
        yield service, outage


@pytest.fixture
def members(outage_aio: tuple[FaultAllInOne, Outage]) -> Iterator[list[NamedBackend]]:
    aio = outage_aio[0]
    gateway = aio.vip_subnet()["gateway_ip"]
    servers = [NamedBackend(f"b{i}", gateway) for i in range(1, 4)]
    yield servers
    for server in servers:
        server.stop()


def _pending(aio: FaultAllInOne, lb_ids: list[str]) -> list[tuple[str, str]]:
    found = []
    for lb_id in lb_ids:
        response = aio.http.get(f"/v2/lbaas/loadbalancers/{lb_id}/status")
        if response.status_code == 404:
            continue
        tree = response.json()["statuses"]["loadbalancer"]
        found += _walk(tree)
    return [(kind, status) for kind, status in found if status.startswith("PENDING_")]


def _walk(node: dict[str, Any], kind: str = "loadbalancer") -> list[tuple[str, str]]:
    found = [(f"{kind} {node['id']}", node["provisioning_status"])] if "provisioning_status" in node else []
    for child_kind in ("listeners", "pools", "members", "healthmonitor"):
        children = node.get(child_kind) or []
        for child in children if isinstance(children, list) else [children]:
            found += _walk(child, child_kind)
    return found


def _problems(aio: FaultAllInOne) -> list[str]:
    """The service's own warnings and errors (not the API's access log), for a failure's message."""
    lines = aio.log_path.read_text(errors="replace").splitlines()
    return [line[:300] for line in lines
            if ("level=WARNING" in line or "level=ERROR" in line) and "octavia.api" not in line][-40:]


def _members(aio: FaultAllInOne, lb_id: str) -> list[dict[str, Any]]:
    return list(aio.status_tree(lb_id)["listeners"][0]["pools"][0]["members"])


def test_worker_and_api_ride_out_a_database_outage(
    outage_aio: tuple[FaultAllInOne, Outage], members: list[NamedBackend]
) -> None:
    aio, outage = outage_aio
    b1, b2, b3 = members
    base = harness.create_lb(aio, [b1, b2], "db-base")
    vip, pool_id = base["vip_address"], base["pools"][0]["id"]
    codes: collections.Counter[int] = collections.Counter()
    with LoadLoop(vip, threads=4, max_seconds=60) as load:
        # Work in flight when the database goes: a member change and a whole new LB.
        aio.call("POST", f"/v2/lbaas/pools/{pool_id}/members", expect=201,
                 json={"member": {"address": b3.address, "protocol_port": b3.port}})
        body = {"loadbalancer": {"name": "db-new", "project_id": "e2e-project",
                                 "vip_subnet_id": aio.vip_subnet()["id"]}}
        new_id = aio.call("POST", "/v2/lbaas/loadbalancers", json=body, expect=201).json()
        new_id = new_id["loadbalancer"]["id"]
        outage.cut()
        deadline = time.monotonic() + OUTAGE_S
        try:
            while time.monotonic() < deadline:
                codes[aio.http.get(f"/v2/lbaas/loadbalancers/{base['id']}").status_code] += 1
                codes[aio.http.put(f"/v2/lbaas/loadbalancers/{base['id']}",
                                   json={"loadbalancer": {"description": "x"}}).status_code] += 1
                time.sleep(0.2)
        finally:
            outage.restore()
        restored = time.monotonic()
        settled = wait_for(lambda: not _pending(aio, [base["id"], new_id]), 90, interval=0.2)
        settle_s = time.monotonic() - restored
    result = load.result
    member = next(m for m in _members(aio, base["id"]) if m["protocol_port"] == b3.port)
    final = {"base": aio.lb(base["id"])["provisioning_status"], "new": aio.lb(new_id)["provisioning_status"],
             "member": member["provisioning_status"]}
    print(f"\n{outage.name}: API during the outage {dict(codes)}; settled {settle_s:.1f} s after it; "
          f"final {final}; {result.ok} requests through the VIP, {result.failed} failed")
    assert settled, (_pending(aio, [base["id"], new_id]), _problems(aio))
    assert set(codes) <= {200, 409, 503} and codes[503] > 0, codes
    # The data plane does not need the database.
    assert result.failed == 0, result.errors
    # Flows caught at a database step wait the outage out and finish. A member change
    # caught in the middle of its agent call may end in ERROR (the LB is unlocked either way).
    assert final["base"] == final["new"] == "ACTIVE", aio.log_tail(80)
    assert final["member"] in ("ACTIVE", "ERROR")
    if final["member"] == "ERROR":
        aio.call("DELETE", f"/v2/lbaas/pools/{pool_id}/members/{member['id']}", expect=204)
        aio.wait_lb(base["id"])
        aio.call("POST", f"/v2/lbaas/pools/{pool_id}/members", expect=201,
                 json={"member": {"address": b3.address, "protocol_port": b3.port}})
        aio.wait_lb(base["id"])
    assert wait_for(lambda: answers(vip, 6) == collections.Counter({"b1": 2, "b2": 2, "b3": 2}), 10)
    # No amphora left behind: one amphora directory per live amphora.
    live = [amp["compute_id"] for lb_id in (base["id"], new_id) for amp in aio.amphorae(lb_id)]
    directories = [d for d in os.listdir(aio.state_path / "amphorae") if not d.startswith(".")]
    assert sorted(directories) == sorted(live)
    for lb_id in (base["id"], new_id):
        harness.delete_lb(aio, lb_id)
