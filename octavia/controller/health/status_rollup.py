"""Operating-status rollup (member -> pool -> listener -> LB) from one heartbeat.

Pure functions over a snapshot of a load balancer's objects, so every rule of
states.md section 5.3 is testable without a database. Only objects whose status
changes end up in the result; the caller writes those and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from octavia.common import constants
from octavia.controller.health import heartbeat_packet as hb

MEMBER_STATUS_MAP = {
    hb.MEMBER_UP: constants.ONLINE,
    hb.MEMBER_DOWN: constants.ERROR,
    hb.MEMBER_DRAIN: constants.DRAINING,
    hb.MEMBER_MAINT: constants.OFFLINE,
    hb.MEMBER_NO_CHECK: constants.NO_MONITOR,
}

# Listeners the amphora does not serve through HAProxy: their absence from a
# heartbeat says nothing about them.
NOT_IN_HAPROXY = (constants.PROTOCOL_UDP, constants.PROTOCOL_SCTP)


@dataclass(frozen=True)
class ObjectState:
    id: str
    operating_status: str
    enabled: bool = True
    protocol: str | None = None
    pool_id: str | None = None


@dataclass(frozen=True)
class LoadBalancerTree:
    """The stored state of one LB and its children, as the rollup needs it."""

    lb: ObjectState
    provisioning_status: str
    listeners: tuple[ObjectState, ...] = ()
    pools: tuple[ObjectState, ...] = ()
    members: tuple[ObjectState, ...] = ()


@dataclass
class StatusChanges:
    """New operating statuses keyed by object id, per table."""

    load_balancers: dict[str, str] = field(default_factory=dict)
    listeners: dict[str, str] = field(default_factory=dict)
    pools: dict[str, str] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.load_balancers or self.listeners or self.pools or self.members)


def member_status(reported: str | None, current: str) -> str:
    if reported is None:
        return constants.NO_MONITOR if current == constants.NO_MONITOR else constants.OFFLINE
    return MEMBER_STATUS_MAP[reported]


def pool_status(report: hb.PoolReport | None) -> str:
    if report is None:
        return constants.OFFLINE
    if report.status == hb.POOL_DOWN:
        return constants.ERROR
    if any(status == hb.MEMBER_DOWN for status in report.members.values()):
        return constants.DEGRADED
    return constants.ONLINE


def listener_status(report: hb.ListenerReport | None, listener: ObjectState, lb_active: bool) -> str:
    if report is None:
        return constants.ERROR if listener.enabled and lb_active else constants.OFFLINE
    return constants.DEGRADED if report.status == hb.LISTENER_FULL else constants.ONLINE


def lb_status(tree: LoadBalancerTree, heartbeat: hb.Heartbeat) -> str:
    if not tree.lb.enabled:
        return constants.OFFLINE
    own_listeners = {listener.id for listener in tree.listeners}
    own_pools = {pool.id for pool in tree.pools}
    pools = [rep for pid, rep in heartbeat.pools.items() if pid in own_pools]
    if any(rep.status == hb.POOL_DOWN for rep in pools):
        return constants.ERROR
    full = any(
        rep.status == hb.LISTENER_FULL for lid, rep in heartbeat.listeners.items() if lid in own_listeners
    )
    member_down = any(
        rep.status == hb.POOL_UP and hb.MEMBER_DOWN in rep.members.values() for rep in pools
    )
    return constants.DEGRADED if full or member_down else constants.ONLINE


def missing_listeners(tree: LoadBalancerTree, heartbeat: hb.Heartbeat) -> list[str]:
    """Enabled HAProxy listeners of the LB that the heartbeat does not mention."""
    return [
        listener.id
        for listener in tree.listeners
        if listener.enabled
        and listener.protocol not in NOT_IN_HAPROXY
        and listener.id not in heartbeat.listeners
    ]


def rollup(tree: LoadBalancerTree, heartbeat: hb.Heartbeat) -> StatusChanges:
    """Statuses the heartbeat implies, restricted to those that differ from the stored ones."""
    changes = StatusChanges()
    lb_active = tree.provisioning_status == constants.ACTIVE

    for member in tree.members:
        pool_report = heartbeat.pools.get(member.pool_id or "")
        reported = pool_report.members.get(member.id) if pool_report else None
        _note(changes.members, member, member_status(reported, member.operating_status))

    for pool in tree.pools:
        _note(changes.pools, pool, pool_status(heartbeat.pools.get(pool.id)))

    for listener in tree.listeners:
        report = heartbeat.listeners.get(listener.id)
        if report is None and listener.protocol in NOT_IN_HAPROXY:
            continue
        _note(changes.listeners, listener, listener_status(report, listener, lb_active))

    _note(changes.load_balancers, tree.lb, lb_status(tree, heartbeat))
    return changes


def _note(target: dict[str, str], obj: ObjectState, status: str) -> None:
    if obj.operating_status != status:
        target[obj.id] = status
