"""The controller worker: one method per provider operation, each a taskflow flow.

Every operation waits (bounded) for the API's commit, runs its flow, and finishes with a
status message; a failing flow has already reverted what it made, and the failure path
puts the objects in ERROR (states.md §4), so nothing stays PENDING_*.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from taskflow import engines
from taskflow.patterns import linear_flow

from octavia.common import constants as c
from octavia.common.config import CONF
from octavia.controller.worker import completion, pair_store, store
from octavia.controller.worker.flows import active_standby, amphora_flows
from octavia.controller.worker.tasks import amphora_tasks, config_tasks, status_tasks
from octavia.db import retry
from octavia.providers import noop_completion as done

LOG = logging.getLogger(__name__)

Tree = dict[str, Any]
Builder = Callable[[Tree], completion.Message]

PENDING = {"created": c.PENDING_CREATE, "updated": c.PENDING_UPDATE, "deleted": c.PENDING_DELETE}
# How long the final status of an operation waits for the database: far past any
# flow step's own budget, because giving up leaves the objects PENDING_* (locked).
FINAL_STATUS_S = 600.0


def run_flow(flow: linear_flow.Flow, **inputs: Any) -> None:
    engine = engines.load(flow, store=inputs, engine=CONF.task_flow.engine,
                          max_workers=CONF.task_flow.max_workers)
    engine.run()


class ControllerWorker:
    def __init__(self) -> None:
        self._lb_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # --- load balancers ------------------------------------------------------------------

    def create_load_balancer(self, lb_id: str, flavor: dict[str, Any] | None = None,
                             availability_zone: dict[str, Any] | None = None) -> None:
        if store.wait_for_status("loadbalancers", lb_id, {c.PENDING_CREATE}) != c.PENDING_CREATE:
            LOG.error("Load balancer %s never became visible in PENDING_CREATE; not building it.", lb_id)
            return
        zone = (availability_zone or {}).get("compute_zone")
        paired = pair_store.topology(lb_id) == c.TOPOLOGY_ACTIVE_STANDBY
        flow = linear_flow.Flow("create-load-balancer").add(
            active_standby.create_pair_flow() if paired else amphora_flows.new_amphora_flow("amphora"),
            status_tasks.ApplyCompletion(done.load_balancer_created, name="mark-created"),
        )
        self._run_lb_operation(lb_id, "create", flow, lb_id=lb_id, availability_zone=zone)

    def update_load_balancer(self, lb_id: str) -> None:
        if store.wait_for_status("loadbalancers", lb_id, {c.PENDING_UPDATE}) != c.PENDING_UPDATE:
            LOG.error("Load balancer %s is not PENDING_UPDATE; ignoring the update.", lb_id)
            return
        flow = linear_flow.Flow("update-load-balancer").add(
            config_tasks.UpdateAllAmphoraeListeners(name="push-config"),
            status_tasks.ApplyCompletion(_settled, name="mark-settled"),
        )
        self._run_lb_operation(lb_id, "update", flow, lb_id=lb_id)

    def delete_load_balancer(self, lb_id: str) -> None:
        if store.wait_for_status("loadbalancers", lb_id, {c.PENDING_DELETE}) != c.PENDING_DELETE:
            LOG.error("Load balancer %s is not PENDING_DELETE; ignoring the delete.", lb_id)
            return
        flow = linear_flow.Flow("delete-load-balancer").add(
            amphora_flows.retire_amphorae_flow(store.undeleted_amphora_ids(lb_id)),
            status_tasks.ApplyCompletion(lambda tree: done.load_balancer_deleted(tree["loadbalancer_id"]),
                                         name="mark-deleted"),
        )
        self._run_lb_operation(lb_id, "delete", flow, lb_id=lb_id)

    def failover_load_balancer(self, lb_id: str) -> None:
        """Replace every amphora of the LB; an LB with none gets a new one."""
        if store.wait_for_status("loadbalancers", lb_id, {c.PENDING_UPDATE}) != c.PENDING_UPDATE:
            LOG.error("Load balancer %s is not PENDING_UPDATE; ignoring the failover.", lb_id)
            return
        old = store.live_amphora_ids(lb_id)
        flow = linear_flow.Flow("failover-load-balancer")
        if pair_store.topology(lb_id) == c.TOPOLOGY_ACTIVE_STANDBY:
            flow.add(active_standby.replace_pair_flow(old))
        elif old:
            flow.add(amphora_flows.failover_flow(old[0]), amphora_flows.retire_amphorae_flow(old[1:]))
        else:
            flow.add(amphora_flows.new_amphora_flow("replacement"))
        flow.add(status_tasks.ApplyCompletion(_settled, name="mark-settled"))
        self._run_lb_operation(lb_id, "failover", flow, lb_id=lb_id, old_amphora_id=old[0] if old else None,
                               availability_zone=None)

    def finish_pending_update(self, lb_id: str) -> None:
        """Push the configuration the database describes, then settle every PENDING_*
        child where its operation was going (an update whose flow was lost)."""
        flow = linear_flow.Flow("finish-pending-update").add(
            config_tasks.UpdateAllAmphoraeListeners(name="push-config"),
            status_tasks.ApplyCompletion(_pending_done, name="mark-settled"),
        )
        self._run_lb_operation(lb_id, "pending update", flow, lb_id=lb_id)

    def failover_amphora(self, amphora_id: str) -> None:
        lb_id = store.amphora_lb_id(amphora_id)
        if lb_id is None:
            LOG.info("Amphora %s serves no load balancer; retiring it.", amphora_id)
            amphora_tasks.retire_amphora(amphora_id)
            return
        if not store.lock_for_failover(lb_id):
            LOG.warning("Load balancer %s of amphora %s is being created or deleted; no failover.",
                        lb_id, amphora_id)
            return
        paired = pair_store.topology(lb_id) == c.TOPOLOGY_ACTIVE_STANDBY
        flow = linear_flow.Flow("failover-amphora").add(
            active_standby.failover_flow(amphora_id) if paired else amphora_flows.failover_flow(amphora_id),
            status_tasks.ApplyCompletion(_settled, name="mark-settled"),
        )
        self._run_lb_operation(lb_id, "amphora failover", flow, lb_id=lb_id, old_amphora_id=amphora_id,
                               availability_zone=None)

    def delete_amphora(self, amphora_id: str) -> None:
        amphora_tasks.retire_amphora(amphora_id)

    def update_amphora_agent_config(self, amphora_id: str) -> None:
        """Push the agent's configuration again (e.g. after heartbeat settings changed)."""
        from octavia.controller.worker import drivers

        with store.loaded_amphora(amphora_id) as amp:
            drivers.amphora().update_amphora_agent_config(amp, None)

    def _run_lb_operation(self, target_lb: str, what: str, flow: linear_flow.Flow, **inputs: Any) -> None:
        lb_id = target_lb
        with self._lock(lb_id):
            try:
                run_flow(flow, **inputs)
            except Exception:
                LOG.exception("Load balancer %s %s failed; marking it ERROR", lb_id, what)
                _final_status(lambda: completion.load_balancer_error(lb_id, store.pending_children(lb_id)))

    # --- children ---------------------------------------------------------------------

    def child_operation(self, kind: str, object_id: str, outcome: done.Outcome,
                        build: Callable[[Tree, str], completion.Message], update: Tree | None = None) -> None:
        """Push the LB's new configuration, then complete (or fail) the child operation.

        `build(tree, object_id)` makes the success message from the LB tree.
        """
        if store.wait_for_status(kind, object_id, {PENDING[outcome]}) != PENDING[outcome]:
            LOG.error("%s %s is not %s; ignoring the operation.", kind, object_id, PENDING[outcome])
            return
        lb_id = store.lb_id_of(kind, object_id)
        if lb_id is None:
            return
        with self._lock(lb_id):
            tree = store.lb_tree(lb_id)
            message = build(tree, object_id)
            if outcome == "updated":
                message = completion.keep_health(message)
            try:
                run_flow(linear_flow.Flow(f"{kind}-{outcome}").add(
                    config_tasks.UpdateAllAmphoraeListeners(name="push-config")), lb_id=lb_id)
            except Exception:
                LOG.exception("%s %s of %s failed; marking it ERROR", kind, outcome, object_id)
                _final_status(lambda: completion.failed(message, completion.locked_ids(message, kind)))
                return
            _final_status(lambda: message)

    def _lock(self, lb_id: str) -> threading.Lock:
        """One operation per LB at a time in this worker (the API's lock spans workers)."""
        with self._guard:
            return self._lb_locks.setdefault(lb_id, threading.Lock())


def _final_status(build: Callable[[], completion.Message]) -> None:
    retry.while_unavailable(lambda: store.apply_status(build()), FINAL_STATUS_S, "final status")


def _pending_done(tree: Tree) -> completion.Message:
    lb_id = tree["loadbalancer_id"]
    return completion.pending_done(lb_id, store.pending_children(lb_id))


def _settled(tree: Tree) -> completion.Message:
    return completion.keep_health(done.load_balancer_settled(tree["loadbalancer_id"]))
