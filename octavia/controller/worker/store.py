"""The database reads and writes the controller worker makes, apart from its flows.

The API calls the provider inside its transaction, so a cast can reach the worker
before the API commits: `wait_for_status` polls (bounded) until the object shows the
PENDING_* state the API gave it, as upstream's worker retries its lookups. Status
completion goes through the driver agent's `apply_status_update`, so objects end
ACTIVE/ERROR/removed exactly as with any other provider. Each function here is one
short transaction that is safe to run again, so a database outage shorter than
DB_RETRY_S delays a flow instead of failing it (`octavia.db.retry`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Collection, Iterator
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from octavia.common import constants as c
from octavia.db import models as M
from octavia.db import retry
from octavia.db.api import session_scope
from octavia.providers import convert
from octavia.providers.driver_agent import get_requests, status_updates

LOG = logging.getLogger(__name__)

VISIBILITY_TIMEOUT_SEC = 30.0
_POLL_SEC = 0.02
DB_RETRY_S = 60.0

P = ParamSpec("P")
R = TypeVar("R")


def _rides_out_outages(func: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return retry.while_unavailable(lambda: func(*args, **kwargs), DB_RETRY_S, f"worker {func.__name__}")

    return run

KIND_MODELS: dict[str, type[M.Base]] = {
    "loadbalancers": M.LoadBalancer,
    "listeners": M.Listener,
    "pools": M.Pool,
    "members": M.Member,
    "healthmonitors": M.HealthMonitor,
    "l7policies": M.L7Policy,
    "l7rules": M.L7Rule,
}


class StatusUpdateRefused(RuntimeError):
    """The status message could not be applied (the driver agent's error reply)."""


@_rides_out_outages
def wait_for_status(kind: str, object_id: str, statuses: Collection[str],
                    timeout: float = VISIBILITY_TIMEOUT_SEC) -> str | None:
    """Poll until the object has one of `statuses`; its last status (None if absent)."""
    model: Any = KIND_MODELS[kind]
    deadline = time.monotonic() + timeout
    status = None
    while True:
        with session_scope() as session:
            status = session.execute(select(model.provisioning_status).where(model.id == object_id)).scalar()
        if status in statuses or time.monotonic() >= deadline:
            return status
        time.sleep(_POLL_SEC)


@_rides_out_outages
def lb_id_of(kind: str, object_id: str) -> str | None:
    """The load balancer an object belongs to, through its parents."""
    with session_scope() as session:
        return _lb_id_of(session, kind, object_id)


def _lb_id_of(session: Session, kind: str, object_id: str) -> str | None:
    row: Any = session.get(KIND_MODELS[kind], object_id)
    if row is None:
        return None
    parent = {
        "loadbalancers": lambda: row.id,
        "listeners": lambda: row.load_balancer_id,
        "pools": lambda: row.load_balancer_id,
        "members": lambda: _lb_id_of(session, "pools", row.pool_id),
        "healthmonitors": lambda: _lb_id_of(session, "pools", row.pool_id),
        "l7policies": lambda: _lb_id_of(session, "listeners", row.listener_id),
        "l7rules": lambda: _lb_id_of(session, "l7policies", row.l7policy_id),
    }[kind]
    result: str | None = parent()
    return result


@contextlib.contextmanager
def _opened_session(load: Callable[[Session], R], what: str, write: bool = False) -> Iterator[R]:
    """A session whose opening (BEGIN and `load`) rides out a database outage; the
    caller's work inside it is not retried (it may have talked to an amphora)."""

    def open_() -> tuple[contextlib.ExitStack, R]:
        with contextlib.ExitStack() as stack:
            loaded = load(stack.enter_context(session_scope(write=write)))
            return stack.pop_all(), loaded

    scope, loaded = retry.while_unavailable(open_, DB_RETRY_S, what)
    with scope:
        yield loaded


def _load_balancer(session: Session, lb_id: str) -> M.LoadBalancer:
    lb = session.get(M.LoadBalancer, lb_id, options=[
        selectinload(M.LoadBalancer.listeners).selectinload(M.Listener.l7policies)
        .selectinload(M.L7Policy.rules),
        selectinload(M.LoadBalancer.pools).selectinload(M.Pool.members),
        selectinload(M.LoadBalancer.pools).selectinload(M.Pool.health_monitor),
        selectinload(M.LoadBalancer.amphorae),
    ])
    if lb is None:
        raise LookupError(f"load balancer {lb_id} not found")
    _hide_pending_deletes(lb)
    return lb


@contextlib.contextmanager
def loaded_load_balancer(lb_id: str) -> Iterator[M.LoadBalancer]:
    """The LB row with its whole tree, inside an open read session (drivers render from it)."""
    with _opened_session(lambda session: _load_balancer(session, lb_id), f"worker load of LB {lb_id}") as lb:
        yield lb


def _kept(rows: list[Any]) -> list[Any]:
    return [row for row in rows if row.provisioning_status != c.PENDING_DELETE]


def _hide_pending_deletes(lb: M.LoadBalancer) -> None:
    """Render what the LB will be once the delete in flight is done: objects in
    PENDING_DELETE are dropped from the loaded tree without touching the rows (committed
    values carry no history, so nothing is flushed)."""
    set_committed_value(lb, "listeners", _kept(lb.listeners))
    set_committed_value(lb, "pools", _kept(lb.pools))
    for listener in lb.listeners:
        set_committed_value(listener, "l7policies", _kept(listener.l7policies))
        for policy in listener.l7policies:
            set_committed_value(policy, "rules", _kept(policy.rules))
        pool = listener.default_pool
        if pool is not None and pool.provisioning_status == c.PENDING_DELETE:
            set_committed_value(listener, "default_pool", None)
    for pool in lb.pools:
        set_committed_value(pool, "members", _kept(pool.members))
        hm = pool.health_monitor
        if hm is not None and hm.provisioning_status == c.PENDING_DELETE:
            set_committed_value(pool, "health_monitor", None)


@contextlib.contextmanager
def loaded_amphora(amphora_id: str, write: bool = False) -> Iterator[M.Amphora]:
    """The amphora row in an open session. `write=True` when the caller (the network
    driver, which joins this session) writes: a write transaction from the start waits
    its turn, where SQLite refuses at once to upgrade a read one that another writer
    overtook ("database is locked")."""

    def load(session: Session) -> M.Amphora:
        amp = session.get(M.Amphora, amphora_id)
        if amp is None:
            raise LookupError(f"amphora {amphora_id} not found")
        return amp

    with _opened_session(load, f"worker load of amphora {amphora_id}", write=write) as amp:
        yield amp


def lb_tree(lb_id: str) -> dict[str, Any]:
    """The provider data model tree of the LB, as the driver agent's get socket answers."""
    tree = get_requests.answer_get({"object": "loadbalancers", "id": lb_id})
    if not tree:
        raise LookupError(f"load balancer {lb_id} not found")
    return tree


def apply_status(message: dict[str, Any]) -> None:
    reply = status_updates.apply_status_update(message)
    if reply.get("status_code") != status_updates.STATUS_CODE_OK:
        raise StatusUpdateRefused(reply.get("fault_string", "status update refused"))


@_rides_out_outages
def create_amphora(lb_id: str | None, role: str | None) -> str:
    with session_scope(write=True) as session:
        amp = M.Amphora(status=c.PENDING_CREATE, load_balancer_id=lb_id, role=role)
        session.add(amp)
        session.flush()
        return amp.id


@_rides_out_outages
def update_amphora(amphora_id: str, **columns: Any) -> None:
    with session_scope(write=True) as session:
        amp = session.get(M.Amphora, amphora_id)
        if amp is None:
            LOG.warning("Amphora %s vanished before update %s", amphora_id, sorted(columns))
            return
        for name, value in columns.items():
            setattr(amp, name, value)
        amp.updated_at = M.utcnow()


@_rides_out_outages
def live_amphora_ids(lb_id: str) -> list[str]:
    """Amphorae serving the LB: neither DELETED nor being deleted."""
    with session_scope() as session:
        return list(session.execute(
            select(M.Amphora.id).where(
                M.Amphora.load_balancer_id == lb_id,
                M.Amphora.status.not_in((c.DELETED, c.PENDING_DELETE)),
            ).order_by(M.Amphora.created_at)
        ).scalars())


def undeleted_amphora_ids(lb_id: str) -> list[str]:
    """Amphorae of the LB not yet DELETED, including those a failed retire left in
    PENDING_DELETE: deleting the LB must not leave them running."""
    return list(amphora_statuses(lb_id))


@_rides_out_outages
def amphora_lb_id(amphora_id: str) -> str | None:
    with session_scope() as session:
        return session.execute(select(M.Amphora.load_balancer_id).where(M.Amphora.id == amphora_id)).scalar()


@_rides_out_outages
def lock_for_failover(lb_id: str) -> bool:
    """Health-manager failovers arrive without the API's lock: take it (ACTIVE/ERROR ->
    PENDING_UPDATE). True when the LB is locked for this failover."""
    with session_scope(write=True) as session:
        lb = session.get(M.LoadBalancer, lb_id)
        if lb is None or lb.provisioning_status in (c.DELETED, c.PENDING_DELETE, c.PENDING_CREATE):
            return False
        if lb.provisioning_status in (c.ACTIVE, c.ERROR):
            lb.provisioning_status = c.PENDING_UPDATE
            lb.updated_at = M.utcnow()
        return True


@_rides_out_outages
def pending_children(lb_id: str) -> dict[str, list[tuple[str, str]]]:
    """(id, status) of the LB's children in a PENDING_* state, per status-message kind."""
    L, P, Mb, H, Po, R = M.Listener, M.Pool, M.Member, M.HealthMonitor, M.L7Policy, M.L7Rule
    pools = select(P.id).where(P.load_balancer_id == lb_id)
    listeners = select(L.id).where(L.load_balancer_id == lb_id)
    policies = select(Po.id).where(Po.listener_id.in_(listeners))
    scopes: dict[str, tuple[Any, Any]] = {
        "listeners": (L, L.id.in_(listeners)),
        "pools": (P, P.id.in_(pools)),
        "members": (Mb, Mb.pool_id.in_(pools)),
        "healthmonitors": (H, H.pool_id.in_(pools)),
        "l7policies": (Po, Po.id.in_(policies)),
        "l7rules": (R, R.l7policy_id.in_(policies)),
    }
    queries = {
        kind: select(model.id, model.provisioning_status)
        .where(scope, model.provisioning_status.like("PENDING_%"))
        for kind, (model, scope) in scopes.items()
    }
    with session_scope() as session:
        return {kind: [(row[0], row[1]) for row in session.execute(query)] for kind, query in queries.items()}


@_rides_out_outages
def interrupted_load_balancers(providers: Collection[str]) -> list[tuple[str, str]]:
    """(id, status) of the load balancers of `providers` in a PENDING_* state, oldest first."""
    LB = M.LoadBalancer
    with session_scope() as session:
        rows = session.execute(
            select(LB.id, LB.provisioning_status)
            .where(LB.provider.in_(list(providers)), LB.provisioning_status.like("PENDING_%"))
            .order_by(LB.created_at)
        ).all()
    return [(row[0], row[1]) for row in rows]


@_rides_out_outages
def amphora_statuses(lb_id: str) -> dict[str, str]:
    """id -> status of the LB's amphorae that are not DELETED, oldest first."""
    with session_scope() as session:
        rows = session.execute(
            select(M.Amphora.id, M.Amphora.status)
            .where(M.Amphora.load_balancer_id == lb_id, M.Amphora.status != c.DELETED)
            .order_by(M.Amphora.created_at)
        ).all()
    return {row[0]: row[1] for row in rows}


@_rides_out_outages
def availability_zone_metadata(lb_id: str) -> dict[str, Any]:
    """The AZ metadata the LB was created with (what the provider's create cast carried)."""
    with session_scope() as session:
        query = select(M.LoadBalancer.availability_zone).where(M.LoadBalancer.id == lb_id)
        zone = session.execute(query).scalar()
        return (convert.availability_zone_metadata(session, zone) or {}) if zone else {}


@_rides_out_outages
def parent_id(kind: str, object_id: str) -> str | None:
    """The direct parent's id: a member's or HM's pool, a policy's listener, a rule's policy."""
    column, id_column = {
        "members": (M.Member.pool_id, M.Member.id),
        "healthmonitors": (M.HealthMonitor.pool_id, M.HealthMonitor.id),
        "l7policies": (M.L7Policy.listener_id, M.L7Policy.id),
        "l7rules": (M.L7Rule.l7policy_id, M.L7Rule.id),
    }[kind]
    with session_scope() as session:
        return session.execute(select(column).where(id_column == object_id)).scalar()
