"""ORM rows -> octavia-lib provider data models: the only shape providers ever see.

Field names follow octavia-lib (`admin_state_up`, member `address`, HM `max_retries`,
`loadbalancer_id`, ...). Certificate *data* fields (`*_container_data`) stay Unset: only
references are passed, and a provider that needs the material fetches it by reference.
Empty child lists are `[]` so drivers can iterate without checking for Unset.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from octavia_lib.api.drivers import data_models as dm
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from octavia.db import models

# Storage names that differ from octavia-lib's, per resource (everything else is 1:1).
_RENAMES: dict[str, dict[str, str]] = {
    "loadbalancer": {"id": "loadbalancer_id", "enabled": "admin_state_up"},
    "listener": {"id": "listener_id", "enabled": "admin_state_up", "load_balancer_id": "loadbalancer_id"},
    "pool": {"id": "pool_id", "enabled": "admin_state_up", "load_balancer_id": "loadbalancer_id"},
    "member": {"id": "member_id", "enabled": "admin_state_up", "ip_address": "address"},
    "healthmonitor": {
        "id": "healthmonitor_id",
        "enabled": "admin_state_up",
        "rise_threshold": "max_retries",
        "fall_threshold": "max_retries_down",
    },
    "l7policy": {"id": "l7policy_id", "enabled": "admin_state_up"},
    "l7rule": {"id": "l7rule_id", "enabled": "admin_state_up"},
}

_MODELS: dict[str, type[dm.BaseDataModel]] = {
    "loadbalancer": dm.LoadBalancer,
    "listener": dm.Listener,
    "pool": dm.Pool,
    "member": dm.Member,
    "healthmonitor": dm.HealthMonitor,
    "l7policy": dm.L7Policy,
    "l7rule": dm.L7Rule,
}

_FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(inspect.signature(cls).parameters) for name, cls in _MODELS.items()
}


def loadbalancer(
    lb: models.LoadBalancer,
    *,
    flavor: dict[str, Any] | None = None,
    availability_zone: dict[str, Any] | None = None,
) -> dm.LoadBalancer:
    """The whole tree of one load balancer.

    `flavor` / `availability_zone` are the profiles' metadata; when not given they are
    read through the row's session (left Unset when the LB has none).
    """
    session = object_session(lb)
    if flavor is None and lb.flavor_id and session is not None:
        flavor = flavor_metadata(session, lb.flavor_id)
    if availability_zone is None and lb.availability_zone and session is not None:
        availability_zone = availability_zone_metadata(session, lb.availability_zone)
    pool_listener = _first_listener_of_pools(lb.listeners)
    return dm.LoadBalancer(
        loadbalancer_id=lb.id,
        project_id=lb.project_id,
        name=lb.name,
        description=lb.description,
        admin_state_up=lb.enabled,
        vip_address=lb.vip_address,
        vip_network_id=lb.vip_network_id,
        vip_port_id=lb.vip_port_id,
        vip_subnet_id=lb.vip_subnet_id,
        vip_qos_policy_id=lb.vip_qos_policy_id,
        vip_sg_ids=list(lb.vip_sg_ids or []),
        additional_vips=[dict(v) for v in lb.additional_vips or []],
        flavor=dm.Unset if flavor is None else flavor,
        availability_zone=dm.Unset if availability_zone is None else availability_zone,
        listeners=[listener(x, pool_listener) for x in lb.listeners],
        pools=[pool(p, pool_listener.get(p.id)) for p in lb.pools],
    )


def listener(row: models.Listener, pool_listener: dict[str, str] | None = None) -> dm.Listener:
    default_pool: Any = dm.Unset
    if row.default_pool is not None:
        owner = (pool_listener or {}).get(row.default_pool.id, row.id)
        default_pool = pool(row.default_pool, owner)
    return dm.Listener(
        listener_id=row.id,
        loadbalancer_id=row.load_balancer_id,
        project_id=row.project_id,
        name=row.name,
        description=row.description,
        admin_state_up=row.enabled,
        protocol=row.protocol,
        protocol_port=row.protocol_port,
        connection_limit=row.connection_limit,
        default_pool_id=row.default_pool_id,
        default_pool=default_pool,
        default_tls_container_ref=row.default_tls_container_ref,
        sni_container_refs=list(row.sni_container_refs or []),
        client_ca_tls_container_ref=row.client_ca_tls_container_ref,
        client_authentication=row.client_authentication,
        client_crl_container_ref=row.client_crl_container_ref,
        insert_headers=dict(row.insert_headers or {}),
        timeout_client_data=row.timeout_client_data,
        timeout_member_connect=row.timeout_member_connect,
        timeout_member_data=row.timeout_member_data,
        timeout_tcp_inspect=row.timeout_tcp_inspect,
        allowed_cidrs=_copy_list(row.allowed_cidrs),
        tls_ciphers=row.tls_ciphers,
        tls_versions=_copy_list(row.tls_versions),
        alpn_protocols=_copy_list(row.alpn_protocols),
        hsts_max_age=row.hsts_max_age,
        hsts_include_subdomains=row.hsts_include_subdomains,
        hsts_preload=row.hsts_preload,
        l7policies=[l7policy(p) for p in row.l7policies],
    )


def pool(row: models.Pool, listener_id: str | None = None) -> dm.Pool:
    """`listener_id` is the listener using the pool as default pool (looked up if not given)."""
    if listener_id is None and row.load_balancer is not None:
        listener_id = _first_listener_of_pools(row.load_balancer.listeners).get(row.id)
    hm = row.health_monitor
    return dm.Pool(
        pool_id=row.id,
        loadbalancer_id=row.load_balancer_id,
        listener_id=listener_id,
        project_id=row.project_id,
        name=row.name,
        description=row.description,
        admin_state_up=row.enabled,
        protocol=row.protocol,
        lb_algorithm=row.lb_algorithm,
        session_persistence=dict(row.session_persistence) if row.session_persistence else None,
        tls_enabled=row.tls_enabled,
        tls_container_ref=row.tls_container_ref,
        ca_tls_container_ref=row.ca_tls_container_ref,
        crl_container_ref=row.crl_container_ref,
        tls_ciphers=row.tls_ciphers,
        tls_versions=_copy_list(row.tls_versions),
        alpn_protocols=_copy_list(row.alpn_protocols),
        healthmonitor=dm.Unset if hm is None else healthmonitor(hm),
        members=[member(m) for m in row.members],
    )


def member(row: models.Member) -> dm.Member:
    return dm.Member(
        member_id=row.id,
        pool_id=row.pool_id,
        project_id=row.project_id,
        name=row.name,
        address=row.ip_address,
        protocol_port=row.protocol_port,
        weight=row.weight,
        backup=row.backup,
        subnet_id=row.subnet_id,
        monitor_address=row.monitor_address,
        monitor_port=row.monitor_port,
        admin_state_up=row.enabled,
        vnic_type=row.vnic_type,
    )


def healthmonitor(row: models.HealthMonitor) -> dm.HealthMonitor:
    return dm.HealthMonitor(
        healthmonitor_id=row.id,
        pool_id=row.pool_id,
        project_id=row.project_id,
        name=row.name,
        type=row.type,
        delay=row.delay,
        timeout=row.timeout,
        max_retries=row.rise_threshold,
        max_retries_down=row.fall_threshold,
        http_method=row.http_method,
        url_path=row.url_path,
        expected_codes=row.expected_codes,
        http_version=row.http_version,
        domain_name=row.domain_name,
        admin_state_up=row.enabled,
    )


def l7policy(row: models.L7Policy) -> dm.L7Policy:
    return dm.L7Policy(
        l7policy_id=row.id,
        listener_id=row.listener_id,
        project_id=row.project_id,
        name=row.name,
        description=row.description,
        action=row.action,
        position=row.position,
        redirect_pool_id=row.redirect_pool_id,
        redirect_url=row.redirect_url,
        redirect_prefix=row.redirect_prefix,
        redirect_http_code=row.redirect_http_code,
        admin_state_up=row.enabled,
        rules=[l7rule(r) for r in row.rules],
    )


def l7rule(row: models.L7Rule) -> dm.L7Rule:
    return dm.L7Rule(
        l7rule_id=row.id,
        l7policy_id=row.l7policy_id,
        project_id=row.project_id,
        type=row.type,
        compare_type=row.compare_type,
        key=row.key,
        value=row.value,
        invert=row.invert,
        admin_state_up=row.enabled,
    )


def update_dict(resource: str, orm_obj: Any, changed: dict[str, Any]) -> dm.BaseDataModel:
    """The `new_*` argument of a `*_update` call: the object's id plus the changed fields.

    `changed` may use API names (`admin_state_up`, `address`, `max_retries`) or storage
    names (`enabled`, `ip_address`, `rise_threshold`); keys that are not provider fields
    (tags, statuses, flavor_id, ...) are dropped. Every other field stays Unset.
    """
    renames = _RENAMES[resource]
    fields = _FIELDS[resource]
    values: dict[str, Any] = {}
    for key, value in changed.items():
        name = renames.get(key, key)
        if name in fields:
            values[name] = value
    values[renames["id"]] = orm_obj.id
    return _MODELS[resource](**values)


def flavor_metadata(session: Session, flavor_id: str) -> dict[str, Any] | None:
    data = session.execute(
        select(models.FlavorProfile.flavor_data)
        .join(models.Flavor, models.Flavor.flavor_profile_id == models.FlavorProfile.id)
        .where(models.Flavor.id == flavor_id)
    ).scalar_one_or_none()
    return None if data is None else json.loads(data)


def availability_zone_metadata(session: Session, name: str) -> dict[str, Any] | None:
    AZP = models.AvailabilityZoneProfile
    data = session.execute(
        select(AZP.availability_zone_data)
        .join(models.AvailabilityZone, models.AvailabilityZone.availability_zone_profile_id == AZP.id)
        .where(models.AvailabilityZone.name == name)
    ).scalar_one_or_none()
    return None if data is None else json.loads(data)


def _first_listener_of_pools(listeners: list[models.Listener]) -> dict[str, str]:
    """pool id -> the first listener (by creation) that uses it as its default pool."""
    result: dict[str, str] = {}
    for row in sorted(listeners, key=lambda x: (x.created_at is None, x.created_at, x.id)):
        if row.default_pool_id and row.default_pool_id not in result:
            result[row.default_pool_id] = row.id
    return result


def _copy_list(value: list[Any] | None) -> list[Any] | None:
    return None if value is None else list(value)
