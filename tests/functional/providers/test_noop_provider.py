"""The noop provider end to end: API-style transactions, the driver agent, a real database.

Each test does what the API does: in one write transaction it sets the PENDING_*
statuses, calls the provider with converted models and only then commits, so the
provider's worker must wait for the commit before it can see new objects.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy.orm import Session

from octavia.db import api as db_api
from octavia.db import models
from octavia.providers import convert, loader

from .helpers import Tree, build_tree, status_of, wait_for

LB, LISTENER, POOL, MEMBER = models.LoadBalancer, models.Listener, models.Pool, models.Member
HM, POLICY, RULE = models.HealthMonitor, models.L7Policy, models.L7Rule


@pytest.fixture
def tree(noop: Any) -> Tree:
    with db_api.session_scope(write=True) as session:
        return build_tree(session, status="ACTIVE")


def _lock(session: Session, *rows: tuple[Any, str]) -> None:
    for model, object_id in rows:
        session.get(model, object_id).provisioning_status = "PENDING_UPDATE"


def _settled(*rows: tuple[Any, str]) -> None:
    for model, object_id in rows:
        wait_for(lambda m=model, i=object_id: (status_of(m, i) or ("gone",))[0] == "ACTIVE")


def test_load_balancer_create_activates_the_whole_tree(noop: Any) -> None:
    with db_api.session_scope(write=True) as session:
        tree = build_tree(session, status="PENDING_CREATE")
        loader.call_provider("noop_driver", noop.loadbalancer_create,
                             convert.loadbalancer(session.get(LB, tree.lb)))
        time.sleep(0.2)  # the API may take a while to commit; the provider must wait for it
    wait_for(lambda: status_of(LB, tree.lb) == ("ACTIVE", "OFFLINE"))
    assert status_of(LISTENER, tree.listener) == ("ACTIVE", "OFFLINE")
    assert status_of(POOL, tree.pool) == ("ACTIVE", "OFFLINE")
    assert status_of(POOL, tree.redirect_pool) == ("ACTIVE", "OFFLINE")
    assert [status_of(MEMBER, m) for m in tree.members] == [("ACTIVE", "OFFLINE")] * 2  # pool has an HM
    assert status_of(HM, tree.hm) == ("ACTIVE", "ONLINE")
    assert status_of(POLICY, tree.policy) == ("ACTIVE", "ONLINE")
    assert status_of(RULE, tree.rule) == ("ACTIVE", "ONLINE")
    with db_api.session_scope() as session:
        assert session.get(LB, tree.lb).updated_at is not None


def test_a_create_that_is_rolled_back_reports_nothing_and_blocks_nothing(noop: Any, tree: Tree) -> None:
    with pytest.raises(RuntimeError), db_api.session_scope(write=True) as session:
        ghost = build_tree(session, status="PENDING_CREATE")
        noop.loadbalancer_create(convert.loadbalancer(session.get(LB, ghost.lb)))
        raise RuntimeError("validation failed after the provider call")
    with db_api.session_scope(write=True) as session:
        _lock(session, (LB, tree.lb))
        noop.loadbalancer_update(convert.loadbalancer(session.get(LB, tree.lb)),
                                 convert.update_dict("loadbalancer", session.get(LB, tree.lb), {"name": "x"}))
    _settled((LB, tree.lb))
    assert status_of(LB, ghost.lb) is None


def test_load_balancer_update_and_failover(noop: Any, tree: Tree) -> None:
    for call in ("update", "failover"):
        with db_api.session_scope(write=True) as session:
            _lock(session, (LB, tree.lb))
            lb = session.get(LB, tree.lb)
            if call == "update":
                new = convert.update_dict("loadbalancer", lb, {})
                noop.loadbalancer_update(convert.loadbalancer(lb), new)
            else:
                noop.loadbalancer_failover(tree.lb)
        _settled((LB, tree.lb))


def test_load_balancer_cascade_delete(noop: Any, tree: Tree) -> None:
    with db_api.session_scope(write=True) as session:
        lb = session.get(LB, tree.lb)
        lb.provisioning_status = "PENDING_DELETE"
        noop.loadbalancer_delete(convert.loadbalancer(lb), True)
    wait_for(lambda: status_of(LB, tree.lb) == ("DELETED", "OFFLINE"))
    assert status_of(LISTENER, tree.listener) is None
    assert status_of(POOL, tree.pool) is None
    assert status_of(RULE, tree.rule) is None


def test_listener_create_and_delete(noop: Any, tree: Tree) -> None:
    with db_api.session_scope(write=True) as session:
        _lock(session, (LB, tree.lb))
        listener = LISTENER(project_id="proj", load_balancer_id=tree.lb, protocol="TCP", protocol_port=443,
                            provisioning_status="PENDING_CREATE", operating_status="OFFLINE")
        session.add(listener)
        session.flush()
        listener_id = listener.id
        noop.listener_create(convert.listener(listener))
    wait_for(lambda: status_of(LISTENER, listener_id) == ("ACTIVE", "OFFLINE"))
    _settled((LB, tree.lb))

    with db_api.session_scope(write=True) as session:
        _lock(session, (LB, tree.lb))
        listener = session.get(LISTENER, tree.listener)
        listener.provisioning_status = "PENDING_DELETE"
        noop.listener_delete(convert.listener(listener))
    wait_for(lambda: status_of(LISTENER, tree.listener) is None)
    assert status_of(POLICY, tree.policy) is None
    _settled((LB, tree.lb), (POOL, tree.pool))


def test_pool_update_unlocks_its_listener(noop: Any, tree: Tree) -> None:
    with db_api.session_scope(write=True) as session:
        _lock(session, (LB, tree.lb), (LISTENER, tree.listener), (POOL, tree.pool))
        pool = session.get(POOL, tree.pool)
        pool.lb_algorithm = "LEAST_CONNECTIONS"
        new = convert.update_dict("pool", pool, {"lb_algorithm": "LEAST_CONNECTIONS"})
        noop.pool_update(convert.pool(pool), new)
    _settled((POOL, tree.pool), (LISTENER, tree.listener), (LB, tree.lb))


def test_pool_delete_takes_members_and_monitor(noop: Any, tree: Tree) -> None:
    with db_api.session_scope(write=True) as session:
        _lock(session, (LB, tree.lb), (LISTENER, tree.listener))
        pool = session.get(POOL, tree.pool)
        pool.provisioning_status = "PENDING_DELETE"
        noop.pool_delete(convert.pool(pool))
    wait_for(lambda: status_of(POOL, tree.pool) is None)
    assert status_of(HM, tree.hm) is None
    assert status_of(MEMBER, tree.members[0]) is None
    _settled((LISTENER, tree.listener), (LB, tree.lb))


def test_member_create_update_delete(noop: Any, tree: Tree) -> None:
    locks = ((LB, tree.lb), (LISTENER, tree.listener), (POOL, tree.pool))
    with db_api.session_scope(write=True) as session:
        _lock(session, *locks)
        member = MEMBER(project_id="proj", pool_id=tree.pool, ip_address="192.0.2.50", protocol_port=80,
                        provisioning_status="PENDING_CREATE", operating_status="OFFLINE")
        session.add(member)
        session.flush()
        member_id = member.id
        noop.member_create(convert.member(member))
    wait_for(lambda: status_of(MEMBER, member_id) == ("ACTIVE", "OFFLINE"))
    _settled(*locks)

    with db_api.session_scope(write=True) as session:
        _lock(session, *locks, (MEMBER, member_id))
        member = session.get(MEMBER, member_id)
        member.weight = 7
        noop.member_update(convert.member(member), convert.update_dict("member", member, {"weight": 7}))
    _settled((MEMBER, member_id), *locks)

    with db_api.session_scope(write=True) as session:
        _lock(session, *locks)
        member = session.get(MEMBER, member_id)
        member.provisioning_status = "PENDING_DELETE"
        noop.member_delete(convert.member(member))
    wait_for(lambda: status_of(MEMBER, member_id) is None)
    _settled(*locks)


def test_member_batch_update(noop: Any, tree: Tree) -> None:
    keep, drop = tree.members
    with db_api.session_scope(write=True) as session:
        _lock(session, (LB, tree.lb), (LISTENER, tree.listener), (POOL, tree.pool), (MEMBER, keep))
        session.get(MEMBER, drop).provisioning_status = "PENDING_DELETE"
        new = MEMBER(project_id="proj", pool_id=tree.pool, ip_address="192.0.2.77", protocol_port=80,
                     provisioning_status="PENDING_CREATE", operating_status="OFFLINE")
        session.add(new)
        session.flush()
        new_id = new.id
        wanted = [convert.member(session.get(MEMBER, keep)), convert.member(new)]
        noop.member_batch_update(tree.pool, wanted)
    wait_for(lambda: status_of(MEMBER, drop) is None)
    _settled((MEMBER, keep), (MEMBER, new_id), (POOL, tree.pool), (LISTENER, tree.listener), (LB, tree.lb))


def test_health_monitor_disable_then_delete(noop: Any, tree: Tree) -> None:
    locks = ((LB, tree.lb), (LISTENER, tree.listener), (POOL, tree.pool))
    with db_api.session_scope(write=True) as session:
        _lock(session, *locks, (HM, tree.hm))
        hm = session.get(HM, tree.hm)
        old = convert.healthmonitor(hm)
        hm.enabled = False
        noop.health_monitor_update(old, convert.update_dict("healthmonitor", hm, {"admin_state_up": False}))
    wait_for(lambda: status_of(HM, tree.hm) == ("ACTIVE", "OFFLINE"))
    assert status_of(MEMBER, tree.members[0]) == ("ACTIVE", "NO_MONITOR")
    _settled(*locks)

    with db_api.session_scope(write=True) as session:
        _lock(session, *locks)
        hm = session.get(HM, tree.hm)
        hm.provisioning_status = "PENDING_DELETE"
        noop.health_monitor_delete(convert.healthmonitor(hm))
    wait_for(lambda: status_of(HM, tree.hm) is None)
    _settled(*locks)


def test_health_monitor_create_on_a_pool_with_members(noop: Any, tree: Tree) -> None:
    locks = ((LB, tree.lb), (LISTENER, tree.listener), (POOL, tree.redirect_pool))
    with db_api.session_scope(write=True) as session:
        _lock(session, *locks)
        member = MEMBER(project_id="proj", pool_id=tree.redirect_pool, ip_address="192.0.2.9",
                        protocol_port=80, provisioning_status="ACTIVE", operating_status="NO_MONITOR")
        hm = HM(project_id="proj", pool_id=tree.redirect_pool, type="TCP", delay=5, timeout=3,
                rise_threshold=2, fall_threshold=2, provisioning_status="PENDING_CREATE",
                operating_status="OFFLINE")
        session.add_all([member, hm])
        session.flush()
        hm_id, member_id = hm.id, member.id
        noop.health_monitor_create(convert.healthmonitor(hm))
    wait_for(lambda: status_of(HM, hm_id) == ("ACTIVE", "ONLINE"))
    assert status_of(MEMBER, member_id) == ("ACTIVE", "OFFLINE")
    _settled(*locks)


def test_l7_policy_and_rule_lifecycle(noop: Any, tree: Tree) -> None:
    with db_api.session_scope(write=True) as session:
        _lock(session, (LB, tree.lb), (LISTENER, tree.listener))
        policy = POLICY(project_id="proj", listener_id=tree.listener, action="REJECT", position=2,
                        enabled=False, provisioning_status="PENDING_CREATE", operating_status="OFFLINE")
        session.add(policy)
        session.flush()
        policy_id = policy.id
        noop.l7policy_create(convert.l7policy(policy))
    wait_for(lambda: status_of(POLICY, policy_id) == ("ACTIVE", "OFFLINE"))
    _settled((LISTENER, tree.listener), (LB, tree.lb))

    with db_api.session_scope(write=True) as session:
        _lock(session, (LB, tree.lb), (LISTENER, tree.listener), (POLICY, tree.policy), (RULE, tree.rule))
        rule = session.get(RULE, tree.rule)
        old = convert.l7rule(rule)
        rule.enabled = False
        noop.l7rule_update(old, convert.update_dict("l7rule", rule, {"admin_state_up": False}))
    wait_for(lambda: status_of(RULE, tree.rule) == ("ACTIVE", "OFFLINE"))
    _settled((POLICY, tree.policy), (LISTENER, tree.listener), (LB, tree.lb))

    with db_api.session_scope(write=True) as session:
        _lock(session, (LB, tree.lb), (LISTENER, tree.listener))
        policy = session.get(POLICY, tree.policy)
        policy.provisioning_status = "PENDING_DELETE"
        noop.l7policy_delete(convert.l7policy(policy))
    wait_for(lambda: status_of(POLICY, tree.policy) is None)
    assert status_of(RULE, tree.rule) is None
    with db_api.session_scope() as session:
        assert session.get(POLICY, policy_id).position == 1
    _settled((LISTENER, tree.listener), (LB, tree.lb))


def test_concurrent_creates_all_complete(noop: Any) -> None:
    created: list[str] = []

    def create_one() -> None:
        with db_api.session_scope(write=True) as session:
            lb = LB(project_id="proj", provider="noop_driver", provisioning_status="PENDING_CREATE",
                    operating_status="OFFLINE")
            session.add(lb)
            session.flush()
            noop.loadbalancer_create(convert.loadbalancer(lb))
            created.append(lb.id)

    threads = [threading.Thread(target=create_one) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(created) == 16
    for lb_id in created:
        wait_for(lambda i=lb_id: status_of(LB, i) == ("ACTIVE", "OFFLINE"))
