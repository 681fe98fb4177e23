"""Member rules that need the database or the network driver, but not HTTP.

Reused by the single-call create (octavia/api/v2/lb_graph.py):

    MemberPOST
        pydantic schema of one member: the POST body of /pools/{id}/members, an item of the
        batch PUT and a member spec nested in a fully populated load balancer.
    validate_member(spec: MemberPOST, flavor_meta: Mapping[str, Any] | None) -> None
        reserved address (400) and `request_sriov` allowed by the load balancer's flavor
        metadata (400).
    check_subnet(subnet_id: str) -> None
        the subnet is known to the network driver (400 `Subnet <id> not found.`). Call it
        before opening a write transaction: a network driver may use the database itself
        (the local driver does), and SQLite lets only one writer in at a time.
    new_member(session, spec: MemberPOST, pool: models.Pool, project_id: str) -> models.Member
        adds the row: PENDING_CREATE; operating status OFFLINE when the pool has a health
        monitor, else NO_MONITOR. Raises 409 for a duplicate address/port in the pool.
    lb_flavor_metadata(session, lb: models.LoadBalancer) -> dict[str, Any]
    listeners_using_pool(session, pool_id: str) -> list[models.Listener]
    lock_pool_tree(session, pool: models.Pool) -> None
        the lock every member/health-monitor write takes (states.md section 2 and 3).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from octavia.api.common import types
from octavia.common import constants as c
from octavia.common import exceptions
from octavia.common.config import CONF
from octavia.db import models
from octavia.db import repositories as repo
from octavia.network import loader as network_loader

SRIOV_NOT_ALLOWED = "The load balancer flavor does not allow SR-IOV member ports."
UPDATED_TWICE = "Member must be updated only once in the same request."
Weight = Annotated[types.Int, types.int_bounds(0, 256)]


class MemberPOST(types.RequestBody):
    name: types.Str255 | None = None
    address: types.IpAddress
    protocol_port: types.Port
    admin_state_up: bool | None = True
    weight: Weight | None = 1
    backup: bool | None = False
    subnet_id: types.Uuid | None = None
    monitor_address: types.IpAddress | None = None
    monitor_port: types.Port | None = None
    request_sriov: bool | None = False
    project_id: types.Str36 | None = None
    tenant_id: types.Str36 | None = None
    tags: types.Tags | None = None


def _is_reserved(address: str) -> bool:
    """Upstream compares exploded, upper-cased forms, so 169.254.169.254 matches any spelling."""
    wanted = ipaddress.ip_address(address).exploded.upper()
    for reserved in CONF.networking.reserved_ips or []:
        try:
            if ipaddress.ip_address(reserved.strip()).exploded.upper() == wanted:
                return True
        except ValueError:
            continue
    return False


def check_subnet(subnet_id: str) -> None:
    """The subnet must exist in the network service; a missing one is the caller's error (400)."""
    try:
        network_loader.get_driver().get_subnet(subnet_id)
    except exceptions.APIException:
        raise
    except Exception:
        raise exceptions.BadRequest(f"Subnet {subnet_id} not found.") from None


def lb_flavor_metadata(session: Session, lb: models.LoadBalancer) -> dict[str, Any]:
    """The flavor profile's metadata of a load balancer ({} without a flavor)."""
    if not lb.flavor_id:
        return {}
    flavor = session.get(models.Flavor, lb.flavor_id)
    if flavor is None:
        return {}
    try:
        data = json.loads(flavor.flavor_profile.flavor_data or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def validate_member(spec: MemberPOST, flavor_meta: Mapping[str, Any] | None) -> None:
    if _is_reserved(spec.address):
        raise exceptions.InvalidOption(value=spec.address, option="member address")
    if spec.request_sriov and not (flavor_meta or {}).get("allow_member_sriov"):
        raise exceptions.BadRequest(SRIOV_NOT_ALLOWED)


def check_unique(session: Session, pool_id: str, address: str, port: int) -> None:
    taken = session.execute(
        select(models.Member.id).where(
            models.Member.pool_id == pool_id,
            models.Member.ip_address == address,
            models.Member.protocol_port == port,
        )
    ).first()
    if taken:
        raise exceptions.DuplicateMemberEntry(ip_address=address, port=port)


def new_member(
    session: Session, spec: MemberPOST, pool: models.Pool, project_id: str | None
) -> models.Member:
    check_unique(session, pool.id, spec.address, spec.protocol_port)
    member = models.Member(
        id=models.new_id(),
        project_id=project_id,
        pool_id=pool.id,
        name=spec.name,
        ip_address=spec.address,
        protocol_port=spec.protocol_port,
        weight=1 if spec.weight is None else spec.weight,
        backup=bool(spec.backup),
        subnet_id=spec.subnet_id,
        monitor_address=spec.monitor_address,
        monitor_port=spec.monitor_port,
        enabled=bool(spec.admin_state_up),
        vnic_type=c.VNIC_TYPE_DIRECT if spec.request_sriov else c.VNIC_TYPE_NORMAL,
        provisioning_status=c.PENDING_CREATE,
        operating_status=c.OFFLINE if pool.health_monitor is not None else c.NO_MONITOR,
    )
    session.add(member)
    session.flush()
    repo.set_tags(session, member.id, types.dedupe(spec.tags) or [])
    return member


def apply_update(session: Session, member: models.Member, changes: Mapping[str, Any]) -> None:
    """A PUT: `null` resets weight to 1, backup/admin_state_up to false, the rest to null."""
    for key, value in changes.items():
        if key == "admin_state_up":
            member.enabled = bool(value)
        elif key == "weight":
            member.weight = 1 if value is None else value
        elif key == "backup":
            member.backup = bool(value)
        elif key == "tags":
            repo.set_tags(session, member.id, types.dedupe(value))
        elif key in ("name", "monitor_address", "monitor_port"):
            setattr(member, key, value)
    repo.set_status(session, member, c.PENDING_UPDATE)
    session.flush()


def listeners_using_pool(session: Session, pool_id: str) -> list[models.Listener]:
    """Listeners with the pool as default pool, plus those whose enabled REDIRECT_TO_POOL
    policies with at least one rule send traffic to it."""
    P = models.L7Policy
    has_rule = exists().where(models.L7Rule.l7policy_id == P.id)
    via_policy = select(P.listener_id).where(
        P.redirect_pool_id == pool_id, P.enabled.is_(True),
        P.action == c.L7POLICY_ACTION_REDIRECT_TO_POOL, has_rule,
    )
    return list(session.execute(
        select(models.Listener).where(
            or_(models.Listener.default_pool_id == pool_id, models.Listener.id.in_(via_policy))
        )
    ).scalars())


def lock_pool_tree(session: Session, pool: models.Pool) -> None:
    """Pool must be ACTIVE (409), then the LB test-and-set (409); the pool and the
    listeners using it go PENDING_UPDATE with the LB."""
    repo.require_active(pool, "pool")
    repo.lock_load_balancer(session, pool.load_balancer_id)
    # Re-read under the lock: the pool may have changed since it was first loaded.
    session.refresh(pool, ["provisioning_status"])
    repo.require_active(pool, "pool")
    repo.set_status(session, pool, c.PENDING_UPDATE)
    for listener in listeners_using_pool(session, pool.id):
        repo.set_status(session, listener, c.PENDING_UPDATE)


@dataclass
class BatchPlan:
    """What a batch PUT does: members to create, to update (with their spec), to delete,
    and the ones left alone (`additive_only`)."""

    create: list[MemberPOST] = field(default_factory=list)
    update: list[tuple[models.Member, MemberPOST]] = field(default_factory=list)
    delete: list[models.Member] = field(default_factory=list)
    keep: list[models.Member] = field(default_factory=list)

    @property
    def is_noop(self) -> bool:
        return not (self.create or self.update or self.delete)


def plan_batch(
    existing: Sequence[models.Member], specs: Sequence[MemberPOST], additive_only: bool
) -> BatchPlan:
    """Match request members to pool members by (address, protocol_port)."""
    by_key = {(m.ip_address, m.protocol_port): m for m in existing}
    plan = BatchPlan()
    seen: set[tuple[str, int]] = set()
    for spec in specs:
        key = (spec.address, spec.protocol_port)
        member = by_key.get(key)
        if member is None:
            plan.create.append(spec)
            continue
        if key in seen:
            raise exceptions.BadRequest(UPDATED_TWICE)
        seen.add(key)
        plan.update.append((member, spec))
    for key, member in by_key.items():
        if key not in seen:
            (plan.keep if additive_only else plan.delete).append(member)
    return plan


def apply_batch_update(session: Session, member: models.Member, spec: MemberPOST) -> None:
    """Fields with POST defaults revert to them when omitted; name, subnet and tags change
    only when sent; `request_sriov` is ignored for an existing member."""
    given = spec.given()
    member.weight = 1 if spec.weight is None else spec.weight
    member.backup = bool(spec.backup)
    member.enabled = bool(spec.admin_state_up)
    member.monitor_address = spec.monitor_address
    member.monitor_port = spec.monitor_port
    if "name" in given:
        member.name = spec.name
    if "subnet_id" in given:
        member.subnet_id = spec.subnet_id
    if "tags" in given:
        repo.set_tags(session, member.id, types.dedupe(spec.tags))
    repo.set_status(session, member, c.PENDING_UPDATE)
