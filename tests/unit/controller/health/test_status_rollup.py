"""Every row of states.md section 5.3, one table per level."""

from __future__ import annotations

from typing import Any

import pytest

from octavia.common import constants as c
from octavia.controller.health import heartbeat_packet as hb
from octavia.controller.health.status_rollup import (
    LoadBalancerTree,
    ObjectState,
    missing_listeners,
    rollup,
)

LB, LST, POOL, M1, M2 = "lb", "listener", "pool", "member-1", "member-2"


def tree(
    *,
    lb_enabled: bool = True,
    provisioning: str = c.ACTIVE,
    listener_enabled: bool = True,
    protocol: str = c.PROTOCOL_HTTP,
    current: str = c.ONLINE,
    m1_current: str | None = None,
) -> LoadBalancerTree:
    return LoadBalancerTree(
        lb=ObjectState(LB, current, enabled=lb_enabled),
        provisioning_status=provisioning,
        listeners=(ObjectState(LST, current, enabled=listener_enabled, protocol=protocol),),
        pools=(ObjectState(POOL, current),),
        members=(
            ObjectState(M1, m1_current or current, pool_id=POOL),
            ObjectState(M2, current, pool_id=POOL),
        ),
    )


def beat(
    listener: str | None = hb.LISTENER_OPEN,
    pool: str | None = hb.POOL_UP,
    m1: str | None = hb.MEMBER_UP,
    m2: str | None = hb.MEMBER_UP,
) -> hb.Heartbeat:
    listeners = {LST: hb.ListenerReport(status=listener)} if listener else {}
    members = {mid: st for mid, st in ((M1, m1), (M2, m2)) if st is not None}
    pools = {POOL: hb.PoolReport(status=pool, members=members)} if pool else {}
    return hb.Heartbeat(amphora_id="amp", seq=1, timestamp=0.0, listeners=listeners, pools=pools)


def resulting(t: LoadBalancerTree, h: hb.Heartbeat) -> dict[str, Any]:
    """Status of every object after the rollup (stored value where unchanged)."""
    changes = rollup(t, h)
    out = {t.lb.id: changes.load_balancers.get(t.lb.id, t.lb.operating_status)}
    for objs, new in (
        (t.listeners, changes.listeners),
        (t.pools, changes.pools),
        (t.members, changes.members),
    ):
        for obj in objs:
            out[obj.id] = new.get(obj.id, obj.operating_status)
    return out


@pytest.mark.parametrize(
    ("reported", "m1_current", "expected"),
    [
        (hb.MEMBER_UP, c.OFFLINE, c.ONLINE),
        (hb.MEMBER_DOWN, c.ONLINE, c.ERROR),
        (hb.MEMBER_DRAIN, c.ONLINE, c.DRAINING),
        (hb.MEMBER_MAINT, c.ONLINE, c.OFFLINE),
        (hb.MEMBER_NO_CHECK, c.OFFLINE, c.NO_MONITOR),
        (None, c.ONLINE, c.OFFLINE),  # missing from report
        (None, c.ERROR, c.OFFLINE),
        (None, c.NO_MONITOR, c.NO_MONITOR),  # missing but NO_MONITOR stays
    ],
)
def test_member_rules(reported: str | None, m1_current: str, expected: str) -> None:
    assert resulting(tree(m1_current=m1_current), beat(m1=reported))[M1] == expected


def test_members_of_a_pool_missing_from_the_report() -> None:
    out = resulting(tree(m1_current=c.NO_MONITOR), beat(pool=None))
    assert out[M1] == c.NO_MONITOR
    assert out[M2] == c.OFFLINE


@pytest.mark.parametrize(
    ("pool", "m1", "expected"),
    [
        (hb.POOL_UP, hb.MEMBER_UP, c.ONLINE),
        (hb.POOL_UP, hb.MEMBER_DRAIN, c.ONLINE),
        (hb.POOL_UP, hb.MEMBER_NO_CHECK, c.ONLINE),
        (hb.POOL_UP, hb.MEMBER_DOWN, c.DEGRADED),  # downgraded: a member is DOWN
        (hb.POOL_DOWN, hb.MEMBER_DOWN, c.ERROR),
        (None, None, c.OFFLINE),  # not in report
    ],
)
def test_pool_rules(pool: str | None, m1: str | None, expected: str) -> None:
    assert resulting(tree(), beat(pool=pool, m1=m1))[POOL] == expected


@pytest.mark.parametrize(
    ("reported", "listener_enabled", "provisioning", "expected"),
    [
        (hb.LISTENER_OPEN, True, c.ACTIVE, c.ONLINE),
        (hb.LISTENER_FULL, True, c.ACTIVE, c.DEGRADED),
        (None, True, c.ACTIVE, c.ERROR),  # enabled, LB ACTIVE, missing
        (None, False, c.ACTIVE, c.OFFLINE),  # disabled
        (None, True, c.PENDING_UPDATE, c.OFFLINE),  # LB not ACTIVE
        (None, True, c.ERROR, c.OFFLINE),
    ],
)
def test_listener_rules(
    reported: str | None, listener_enabled: bool, provisioning: str, expected: str
) -> None:
    t = tree(listener_enabled=listener_enabled, provisioning=provisioning)
    assert resulting(t, beat(listener=reported))[LST] == expected


@pytest.mark.parametrize(
    ("lb_enabled", "h", "expected"),
    [
        (False, beat(pool=hb.POOL_DOWN, m1=hb.MEMBER_DOWN, m2=hb.MEMBER_DOWN), c.OFFLINE),
        (True, beat(), c.ONLINE),
        (True, beat(listener=hb.LISTENER_FULL), c.DEGRADED),
        (True, beat(m1=hb.MEMBER_DOWN), c.DEGRADED),  # member DOWN in an UP pool
        (True, beat(pool=hb.POOL_DOWN, m1=hb.MEMBER_DOWN, m2=hb.MEMBER_DOWN), c.ERROR),
        (True, beat(listener=hb.LISTENER_FULL, pool=hb.POOL_DOWN, m1=hb.MEMBER_DOWN), c.ERROR),  # dominates
        (True, beat(m1=hb.MEMBER_DRAIN, m2=hb.MEMBER_MAINT), c.ONLINE),
        (True, beat(listener=None, pool=None), c.ONLINE),
    ],
)
def test_load_balancer_rules(lb_enabled: bool, h: hb.Heartbeat, expected: str) -> None:
    assert resulting(tree(lb_enabled=lb_enabled), h)[LB] == expected


def test_only_changed_objects_are_returned() -> None:
    changes = rollup(tree(current=c.ONLINE), beat(m1=hb.MEMBER_DOWN))
    assert changes.members == {M1: c.ERROR}
    assert changes.pools == {POOL: c.DEGRADED}
    assert changes.listeners == {}
    assert changes.load_balancers == {LB: c.DEGRADED}
    assert not rollup(tree(current=c.ONLINE), beat())


def test_objects_of_other_load_balancers_in_the_report_are_ignored() -> None:
    h = beat()
    h.pools["foreign-pool"] = hb.PoolReport(status=hb.POOL_DOWN)
    h.listeners["foreign-listener"] = hb.ListenerReport(status=hb.LISTENER_FULL)
    changes = rollup(tree(current=c.ONLINE), h)
    assert not changes


def test_udp_listener_missing_from_haproxy_report_is_left_alone() -> None:
    t = tree(protocol=c.PROTOCOL_UDP, current=c.ONLINE)
    h = beat(listener=None)
    assert LST not in rollup(t, h).listeners
    assert missing_listeners(t, h) == []


def test_missing_listeners_lists_enabled_haproxy_listeners_only() -> None:
    assert missing_listeners(tree(), beat(listener=None)) == [LST]
    assert missing_listeners(tree(listener_enabled=False), beat(listener=None)) == []
    assert missing_listeners(tree(), beat()) == []
