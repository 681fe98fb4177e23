"""Many clients at once over real HTTP (uvicorn, one DB connection per request).

Runs on SQLite and, with OCTAVIA_TEST_DB_URL, on PostgreSQL or MySQL. Each round releases 50
threads through a barrier; every thread has a bounded join, so a deadlock fails the
test instead of hanging it.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import httpx
from sqlalchemy import delete, func, select, text, update

from octavia.common import constants as c
from octavia.db import models
from octavia.db.api import get_engine, session_scope
from tests.functional.hardening import consistency

T = TypeVar("T")
CLIENTS = 50
ROUNDS = 5
JOIN_TIMEOUT = 120.0
LBS = "/v2/lbaas/loadbalancers"
PROJECT = "c" * 32
HEADERS = {"X-Project-Id": PROJECT}


@contextmanager
def client(url: str, headers: dict[str, str] | None = None) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, headers=headers or HEADERS, timeout=60,
                      limits=httpx.Limits(max_connections=CLIENTS * 3)) as http:
        yield http


def fire(n: int, request: Callable[[int], T]) -> list[T]:
    """Run `request(i)` for i < n on n threads released together; all must finish in time."""
    barrier = threading.Barrier(n)
    results: list[T | BaseException | None] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = request(i)
        except BaseException as exc:  # reported below with the thread's index
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "requests still running: deadlock or starvation"
    failed = [(i, r) for i, r in enumerate(results) if isinstance(r, BaseException)]
    assert not failed, failed[:3]
    return cast(list[T], results)


def settle(lb_id: str) -> None:
    """Play the provider: the locked load balancer (and what it created) back to ACTIVE."""
    with session_scope(write=True) as session:
        for model in consistency.TREE:
            session.execute(update(model).where(model.provisioning_status.in_(c.PENDING_STATUSES))
                            .values(provisioning_status=c.ACTIVE))


def lb_row(lb_id: str) -> models.LoadBalancer:
    with session_scope() as session:
        lb = session.get(models.LoadBalancer, lb_id)
        assert lb is not None
        return lb


def put_lb(http: httpx.Client, lb_id: str, field: str, rnd: int, i: int) -> httpx.Response:
    return http.put(f"{LBS}/{lb_id}", json={"loadbalancer": {field: f"round-{rnd}-client-{i}"}})


def create_lb(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    resp = http.post(LBS, json={"loadbalancer": {"vip_subnet_id": str(uuid.uuid4()), **fields}})
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["loadbalancer"])


def test_one_update_wins_each_round(live_unsettled: str) -> None:
    """50 PUTs on one LB: one 200, 49 409s; the winner's value is what is stored."""
    with client(live_unsettled) as http:
        lb_id = create_lb(http)["id"]
        settle(lb_id)
        for rnd in range(ROUNDS):
            responses = fire(CLIENTS, functools.partial(put_lb, http, lb_id, "name", rnd))
            codes = Counter(r.status_code for r in responses)
            assert codes == {200: 1, 409: CLIENTS - 1}, codes
            winner = next(r for r in responses if r.status_code == 200).json()["loadbalancer"]
            losers = {r.json()["faultstring"] for r in responses if r.status_code == 409}
            assert losers == {f"Invalid state PENDING_UPDATE of loadbalancer resource {lb_id}"}
            stored = lb_row(lb_id)
            assert (stored.name, stored.provisioning_status) == (winner["name"], c.PENDING_UPDATE)
            settle(lb_id)


def test_one_child_create_wins(live_unsettled: str) -> None:
    """50 listener creates on one LB: one 201, the rest 409, and the losers left nothing behind."""
    with client(live_unsettled) as http:
        lb_id = create_lb(http)["id"]
        settle(lb_id)
        responses = fire(CLIENTS, lambda i: http.post("/v2/lbaas/listeners", json={"listener": {
            "loadbalancer_id": lb_id, "protocol": "TCP", "protocol_port": 1000 + i, "tags": [f"t{i}"]}}))
        codes = Counter(r.status_code for r in responses)
        assert codes == {201: 1, 409: CLIENTS - 1}, codes
        with session_scope() as session:
            listeners = session.execute(select(models.Listener.id)).scalars().all()
            tags = session.execute(select(func.count()).select_from(models.Tag)).scalar_one()
            assert len(listeners) == 1 and tags == 1
        settle(lb_id)
        with session_scope() as session:
            assert consistency.problems(session) == []


def test_concurrent_updates_with_a_real_provider(live: str) -> None:
    """With the noop provider completing for real: only 200/409, the last winner's name stays."""
    with client(live) as http:
        lb_id = create_lb(http)["id"]
        winners: list[str] = []
        for rnd in range(3):
            assert consistency.wait_settled() == []
            responses = fire(CLIENTS, functools.partial(put_lb, http, lb_id, "description", rnd))
            codes = Counter(r.status_code for r in responses)
            assert set(codes) <= {200, 409} and codes[200] >= 1, codes
            print(f"round {rnd}: {dict(codes)}")
            winners += [r.json()["loadbalancer"]["description"] for r in responses if r.status_code == 200]
        assert consistency.check() == []
        final = http.get(f"{LBS}/{lb_id}").json()["loadbalancer"]
        assert final["provisioning_status"] == c.ACTIVE and final["description"] in winners


def test_quota_holds_under_concurrent_creates(live: str, overrides: Callable[..., None]) -> None:
    """Quota N, 3N creates at once from a member: exactly N succeed; another project is unaffected."""
    overrides(group="api_settings", auth_strategy="testing")
    quota = 5
    admin = {"X-Project-Id": "admin-project", "X-Roles": "admin"}
    member = {"X-Project-Id": PROJECT, "X-Roles": "member"}
    with client(live, admin) as http:
        resp = http.put(f"/v2/lbaas/quotas/{PROJECT}", json={"quota": {"loadbalancer": quota}})
        assert resp.status_code == 202, resp.text
    with client(live, member) as http:
        responses = fire(3 * quota, lambda i: http.post(LBS, json={"loadbalancer": {
            "name": f"q{i}", "vip_subnet_id": str(uuid.uuid4())}}))
        codes = Counter(r.status_code for r in responses)
        assert codes == {201: quota, 403: 2 * quota}, codes
        assert {r.json()["faultstring"] for r in responses if r.status_code == 403} == {
            "Quota has been met for resources: Load Balancer"}
        assert len(http.get(LBS).json()["loadbalancers"]) == quota
    with session_scope() as session:
        mine = select(func.count()).select_from(models.LoadBalancer).where(
            models.LoadBalancer.project_id == PROJECT)
        assert session.execute(mine).scalar_one() == quota
    with client(live, {"X-Project-Id": "d" * 32, "X-Roles": "member"}) as http:
        create_lb(http)
    assert consistency.check() == []


def _request_into(out: list[httpx.Response], http: httpx.Client, method: str, path: str,
                  body: dict[str, Any] | None) -> None:
    out.append(http.request(method, path, json=body))


def _wait_until_blocked(engine: Any, holder: Any) -> None:
    """Until the request waits on `holder`'s lock on the load balancer row. PostgreSQL names
    the blocking backend. MariaDB's lock tables miss some waits, so there: until another
    connection of this database runs the UPDATE of load_balancer that the holder's row
    lock holds up. SQLite shows no waiters: a pause."""
    if engine.dialect.name == "postgresql":
        me = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
        waiting = text("SELECT count(*) FROM pg_stat_activity WHERE :me = ANY(pg_blocking_pids(pid))")
    elif engine.dialect.name == "mysql":
        me = holder.execute(text("SELECT CONNECTION_ID()")).scalar_one()
        waiting = text("SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE()"
                       " AND id NOT IN (:me, CONNECTION_ID()) AND command = 'Query'"
                       " AND info LIKE 'UPDATE load\\_balancer %'")
    else:
        time.sleep(0.3)
        return
    deadline = time.monotonic() + 10
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            if conn.execute(waiting, {"me": me}).scalar_one():
                return
            conn.rollback()
            time.sleep(0.01)
    raise AssertionError("the request never waited on the load balancer's lock")


def test_child_deleted_while_request_waits_for_lock(live_unsettled: str) -> None:
    """A PUT or DELETE that read a listener just before another transaction removed it: 404, not 500.

    The other transaction holds the LB row (as the driver agent does when it applies a
    delete) and removes the listener; the request blocks on the LB lock, then finds its
    listener gone once that transaction commits.
    """
    with client(live_unsettled) as http:
        lb_id = create_lb(http)["id"]
        settle(lb_id)
        for method, body in (("DELETE", None), ("PUT", {"listener": {"name": "late"}})):
            resp = http.post("/v2/lbaas/listeners", json={"listener": {
                "loadbalancer_id": lb_id, "protocol": "HTTP", "protocol_port": 80}})
            assert resp.status_code == 201, resp.text
            listener_id = resp.json()["listener"]["id"]
            settle(lb_id)
            engine = get_engine()
            result: list[httpx.Response] = []
            with engine.connect() as conn:
                conn.info["write"] = True
                with conn.begin():
                    conn.execute(update(models.LoadBalancer).where(models.LoadBalancer.id == lb_id)
                                 .values(provisioning_status=c.ACTIVE))
                    conn.execute(delete(models.Listener).where(models.Listener.id == listener_id))
                    worker = threading.Thread(target=_request_into, args=(
                        result, http, method, f"/v2/lbaas/listeners/{listener_id}", body))
                    worker.start()
                    _wait_until_blocked(engine, conn)
                conn.info["write"] = False
            worker.join(timeout=JOIN_TIMEOUT)
            assert not worker.is_alive()
            assert result[0].status_code == 404, (method, result[0].text)
            assert lb_row(lb_id).provisioning_status == c.ACTIVE


def _lifecycle(http: httpx.Client, i: int) -> list[tuple[str, int]]:
    """One client's whole load balancer life; returns every (request, status) it saw."""
    seen: list[tuple[str, int]] = []

    def call(method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        resp = http.request(method, path, json=body)
        seen.append((f"{method} {path.split('/')[3]}", resp.status_code))
        return resp

    def settled(lb_id: str, gone: bool = False) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            resp = call("GET", f"{LBS}/{lb_id}")
            if gone and resp.status_code == 404:
                return
            if not gone and resp.json()["loadbalancer"]["provisioning_status"] == c.ACTIVE:
                return
            time.sleep(0.05)
        raise AssertionError(f"client {i}: load balancer {lb_id} never settled")

    created = call("POST", LBS, {"loadbalancer": {"name": f"mixed-{i}", "vip_subnet_id": str(uuid.uuid4())}})
    lb_id = created.json()["loadbalancer"]["id"]
    settled(lb_id)
    listener = call("POST", "/v2/lbaas/listeners", {"listener": {
        "loadbalancer_id": lb_id, "protocol": "HTTP", "protocol_port": 80}}).json()["listener"]["id"]
    settled(lb_id)
    pool = call("POST", "/v2/lbaas/pools", {"pool": {"listener_id": listener, "protocol": "HTTP",
                                                     "lb_algorithm": "ROUND_ROBIN"}}).json()["pool"]["id"]
    settled(lb_id)
    call("POST", f"/v2/lbaas/pools/{pool}/members", {"member": {"address": "192.0.2.5", "protocol_port": 80}})
    settled(lb_id)
    call("PUT", f"{LBS}/{lb_id}", {"loadbalancer": {"description": "renamed"}})
    settled(lb_id)
    call("DELETE", f"{LBS}/{lb_id}?cascade=true")
    settled(lb_id, gone=True)
    return seen


def test_many_clients_writing_their_own_trees(live: str) -> None:
    """25 clients each build and cascade-delete a tree at once: every write succeeds (no
    "database is locked", no pool timeout), and nothing is left behind."""
    clients = 25
    with client(live) as http:
        results = fire(clients, lambda i: _lifecycle(http, i))
    statuses = Counter(status for seen in results for _, status in seen)
    writes = Counter(status for seen in results for request, status in seen if not request.startswith("GET"))
    assert set(writes) <= {201, 200, 204} and sum(writes.values()) == clients * 6, writes
    assert all(status < 500 for status in statuses), statuses
    assert consistency.check() == []

