"""What the noop provider reports when it "finishes" an operation (states.md §4 and §5).

Pure functions over a load balancer tree as the driver agent's get socket returns it
(`LoadBalancer.to_dict(recurse=True, render_unsets=True)`), producing octavia-lib status
messages. Rules:

* the target of a create/update becomes ACTIVE (a create: its whole new subtree);
  the target of a delete becomes DELETED (the driver agent removes the rows);
* every object the API locked for the operation goes back to ACTIVE: the LB always,
  the pool's listeners for pool/member/HM work, the listener for L7 work, the policy
  for rule work;
* operating status with no health reports: LB/listener/pool OFFLINE; members
  NO_MONITOR, or OFFLINE when their pool has an enabled HM; HM/L7 objects ONLINE if
  enabled else OFFLINE.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from octavia.common import constants as c

Tree = dict[str, Any]
Outcome = Literal["created", "updated", "deleted"]
StatusMessage = dict[str, list[dict[str, str]]]


class StatusReport:
    """Status records keyed by object; a later record for the same object overrides fields."""

    def __init__(self) -> None:
        self._records: dict[str, dict[str, dict[str, str]]] = {}

    def add(self, kind: str, object_id: str, provisioning: str | None, operating: str | None = None) -> None:
        record = self._records.setdefault(kind, {}).setdefault(object_id, {"id": object_id})
        if provisioning is not None:
            record["provisioning_status"] = provisioning
        if operating is not None:
            record["operating_status"] = operating

    def message(self) -> StatusMessage:
        return {kind: list(records.values()) for kind, records in self._records.items()}


def load_balancer_created(tree: Tree) -> StatusMessage:
    report = StatusReport()
    report.add("loadbalancers", tree["loadbalancer_id"], c.ACTIVE, c.OFFLINE)
    for listener in _items(tree, "listeners"):
        _listener_subtree(report, listener)
    for pool in _items(tree, "pools"):
        _pool_subtree(report, pool)
    return report.message()


def load_balancer_settled(lb_id: str) -> StatusMessage:
    """After an LB update or failover."""
    report = StatusReport()
    report.add("loadbalancers", lb_id, c.ACTIVE, c.OFFLINE)
    return report.message()


def load_balancer_deleted(lb_id: str) -> StatusMessage:
    report = StatusReport()
    report.add("loadbalancers", lb_id, c.DELETED, c.OFFLINE)
    return report.message()


def listener_done(tree: Tree, listener_id: str, outcome: Outcome) -> StatusMessage:
    report = _unlocked_lb(tree)
    listener = _find(_items(tree, "listeners"), "listener_id", listener_id)
    if outcome == "deleted":
        report.add("listeners", listener_id, c.DELETED)
    elif outcome == "created" and listener is not None:
        _listener_subtree(report, listener)
        if listener.get("default_pool"):
            _pool_subtree(report, listener["default_pool"])
    else:
        report.add("listeners", listener_id, c.ACTIVE, c.OFFLINE)
    return report.message()


def pool_done(tree: Tree, pool_id: str, outcome: Outcome) -> StatusMessage:
    report = _unlocked_pool_parents(tree, pool_id)
    pool = _find(_items(tree, "pools"), "pool_id", pool_id)
    if outcome == "deleted":
        report.add("pools", pool_id, c.DELETED)
    elif outcome == "created" and pool is not None:
        _pool_subtree(report, pool)
    else:
        report.add("pools", pool_id, c.ACTIVE, c.OFFLINE)
    return report.message()


def member_done(tree: Tree, pool_id: str, member_id: str, outcome: Outcome) -> StatusMessage:
    report = _unlocked_pool_parents(tree, pool_id)
    report.add("pools", pool_id, c.ACTIVE)
    if outcome == "deleted":
        report.add("members", member_id, c.DELETED)
    else:
        pool = _find(_items(tree, "pools"), "pool_id", pool_id) or {}
        report.add("members", member_id, c.ACTIVE, _member_operating_status(pool))
    return report.message()


def members_batch_done(tree: Tree, pool_id: str, wanted: Iterable[dict[str, Any]]) -> StatusMessage:
    """Members in `wanted` become ACTIVE; the pool's other members are deleted.

    A wanted member is matched by id, or by address and port when it has no id.
    """
    report = _unlocked_pool_parents(tree, pool_id)
    report.add("pools", pool_id, c.ACTIVE)
    pool = _find(_items(tree, "pools"), "pool_id", pool_id) or {}
    wanted_ids, wanted_addresses = set(), set()
    for member in wanted:
        if member.get("member_id"):
            wanted_ids.add(member["member_id"])
        else:
            wanted_addresses.add((member.get("address"), member.get("protocol_port")))
    operating = _member_operating_status(pool)
    for member in _items(pool, "members"):
        address = (member["address"], member["protocol_port"])
        if member["member_id"] in wanted_ids or address in wanted_addresses:
            report.add("members", member["member_id"], c.ACTIVE, operating)
        else:
            report.add("members", member["member_id"], c.DELETED)
    return report.message()


def health_monitor_done(
    tree: Tree, pool_id: str, hm_id: str, outcome: Outcome, hm: Tree | None = None
) -> StatusMessage:
    """`hm`: the monitor's new state after an update (the tree may predate the API's commit)."""
    report = _unlocked_pool_parents(tree, pool_id)
    report.add("pools", pool_id, c.ACTIVE)
    pool = _find(_items(tree, "pools"), "pool_id", pool_id) or {}
    if outcome == "deleted":
        report.add("healthmonitors", hm_id, c.DELETED)
        members_operating = c.NO_MONITOR
    else:
        hm = hm or pool.get("healthmonitor") or {"admin_state_up": True}
        report.add("healthmonitors", hm_id, c.ACTIVE, _enabled_status(hm))
        members_operating = _member_operating_status({"healthmonitor": hm})
    for member in _items(pool, "members"):
        report.add("members", member["member_id"], None, members_operating)
    return report.message()


def l7policy_done(
    tree: Tree, listener_id: str, policy_id: str, outcome: Outcome, policy: Tree | None = None
) -> StatusMessage:
    """`policy`: the policy's new state after an update."""
    report = _unlocked_lb(tree)
    report.add("listeners", listener_id, c.ACTIVE)
    if outcome == "deleted":
        report.add("l7policies", policy_id, c.DELETED)
        return report.message()
    policy = policy or _find_policy(tree, listener_id, policy_id) or {"admin_state_up": True}
    report.add("l7policies", policy_id, c.ACTIVE, _enabled_status(policy))
    if outcome == "created":
        for rule in _items(policy, "rules"):
            report.add("l7rules", rule["l7rule_id"], c.ACTIVE, _enabled_status(rule))
    return report.message()


def l7rule_done(
    tree: Tree, listener_id: str, policy_id: str, rule_id: str, outcome: Outcome, rule: Tree | None = None
) -> StatusMessage:
    """`rule`: the rule's new state after an update."""
    report = _unlocked_lb(tree)
    report.add("listeners", listener_id, c.ACTIVE)
    report.add("l7policies", policy_id, c.ACTIVE)
    if outcome == "deleted":
        report.add("l7rules", rule_id, c.DELETED)
    else:
        policy = _find_policy(tree, listener_id, policy_id) or {}
        rule = rule or _find(_items(policy, "rules"), "l7rule_id", rule_id) or {"admin_state_up": True}
        report.add("l7rules", rule_id, c.ACTIVE, _enabled_status(rule))
    return report.message()


def pool_listener_ids(tree: Tree, pool_id: str) -> list[str]:
    """Listeners the API may have locked for work on this pool: those using it as default
    pool or redirecting to it (a superset of upstream's "listeners of the pool", so no
    locked listener is left PENDING)."""
    result = []
    for listener in _items(tree, "listeners"):
        redirects = any(p.get("redirect_pool_id") == pool_id for p in _items(listener, "l7policies"))
        if listener.get("default_pool_id") == pool_id or redirects:
            result.append(listener["listener_id"])
    return result


def _unlocked_lb(tree: Tree) -> StatusReport:
    report = StatusReport()
    report.add("loadbalancers", tree["loadbalancer_id"], c.ACTIVE)
    return report


def _unlocked_pool_parents(tree: Tree, pool_id: str) -> StatusReport:
    report = _unlocked_lb(tree)
    for listener_id in pool_listener_ids(tree, pool_id):
        report.add("listeners", listener_id, c.ACTIVE)
    return report


def _listener_subtree(report: StatusReport, listener: Tree) -> None:
    report.add("listeners", listener["listener_id"], c.ACTIVE, c.OFFLINE)
    for policy in _items(listener, "l7policies"):
        report.add("l7policies", policy["l7policy_id"], c.ACTIVE, _enabled_status(policy))
        for rule in _items(policy, "rules"):
            report.add("l7rules", rule["l7rule_id"], c.ACTIVE, _enabled_status(rule))


def _pool_subtree(report: StatusReport, pool: Tree) -> None:
    report.add("pools", pool["pool_id"], c.ACTIVE, c.OFFLINE)
    operating = _member_operating_status(pool)
    for member in _items(pool, "members"):
        report.add("members", member["member_id"], c.ACTIVE, operating)
    hm = pool.get("healthmonitor")
    if hm:
        report.add("healthmonitors", hm["healthmonitor_id"], c.ACTIVE, _enabled_status(hm))


def _member_operating_status(pool: Tree) -> str:
    hm = pool.get("healthmonitor")
    return c.OFFLINE if hm and hm.get("admin_state_up") else c.NO_MONITOR


def _enabled_status(obj: Tree) -> str:
    return c.ONLINE if obj.get("admin_state_up") else c.OFFLINE


def _find_policy(tree: Tree, listener_id: str, policy_id: str) -> Tree | None:
    listener = _find(_items(tree, "listeners"), "listener_id", listener_id) or {}
    return _find(_items(listener, "l7policies"), "l7policy_id", policy_id)


def _find(items: Iterable[Tree], key: str, value: str) -> Tree | None:
    return next((item for item in items if item.get(key) == value), None)


def _items(obj: Tree, key: str) -> list[Tree]:
    return obj.get(key) or []
