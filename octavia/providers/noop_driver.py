"""The `noop_driver` provider: accepts everything and finishes it without a data plane.

Every call returns at once; the work is "done" on a worker thread that reports the
outcome through the driver agent's sockets with octavia-lib's DriverLibrary, the path
a real third-party provider uses. So objects move PENDING_* -> ACTIVE/DELETED as they
would with a real back end, only in milliseconds. What is reported is decided in
`noop_completion`. Flavor and availability zone metadata follow upstream's no-op test
driver (`amp_image_tag`; `compute_zone`, `volume_zone`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from octavia_lib.api.drivers import data_models as dm
from octavia_lib.api.drivers import exceptions as lib_exceptions
from octavia_lib.api.drivers.provider_base import ProviderDriver

from octavia.providers import noop_completion as completion
from octavia.providers.agent_client import DriverAgentClient
from octavia.providers.completion_worker import CompletionWorker, StatusMessage, require

LOG = logging.getLogger(__name__)

FLAVOR_METADATA = {"amp_image_tag": "The glance image tag to use for this load balancer."}
AVAILABILITY_ZONE_METADATA = {
    "compute_zone": "The compute availability zone to use for this loadbalancer.",
    "volume_zone": "The volume availability zone to use for this loadbalancer.",
}

Tree = dict[str, Any]
Finish = Callable[[Tree], StatusMessage]


class NoopProviderDriver(ProviderDriver):
    def __init__(self) -> None:
        super().__init__()
        self._worker = CompletionWorker("noop-provider")

    # Load balancer
    def loadbalancer_create(self, loadbalancer: dm.LoadBalancer) -> None:
        lb_id = loadbalancer.loadbalancer_id
        self._worker.submit(lambda client: _finish(client, lb_id, completion.load_balancer_created))

    def loadbalancer_delete(self, loadbalancer: dm.LoadBalancer, cascade: bool = False) -> None:
        lb_id = loadbalancer.loadbalancer_id
        self._worker.submit(lambda _client: completion.load_balancer_deleted(lb_id))

    def loadbalancer_update(self, old_loadbalancer: dm.LoadBalancer,
                            new_loadbalancer: dm.LoadBalancer) -> None:
        lb_id = old_loadbalancer.loadbalancer_id or new_loadbalancer.loadbalancer_id
        self._worker.submit(lambda _client: completion.load_balancer_settled(lb_id))

    def loadbalancer_failover(self, loadbalancer_id: str) -> None:
        self._worker.submit(lambda _client: completion.load_balancer_settled(loadbalancer_id))

    # Listener
    def listener_create(self, listener: dm.Listener) -> None:
        self._listener(listener, "created")

    def listener_update(self, old_listener: dm.Listener, new_listener: dm.Listener) -> None:
        self._listener(old_listener, "updated")

    def listener_delete(self, listener: dm.Listener) -> None:
        self._listener(listener, "deleted")

    def _listener(self, listener: dm.Listener, outcome: completion.Outcome) -> None:
        listener_id, lb_id = listener.listener_id, listener.loadbalancer_id

        def job(client: DriverAgentClient) -> StatusMessage | None:
            lb = lb_id or _parent(client.get_listener, listener_id, "loadbalancer_id")
            return _finish(
                client, lb, lambda tree: completion.listener_done(tree, listener_id, outcome),
                visible=(lambda: client.get_listener(listener_id)) if outcome == "created" else None,
            )

        self._worker.submit(job)

    # Pool
    def pool_create(self, pool: dm.Pool) -> None:
        self._pool(pool, "created")

    def pool_update(self, old_pool: dm.Pool, new_pool: dm.Pool) -> None:
        self._pool(old_pool, "updated")

    def pool_delete(self, pool: dm.Pool) -> None:
        self._pool(pool, "deleted")

    def _pool(self, pool: dm.Pool, outcome: completion.Outcome) -> None:
        pool_id, lb_id = pool.pool_id, pool.loadbalancer_id

        def job(client: DriverAgentClient) -> StatusMessage | None:
            lb = lb_id or _parent(client.get_pool, pool_id, "loadbalancer_id")
            return _finish(
                client, lb, lambda tree: completion.pool_done(tree, pool_id, outcome),
                visible=(lambda: client.get_pool(pool_id)) if outcome == "created" else None,
            )

        self._worker.submit(job)

    # Member
    def member_create(self, member: dm.Member) -> None:
        self._member(member, "created")

    def member_update(self, old_member: dm.Member, new_member: dm.Member) -> None:
        self._member(old_member, "updated")

    def member_delete(self, member: dm.Member) -> None:
        self._member(member, "deleted")

    def _member(self, member: dm.Member, outcome: completion.Outcome) -> None:
        member_id, known_pool = member.member_id, member.pool_id

        def job(client: DriverAgentClient) -> StatusMessage | None:
            pool_id = known_pool or _parent(client.get_member, member_id, "pool_id")
            lb = _parent(client.get_pool, pool_id, "loadbalancer_id")
            return _finish(
                client, lb, lambda tree: completion.member_done(tree, pool_id, member_id, outcome),
                visible=(lambda: client.get_member(member_id)) if outcome == "created" else None,
            )

        self._worker.submit(job)

    def member_batch_update(self, pool_id: str, members: list[dm.Member]) -> None:
        wanted = [m.to_dict() for m in members]
        wanted_ids = {m["member_id"] for m in wanted if m.get("member_id")}

        def all_visible(client: DriverAgentClient) -> bool | None:
            pool = client.get_pool(pool_id)
            present = {m["member_id"] for m in (pool.members or [])} if pool else set()
            return True if pool and wanted_ids <= present else None

        def job(client: DriverAgentClient) -> StatusMessage | None:
            lb = _parent(client.get_pool, pool_id, "loadbalancer_id")
            return _finish(
                client, lb, lambda tree: completion.members_batch_done(tree, pool_id, wanted),
                visible=lambda: all_visible(client),
            )

        self._worker.submit(job)

    # Health monitor
    def health_monitor_create(self, healthmonitor: dm.HealthMonitor) -> None:
        self._health_monitor(healthmonitor, "created")

    def health_monitor_update(self, old_healthmonitor: dm.HealthMonitor,
                              new_healthmonitor: dm.HealthMonitor) -> None:
        self._health_monitor(old_healthmonitor, "updated", _merged(old_healthmonitor, new_healthmonitor))

    def health_monitor_delete(self, healthmonitor: dm.HealthMonitor) -> None:
        self._health_monitor(healthmonitor, "deleted")

    def _health_monitor(
        self, hm: dm.HealthMonitor, outcome: completion.Outcome, state: Tree | None = None
    ) -> None:
        hm_id, known_pool = hm.healthmonitor_id, hm.pool_id

        def job(client: DriverAgentClient) -> StatusMessage | None:
            pool_id = known_pool or _parent(client.get_healthmonitor, hm_id, "pool_id")
            lb = _parent(client.get_pool, pool_id, "loadbalancer_id")
            return _finish(
                client, lb, lambda tree: completion.health_monitor_done(tree, pool_id, hm_id, outcome, state),
                visible=(lambda: client.get_healthmonitor(hm_id)) if outcome == "created" else None,
            )

        self._worker.submit(job)

    # L7 policy
    def l7policy_create(self, l7policy: dm.L7Policy) -> None:
        self._l7policy(l7policy, "created")

    def l7policy_update(self, old_l7policy: dm.L7Policy, new_l7policy: dm.L7Policy) -> None:
        self._l7policy(old_l7policy, "updated", _merged(old_l7policy, new_l7policy))

    def l7policy_delete(self, l7policy: dm.L7Policy) -> None:
        self._l7policy(l7policy, "deleted")

    def _l7policy(self, policy: dm.L7Policy, outcome: completion.Outcome, state: Tree | None = None) -> None:
        policy_id, known_listener = policy.l7policy_id, policy.listener_id

        def job(client: DriverAgentClient) -> StatusMessage | None:
            listener_id = known_listener or _parent(client.get_l7policy, policy_id, "listener_id")
            lb = _parent(client.get_listener, listener_id, "loadbalancer_id")
            return _finish(
                client, lb,
                lambda tree: completion.l7policy_done(tree, listener_id, policy_id, outcome, state),
                visible=(lambda: client.get_l7policy(policy_id)) if outcome == "created" else None,
            )

        self._worker.submit(job)

    # L7 rule
    def l7rule_create(self, l7rule: dm.L7Rule) -> None:
        self._l7rule(l7rule, "created")

    def l7rule_update(self, old_l7rule: dm.L7Rule, new_l7rule: dm.L7Rule) -> None:
        self._l7rule(old_l7rule, "updated", _merged(old_l7rule, new_l7rule))

    def l7rule_delete(self, l7rule: dm.L7Rule) -> None:
        self._l7rule(l7rule, "deleted")

    def _l7rule(self, rule: dm.L7Rule, outcome: completion.Outcome, state: Tree | None = None) -> None:
        rule_id, known_policy = rule.l7rule_id, rule.l7policy_id

        def job(client: DriverAgentClient) -> StatusMessage | None:
            policy_id = known_policy or _parent(client.get_l7rule, rule_id, "l7policy_id")
            listener_id = _parent(client.get_l7policy, policy_id, "listener_id")
            lb = _parent(client.get_listener, listener_id, "loadbalancer_id")
            return _finish(
                client, lb,
                lambda tree: completion.l7rule_done(tree, listener_id, policy_id, rule_id, outcome, state),
                visible=(lambda: client.get_l7rule(rule_id)) if outcome == "created" else None,
            )

        self._worker.submit(job)

    # Flavors and availability zones (synchronous, as octavia-lib specifies)
    def get_supported_flavor_metadata(self) -> dict[str, str]:
        return dict(FLAVOR_METADATA)

    def validate_flavor(self, flavor_metadata: dict[str, Any]) -> None:
        _validate_metadata("flavor", flavor_metadata, FLAVOR_METADATA)

    def get_supported_availability_zone_metadata(self) -> dict[str, str]:
        return dict(AVAILABILITY_ZONE_METADATA)

    def validate_availability_zone(self, availability_zone_metadata: dict[str, Any]) -> None:
        _validate_metadata("availability zone", availability_zone_metadata, AVAILABILITY_ZONE_METADATA)


def _validate_metadata(kind: str, metadata: Any, supported: dict[str, str]) -> None:
    """Known keys with string values only; anything else is an unsupported option (501)."""
    if not isinstance(metadata, dict):
        raise lib_exceptions.UnsupportedOptionError(
            user_fault_string=f"The {kind} metadata must be a JSON object.",
            operator_fault_string=f"Rejected {kind} metadata of type {type(metadata).__name__}.",
        )
    unknown = sorted(set(metadata) - set(supported))
    if unknown:
        _reject(f"Unsupported {kind} metadata key(s): {', '.join(unknown)}. "
                f"Supported: {', '.join(supported)}.")
    for key, value in metadata.items():
        if not isinstance(value, str):
            _reject(f"The {kind} metadata value of '{key}' must be a string.")


def _reject(message: str) -> None:
    raise lib_exceptions.UnsupportedOptionError(user_fault_string=message, operator_fault_string=message)


def _finish(
    client: DriverAgentClient, lb_id: str, finish: Finish, visible: Callable[[], Any] | None = None
) -> StatusMessage:
    """Wait until the work's object is committed, read its LB tree, compute the report."""
    if visible is not None:
        require(visible, "the new object")
    return finish(require(lambda: _tree(client, lb_id), f"load balancer {lb_id}"))


def _tree(client: DriverAgentClient, lb_id: str) -> Tree | None:
    lb = client.get_loadbalancer(lb_id)
    return None if lb is None else lb.to_dict(recurse=True, render_unsets=True)


def _parent(fetch: Callable[[str], Any], object_id: str, attribute: str) -> str:
    """An id held by another object (e.g. a pool's loadbalancer_id), read through the agent."""
    value: str = getattr(require(lambda: fetch(object_id), f"object {object_id}"), attribute)
    return value


def _merged(old: dm.BaseDataModel, new: dm.BaseDataModel) -> Tree:
    """The object's state after an update: the old fields overlaid with the set new ones."""
    state = old.to_dict()
    state.update(new.to_dict())
    return state
