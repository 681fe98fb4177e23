"""Load balancer rules that need the database but not HTTP: provider/flavor/AZ resolution,
row creation, VIP allocation, updates and the status tree."""

from __future__ import annotations

import json
import logging
from typing import Any

from octavia_lib.api.drivers import exceptions as lib_exceptions
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from octavia.common import constants as c
from octavia.common import exceptions
from octavia.common.config import CONF
from octavia.db import models
from octavia.db import repositories as repo
from octavia.domain.pools import is_full_spec
from octavia.domain.scoping import scope_query
from octavia.network import loader as network_loader

LOG = logging.getLogger(__name__)

__all__ = ["scope_query", "resolve_provider", "new_load_balancer", "allocate_vip", "apply_update",
           "status_tree", "graph_quota_needs"]


def _json(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def resolve_provider(session: Session, spec: Any) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
    """The provider that will build this LB, plus the flavor's and AZ's metadata."""
    provider = spec.provider
    flavor_meta: dict[str, Any] | None = None
    if spec.flavor_id:
        flavor = session.get(models.Flavor, spec.flavor_id)
        if flavor is None or spec.flavor_id == c.NIL_UUID:
            raise exceptions.ValidationException(detail="Invalid flavor_id.")
        if not flavor.enabled:
            raise exceptions.DisabledOption(option="flavor", value=spec.flavor_id)
        profile = flavor.flavor_profile
        if provider and provider != profile.provider_name:
            raise exceptions.ValidationException(
                detail=f"Flavor '{spec.flavor_id}' is not compatible with provider '{provider}'"
            )
        provider = profile.provider_name
        flavor_meta = _json(profile.flavor_data)
    az_meta: dict[str, Any] | None = None
    if spec.availability_zone:
        az = session.get(models.AvailabilityZone, spec.availability_zone)
        if az is None:
            raise exceptions.ValidationException(detail="Invalid availability zone.")
        if not az.enabled:
            raise exceptions.DisabledOption(option="availability_zone", value=spec.availability_zone)
        az_meta = _json(az.availability_zone_profile.availability_zone_data)
    return provider or CONF.api_settings.default_provider_driver, flavor_meta, az_meta


def new_load_balancer(session: Session, spec: Any, project_id: str, provider: str,
                      vip_request: dict[str, Any], flavor_meta: dict[str, Any] | None) -> models.LoadBalancer:
    meta = flavor_meta or {}
    lb = models.LoadBalancer(
        id=models.new_id(),
        project_id=project_id,
        name=spec.name,
        description=spec.description,
        enabled=bool(spec.admin_state_up),
        provisioning_status=c.PENDING_CREATE,
        operating_status=c.OFFLINE,
        provider=provider,
        flavor_id=spec.flavor_id,
        availability_zone=spec.availability_zone,
        topology=meta.get("loadbalancer_topology") or CONF.controller_worker.loadbalancer_topology,
        vip_address=vip_request.get("vip_address"),
        vip_port_id=vip_request.get("vip_port_id"),
        vip_subnet_id=vip_request.get("vip_subnet_id"),
        vip_network_id=vip_request.get("vip_network_id"),
        vip_qos_policy_id=vip_request.get("vip_qos_policy_id"),
        vip_sg_ids=list(spec.vip_sg_ids or []),
        vip_vnic_type=c.VNIC_TYPE_DIRECT if meta.get("sriov_vip") else c.VNIC_TYPE_NORMAL,
        additional_vips=[v.model_dump() for v in (spec.additional_vips or [])],
    )
    session.add(lb)
    session.flush()
    return lb


def _vip_dict(lb: models.LoadBalancer) -> dict[str, Any]:
    return {
        "ip_address": lb.vip_address, "port_id": lb.vip_port_id, "subnet_id": lb.vip_subnet_id,
        "network_id": lb.vip_network_id, "qos_policy_id": lb.vip_qos_policy_id,
        "vnic_type": lb.vip_vnic_type, "sg_ids": lb.vip_sg_ids,
    }


def allocate_vip(session: Session, lb: models.LoadBalancer, driver: Any, provider: str, spec: Any) -> None:
    """Let the provider allocate the VIP port; fall back to the network driver, as upstream.

    Only an address the caller asked for can conflict (Neutron's 409); an address the
    driver picked is the driver's to keep unique (the noop driver hashes ids into a /24).
    """
    requested = lb.vip_address
    try:
        vip, additional = driver.create_vip_port(
            lb.id, lb.project_id, _vip_dict(lb), list(lb.additional_vips)
        )
    except (NotImplementedError, lib_exceptions.NotImplementedError):
        vip, additional = network_loader.get_driver().allocate_vip(lb)
    except lib_exceptions.DriverError as exc:
        raise exceptions.ProviderDriverError(prov=provider, user_msg=exc.user_fault_string) from exc
    vip = vip.to_dict() if hasattr(vip, "to_dict") else dict(vip or {})
    additional = [a.to_dict() if hasattr(a, "to_dict") else dict(a) for a in additional or []]
    lb.vip_address = vip.get("ip_address") or vip.get("vip_address") or lb.vip_address
    lb.vip_port_id = vip.get("port_id") or vip.get("vip_port_id") or lb.vip_port_id
    lb.vip_subnet_id = vip.get("subnet_id") or vip.get("vip_subnet_id") or lb.vip_subnet_id
    lb.vip_network_id = vip.get("network_id") or vip.get("vip_network_id") or lb.vip_network_id
    lb.vip_qos_policy_id = vip.get("qos_policy_id") or lb.vip_qos_policy_id
    if additional:
        lb.additional_vips = [
            {"subnet_id": a.get("subnet_id"), "ip_address": a.get("ip_address"), "port_id": a.get("port_id")}
            for a in additional
        ]
    if requested and session.execute(
        select(models.LoadBalancer.id).where(
            models.LoadBalancer.vip_address == lb.vip_address,
            models.LoadBalancer.vip_network_id == lb.vip_network_id,
            models.LoadBalancer.id != lb.id,
            models.LoadBalancer.provisioning_status != c.DELETED,
        )
    ).first():
        raise exceptions.Conflict(
            f"IP address {lb.vip_address} already allocated in subnet {lb.vip_subnet_id}."
        )


def apply_update(session: Session, lb: models.LoadBalancer, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if key == "admin_state_up":
            lb.enabled = bool(value)
        elif key == "tags":
            repo.set_tags(session, lb.id, value)
        elif key == "vip_sg_ids":
            lb.vip_sg_ids = list(value or [])
        elif key in ("name", "description", "vip_qos_policy_id"):
            setattr(lb, key, value)
    session.flush()


def _pools_of_listener(listener: models.Listener) -> list[models.Pool]:
    """Default pool first, then pools of enabled REDIRECT_TO_POOL policies that have rules."""
    pools: list[models.Pool] = []
    if listener.default_pool is not None:
        pools.append(listener.default_pool)
    for pol in listener.l7policies:
        if (pol.enabled and pol.action == c.L7POLICY_ACTION_REDIRECT_TO_POOL and pol.rules
                and pol.redirect_pool is not None and pol.redirect_pool not in pools):
            pools.append(pol.redirect_pool)
    return pools


def status_tree(session: Session, lb: models.LoadBalancer) -> dict[str, Any]:
    listeners = session.execute(
        select(models.Listener).where(models.Listener.load_balancer_id == lb.id)
        .order_by(models.Listener.created_at, models.Listener.id)
        .options(
            selectinload(models.Listener.l7policies).selectinload(models.L7Policy.rules),
        )
    ).scalars().all()
    # Load every pool of the LB once, with members and monitors, so the tree costs 5 queries.
    pools = session.execute(
        select(models.Pool).where(models.Pool.load_balancer_id == lb.id).options(
            selectinload(models.Pool.members), selectinload(models.Pool.health_monitor)
        )
    ).scalars().all()
    by_id = {p.id: p for p in pools}

    def pool_node(pool: models.Pool) -> dict[str, Any]:
        node: dict[str, Any] = {
            "id": pool.id, "name": pool.name or "", "provisioning_status": pool.provisioning_status,
            "operating_status": pool.operating_status,
        }
        hm = pool.health_monitor
        if hm is not None:
            node["health_monitor"] = {
                "id": hm.id, "name": hm.name or "", "type": hm.type,
                "provisioning_status": hm.provisioning_status, "operating_status": hm.operating_status,
            }
        node["members"] = [
            {"id": m.id, "name": m.name or "", "address": m.ip_address, "protocol_port": m.protocol_port,
             "provisioning_status": m.provisioning_status, "operating_status": m.operating_status}
            for m in sorted(pool.members, key=lambda m: (m.created_at, m.id))
        ]
        return node

    out = []
    for listener in listeners:
        pools_of = [by_id.get(p.id, p) for p in _pools_of_listener(listener)]
        out.append({
            "id": listener.id, "name": listener.name or "",
            "provisioning_status": listener.provisioning_status,
            "operating_status": listener.operating_status,
            "pools": [pool_node(p) for p in pools_of],
        })
    return {
        "id": lb.id, "name": lb.name or "", "provisioning_status": lb.provisioning_status,
        "operating_status": lb.operating_status, "listeners": out,
    }


def _graph_pools(listeners: list[dict[str, Any]], pools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every full pool specification of a fully populated create (references excluded)."""
    all_pools = list(pools)
    for listener in listeners:
        default = listener.get("default_pool")
        if isinstance(default, dict) and is_full_spec(default):
            all_pools.append(default)
        for pol in listener.get("l7policies") or []:
            redirect = pol.get("redirect_pool")
            if isinstance(redirect, dict) and is_full_spec(redirect):
                all_pools.append(redirect)
    return all_pools


def graph_quota_needs(listeners: list[dict[str, Any]], pools: list[dict[str, Any]]) -> dict[str, int]:
    """Counts a fully populated create adds (L7 policies/rules are not counted, as upstream)."""
    all_pools = _graph_pools(listeners, pools)
    return {
        "listener": len(listeners),
        "pool": len(all_pools),
        "health_monitor": sum(1 for p in all_pools if p.get("healthmonitor")),
        "member": sum(len(p.get("members") or []) for p in all_pools),
    }


def graph_member_subnets(listeners: list[dict[str, Any]], pools: list[dict[str, Any]]) -> set[str]:
    """Subnet ids named by nested members; they are checked before the write transaction."""
    return {
        str(m["subnet_id"])
        for p in _graph_pools(listeners, pools)
        for m in p.get("members") or []
        if isinstance(m, dict) and isinstance(m.get("subnet_id"), str)
    }
