"""The all-in-one killed (SIGKILL) in the middle of its operations, then started again.

What the crash cut short is finished at the next start (`octavia.controller.worker.
recovery`): nothing stays PENDING_* (locked against every change), traffic follows what
the database says, and no amphora is left over.
"""

from __future__ import annotations

import collections
import os

import pytest

from tests.integration.e2e.harness import wait_for
from tests.integration.e2e.traffic import NamedBackend, answers
from tests.integration.faults import harness
from tests.integration.faults.harness import FaultAllInOne

pytestmark = pytest.mark.slow


def _crash(aio: FaultAllInOne) -> None:
    assert aio.process is not None
    aio.process.kill()
    aio.process.wait(timeout=10)


def _settled(aio: FaultAllInOne, lb_id: str) -> bool:
    tree = aio.status_tree(lb_id)
    statuses = [tree["provisioning_status"]]
    for listener in tree.get("listeners", []):
        for pool in listener.get("pools", []):
            statuses += [member["provisioning_status"] for member in pool.get("members", [])]
    return all(status == "ACTIVE" for status in statuses)


def _amphora_directories(aio: FaultAllInOne) -> list[str]:
    return sorted(d for d in os.listdir(aio.state_path / "amphorae") if not d.startswith("."))


def test_operations_cut_by_a_crash_are_finished_at_the_next_start(
    aio: FaultAllInOne, backends: list[NamedBackend]
) -> None:
    b1, b2, b3 = backends
    base = harness.create_lb(aio, [b1, b2], "crash-base")
    vip, pool_id = base["vip_address"], base["pools"][0]["id"]
    doomed = harness.create_lb(aio, [b1], "crash-doomed")
    amphora = harness.local_amphora(aio, base["id"])
    offset = aio.log_size()

    # A member add caught in its agent call (the agent frozen), a load balancer being
    # built and one being deleted: the process dies under all three.
    with harness.stopped(amphora.agent_pid):
        member = aio.call("POST", f"/v2/lbaas/pools/{pool_id}/members", expect=201,
                          json={"member": {"address": b3.address, "protocol_port": b3.port}}).json()["member"]
        body = {"loadbalancer": {"name": "crash-new", "project_id": "e2e-project",
                                 "vip_subnet_id": aio.vip_subnet()["id"]}}
        created = aio.call("POST", "/v2/lbaas/loadbalancers", json=body, expect=201).json()
        new_id = created["loadbalancer"]["id"]
        harness.delete_lb_nowait(aio, doomed["id"])
        _crash(aio)
    assert aio.lb_status_in_db(base["id"]) == "PENDING_UPDATE"
    assert aio.lb_status_in_db(new_id) == "PENDING_CREATE"

    aio.start()
    assert wait_for(lambda: _settled(aio, base["id"]) and _settled(aio, new_id), 90), aio.log_tail(80)
    assert wait_for(lambda: aio.http.get(f"/v2/lbaas/loadbalancers/{doomed['id']}").status_code == 404, 60)
    log = aio.log_since(offset)
    for cut in (f"{base['id']} was left PENDING_UPDATE", f"{new_id} was left PENDING_CREATE"):
        assert cut in log, cut
    shown = aio.get(f"/v2/lbaas/pools/{pool_id}/members/{member['id']}")["member"]
    assert shown["provisioning_status"] == "ACTIVE"
    assert wait_for(lambda: answers(vip, 6) == collections.Counter({"b1": 2, "b2": 2, "b3": 2}), 15)
    # The cut build was retired and built again: one amphora per load balancer, and no
    # directory of a dead one left behind.
    live = [amp["compute_id"] for lb_id in (base["id"], new_id) for amp in aio.amphorae(lb_id)]
    assert len(live) == 2
    assert wait_for(lambda: _amphora_directories(aio) == sorted(live), 30), (_amphora_directories(aio), live)
    for lb_id in (base["id"], new_id):
        harness.delete_lb(aio, lb_id)
