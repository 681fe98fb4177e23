"""The RPC endpoint the amphora provider casts to: one method per operation.

Arguments are object ids only (plus flavor/AZ metadata at LB create and the wanted
members of a batch), so a cast stays small and the worker reads the committed state.
"""

from __future__ import annotations

from typing import Any

import oslo_messaging as messaging

from octavia.controller.worker import rpc, store
from octavia.controller.worker.completion import Message
from octavia.controller.worker.controller_worker import ControllerWorker, Tree
from octavia.providers import noop_completion as done


def _member_done(outcome: done.Outcome) -> Any:
    def build(tree: Tree, member_id: str) -> Message:
        return done.member_done(tree, store.parent_id("members", member_id) or "", member_id, outcome)
    return build


def _hm_done(outcome: done.Outcome) -> Any:
    def build(tree: Tree, hm_id: str) -> Message:
        return done.health_monitor_done(tree, store.parent_id("healthmonitors", hm_id) or "", hm_id, outcome)
    return build


def _policy_done(outcome: done.Outcome) -> Any:
    def build(tree: Tree, policy_id: str) -> Message:
        return done.l7policy_done(tree, store.parent_id("l7policies", policy_id) or "", policy_id, outcome)
    return build


def _rule_done(outcome: done.Outcome) -> Any:
    def build(tree: Tree, rule_id: str) -> Message:
        policy_id = store.parent_id("l7rules", rule_id) or ""
        listener_id = store.parent_id("l7policies", policy_id) or ""
        return done.l7rule_done(tree, listener_id, policy_id, rule_id, outcome)
    return build


class WorkerEndpoint:
    target = messaging.Target(namespace=rpc.NAMESPACE, version=rpc.VERSION)

    def __init__(self, worker: ControllerWorker | None = None) -> None:
        self.worker = worker or ControllerWorker()

    # Load balancers and amphorae
    def create_load_balancer(self, ctxt: Any, loadbalancer_id: str, flavor: dict[str, Any] | None = None,
                             availability_zone: dict[str, Any] | None = None) -> None:
        self.worker.create_load_balancer(loadbalancer_id, flavor, availability_zone)

    def update_load_balancer(self, ctxt: Any, loadbalancer_id: str) -> None:
        self.worker.update_load_balancer(loadbalancer_id)

    def delete_load_balancer(self, ctxt: Any, loadbalancer_id: str, cascade: bool = False) -> None:
        self.worker.delete_load_balancer(loadbalancer_id)

    def failover_load_balancer(self, ctxt: Any, loadbalancer_id: str) -> None:
        self.worker.failover_load_balancer(loadbalancer_id)

    def failover_amphora(self, ctxt: Any, amphora_id: str) -> None:
        self.worker.failover_amphora(amphora_id)

    def delete_amphora(self, ctxt: Any, amphora_id: str) -> None:
        self.worker.delete_amphora(amphora_id)

    def update_amphora_agent_config(self, ctxt: Any, amphora_id: str) -> None:
        self.worker.update_amphora_agent_config(amphora_id)

    # Listeners
    def create_listener(self, ctxt: Any, listener_id: str) -> None:
        self.worker.child_operation("listeners", listener_id, "created",
                                    lambda tree, i: done.listener_done(tree, i, "created"))

    def update_listener(self, ctxt: Any, listener_id: str) -> None:
        self.worker.child_operation("listeners", listener_id, "updated",
                                    lambda tree, i: done.listener_done(tree, i, "updated"))

    def delete_listener(self, ctxt: Any, listener_id: str) -> None:
        self.worker.child_operation("listeners", listener_id, "deleted",
                                    lambda tree, i: done.listener_done(tree, i, "deleted"))

    # Pools
    def create_pool(self, ctxt: Any, pool_id: str) -> None:
        self.worker.child_operation("pools", pool_id, "created",
                                    lambda tree, i: done.pool_done(tree, i, "created"))

    def update_pool(self, ctxt: Any, pool_id: str) -> None:
        self.worker.child_operation("pools", pool_id, "updated",
                                    lambda tree, i: done.pool_done(tree, i, "updated"))

    def delete_pool(self, ctxt: Any, pool_id: str) -> None:
        self.worker.child_operation("pools", pool_id, "deleted",
                                    lambda tree, i: done.pool_done(tree, i, "deleted"))

    # Members
    def create_member(self, ctxt: Any, member_id: str) -> None:
        self.worker.child_operation("members", member_id, "created", _member_done("created"))

    def update_member(self, ctxt: Any, member_id: str) -> None:
        self.worker.child_operation("members", member_id, "updated", _member_done("updated"))

    def delete_member(self, ctxt: Any, member_id: str) -> None:
        self.worker.child_operation("members", member_id, "deleted", _member_done("deleted"))

    def batch_update_members(self, ctxt: Any, pool_id: str, members: list[dict[str, Any]]) -> None:
        """`members`: the wanted members (member_id, or address and protocol_port)."""
        self.worker.child_operation("pools", pool_id, "updated",
                                    lambda tree, i: done.members_batch_done(tree, i, members))

    # Health monitors
    def create_health_monitor(self, ctxt: Any, healthmonitor_id: str) -> None:
        self.worker.child_operation("healthmonitors", healthmonitor_id, "created", _hm_done("created"))

    def update_health_monitor(self, ctxt: Any, healthmonitor_id: str) -> None:
        self.worker.child_operation("healthmonitors", healthmonitor_id, "updated", _hm_done("updated"))

    def delete_health_monitor(self, ctxt: Any, healthmonitor_id: str) -> None:
        self.worker.child_operation("healthmonitors", healthmonitor_id, "deleted", _hm_done("deleted"))

    # L7 policies and rules
    def create_l7policy(self, ctxt: Any, l7policy_id: str) -> None:
        self.worker.child_operation("l7policies", l7policy_id, "created", _policy_done("created"))

    def update_l7policy(self, ctxt: Any, l7policy_id: str) -> None:
        self.worker.child_operation("l7policies", l7policy_id, "updated", _policy_done("updated"))

    def delete_l7policy(self, ctxt: Any, l7policy_id: str) -> None:
        self.worker.child_operation("l7policies", l7policy_id, "deleted", _policy_done("deleted"))

    def create_l7rule(self, ctxt: Any, l7rule_id: str) -> None:
        self.worker.child_operation("l7rules", l7rule_id, "created", _rule_done("created"))

    def update_l7rule(self, ctxt: Any, l7rule_id: str) -> None:
        self.worker.child_operation("l7rules", l7rule_id, "updated", _rule_done("updated"))

    def delete_l7rule(self, ctxt: Any, l7rule_id: str) -> None:
        self.worker.child_operation("l7rules", l7rule_id, "deleted", _rule_done("deleted"))
