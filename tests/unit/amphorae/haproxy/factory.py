"""Build ORM objects of octavia.db.models in memory (no database) for rendering tests."""

from __future__ import annotations

import uuid
from typing import Any

from octavia.db import models


def _id() -> str:
    return str(uuid.uuid4())


def load_balancer(*, vip: str = "127.0.0.10", **fields: Any) -> models.LoadBalancer:
    fields.setdefault("topology", "SINGLE")
    return models.LoadBalancer(
        id=fields.pop("id", _id()),
        vip_address=vip,
        additional_vips=fields.pop("additional_vips", []),
        enabled=True,
        provisioning_status="ACTIVE",
        operating_status="ONLINE",
        listeners=fields.pop("listeners", []),
        pools=fields.pop("pools", []),
        amphorae=fields.pop("amphorae", []),
        **fields,
    )


def listener(
    lb: models.LoadBalancer, *, protocol: str = "HTTP", port: int = 80, **fields: Any
) -> models.Listener:
    item = models.Listener(
        id=fields.pop("id", _id()),
        protocol=protocol,
        protocol_port=port,
        connection_limit=fields.pop("connection_limit", -1),
        enabled=fields.pop("enabled", True),
        insert_headers=fields.pop("insert_headers", {}),
        sni_container_refs=fields.pop("sni_container_refs", []),
        client_authentication=fields.pop("client_authentication", "NONE"),
        hsts_include_subdomains=fields.pop("hsts_include_subdomains", False),
        hsts_preload=fields.pop("hsts_preload", False),
        l7policies=fields.pop("l7policies", []),
        provisioning_status="ACTIVE",
        operating_status="ONLINE",
        **fields,
    )
    lb.listeners.append(item)
    return item


def pool(
    lb: models.LoadBalancer,
    *,
    protocol: str = "HTTP",
    algorithm: str = "ROUND_ROBIN",
    listener: models.Listener | None = None,
    **fields: Any,
) -> models.Pool:
    item = models.Pool(
        id=fields.pop("id", _id()),
        protocol=protocol,
        lb_algorithm=algorithm,
        enabled=fields.pop("enabled", True),
        tls_enabled=fields.pop("tls_enabled", False),
        members=fields.pop("members", []),
        provisioning_status="ACTIVE",
        operating_status="ONLINE",
        **fields,
    )
    lb.pools.append(item)
    if listener is not None:
        listener.default_pool = item
        listener.default_pool_id = item.id
    return item


def member(pool: models.Pool, address: str, port: int, **fields: Any) -> models.Member:
    item = models.Member(
        id=fields.pop("id", _id()),
        ip_address=address,
        protocol_port=port,
        weight=fields.pop("weight", 1),
        backup=fields.pop("backup", False),
        enabled=fields.pop("enabled", True),
        provisioning_status="ACTIVE",
        operating_status="ONLINE",
        **fields,
    )
    pool.members.append(item)
    return item


def health_monitor(pool: models.Pool, *, type: str = "HTTP", **fields: Any) -> models.HealthMonitor:  # noqa: A002
    item = models.HealthMonitor(
        id=fields.pop("id", _id()),
        type=type,
        delay=fields.pop("delay", 5),
        timeout=fields.pop("timeout", 3),
        rise_threshold=fields.pop("rise_threshold", 2),
        fall_threshold=fields.pop("fall_threshold", 3),
        enabled=fields.pop("enabled", True),
        provisioning_status="ACTIVE",
        operating_status="ONLINE",
        **fields,
    )
    pool.health_monitor = item
    return item


def l7policy(listener: models.Listener, action: str, *, position: int = 1, **fields: Any) -> models.L7Policy:
    item = models.L7Policy(
        id=fields.pop("id", _id()),
        action=action,
        position=position,
        enabled=fields.pop("enabled", True),
        rules=fields.pop("rules", []),
        provisioning_status="ACTIVE",
        operating_status="ONLINE",
        **fields,
    )
    listener.l7policies.append(item)
    return item


def l7rule(policy: models.L7Policy, type: str, compare_type: str, value: str, **fields: Any) -> models.L7Rule:  # noqa: A002
    item = models.L7Rule(
        id=fields.pop("id", _id()),
        type=type,
        compare_type=compare_type,
        value=value,
        invert=fields.pop("invert", False),
        enabled=fields.pop("enabled", True),
        provisioning_status="ACTIVE",
        operating_status="ONLINE",
        **fields,
    )
    policy.rules.append(item)
    return item


def amphora(lb: models.LoadBalancer, *, vrrp_ip: str | None = None, **fields: Any) -> models.Amphora:
    item = models.Amphora(id=fields.pop("id", _id()), status="ALLOCATED", vrrp_ip=vrrp_ip, **fields)
    lb.amphorae.append(item)
    return item
