"""The response bodies of the v2 resources, for the OpenAPI document only.

Each model mirrors one `to_dict` of a resource module (same attribute names, types and
nullability); the routes never pass their output through these models. Unknown
attributes are forbidden so the document (and the fuzz tests reading it) catch a view
that grows an undocumented attribute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from octavia.api.common.openapi import Resource, envelope, filter_schema, partial

Provisioning = Literal["ACTIVE", "PENDING_CREATE", "PENDING_UPDATE", "PENDING_DELETE", "DELETED", "ERROR"]
Operating = Literal["ONLINE", "OFFLINE", "DEGRADED", "ERROR", "DRAINING", "NO_MONITOR"]


class View(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdRef(View):
    id: str


class Nested(BaseModel):
    """An id reference, or the full nested object of a fully populated LB create."""

    model_config = ConfigDict(extra="allow")

    id: str


class Owned(View):
    """Attributes every project-owned object of the LB tree has."""

    id: str
    project_id: str
    tenant_id: str
    provisioning_status: Provisioning
    operating_status: Operating
    admin_state_up: bool
    created_at: str | None
    updated_at: str | None
    tags: list[str]


class LoadBalancer(Owned):
    name: str
    description: str
    vip_address: str | None
    vip_port_id: str | None
    vip_subnet_id: str | None
    vip_network_id: str | None
    vip_qos_policy_id: str | None
    vip_sg_ids: list[str]
    vip_vnic_type: str
    additional_vips: list[dict[str, Any]]
    listeners: list[Nested]
    pools: list[Nested]
    provider: str
    flavor_id: str | None
    availability_zone: str | None


class Listener(Owned):
    name: str
    description: str
    protocol: str
    protocol_port: int
    connection_limit: int
    default_tls_container_ref: str | None
    sni_container_refs: list[str]
    default_pool_id: str | None
    l7policies: list[IdRef]
    insert_headers: dict[str, Any]
    loadbalancers: list[IdRef]
    timeout_client_data: int | None
    timeout_member_connect: int | None
    timeout_member_data: int | None
    timeout_tcp_inspect: int | None
    client_ca_tls_container_ref: str | None
    client_authentication: str
    client_crl_container_ref: str | None
    allowed_cidrs: list[str] | None
    tls_ciphers: str | None
    tls_versions: list[str] | None
    alpn_protocols: list[str] | None
    hsts_max_age: int | None
    hsts_include_subdomains: bool
    hsts_preload: bool


class Pool(Owned):
    name: str
    description: str
    protocol: str
    lb_algorithm: str
    session_persistence: dict[str, Any] | None
    loadbalancers: list[IdRef]
    listeners: list[IdRef]
    healthmonitor_id: str | None
    members: list[IdRef]
    tls_container_ref: str | None
    ca_tls_container_ref: str | None
    crl_container_ref: str | None
    tls_enabled: bool
    tls_ciphers: str | None
    tls_versions: list[str] | None
    alpn_protocols: list[str] | None


class Member(Owned):
    name: str
    address: str
    protocol_port: int
    weight: int
    backup: bool
    subnet_id: str | None
    monitor_address: str | None
    monitor_port: int | None
    vnic_type: str


class HealthMonitor(Owned):
    name: str
    type: str
    delay: int
    timeout: int
    max_retries: int
    max_retries_down: int
    http_method: str | None
    url_path: str | None
    expected_codes: str | None
    pools: list[IdRef]
    http_version: float | None
    domain_name: str | None


class L7Policy(Owned):
    name: str
    description: str
    action: str
    listener_id: str
    redirect_pool_id: str | None
    redirect_url: str | None
    redirect_prefix: str | None
    position: int
    rules: list[IdRef]
    redirect_http_code: int | None


class L7Rule(Owned):
    type: str
    compare_type: str
    key: str | None
    value: str
    invert: bool


class Stats(View):
    bytes_in: int
    bytes_out: int
    active_connections: int
    total_connections: int
    request_errors: int


class AmphoraStats(Stats):
    id: str
    loadbalancer_id: str | None
    listener_id: str


class MemberStatus(View):
    id: str
    name: str
    address: str
    protocol_port: int
    provisioning_status: Provisioning
    operating_status: Operating


class HealthMonitorStatus(View):
    id: str
    name: str
    type: str
    provisioning_status: Provisioning
    operating_status: Operating


class PoolStatus(View):
    id: str
    name: str
    provisioning_status: Provisioning
    operating_status: Operating
    health_monitor: HealthMonitorStatus | None = None
    members: list[MemberStatus]


class ListenerStatus(View):
    id: str
    name: str
    provisioning_status: Provisioning
    operating_status: Operating
    pools: list[PoolStatus]


class LoadBalancerStatus(View):
    id: str
    name: str
    provisioning_status: Provisioning
    operating_status: Operating
    listeners: list[ListenerStatus]


class StatusTree(View):
    loadbalancer: LoadBalancerStatus


class Quota(View):
    project_id: str
    tenant_id: str
    loadbalancer: int | None
    load_balancer: int | None
    listener: int | None
    pool: int | None
    member: int | None
    healthmonitor: int | None
    health_monitor: int | None
    l7policy: int | None
    l7rule: int | None


class Named(View):
    """A provider, or one metadata key a provider supports."""

    name: str
    description: str


class Flavor(View):
    id: str
    name: str
    description: str
    enabled: bool
    flavor_profile_id: str


class FlavorProfile(View):
    id: str
    name: str
    provider_name: str
    flavor_data: str


class AvailabilityZone(View):
    name: str
    description: str
    enabled: bool
    availability_zone_profile_id: str


class AvailabilityZoneProfile(View):
    id: str
    name: str
    provider_name: str
    availability_zone_data: str


class Amphora(View):
    id: str
    loadbalancer_id: str | None
    compute_id: str | None
    lb_network_ip: str | None
    vrrp_ip: str | None
    ha_ip: str | None
    vrrp_port_id: str | None
    ha_port_id: str | None
    cert_expiration: str | None
    cert_busy: bool
    role: str | None
    status: str
    vrrp_interface: str | None
    vrrp_id: int | None
    vrrp_priority: int | None
    cached_zone: str | None
    created_at: str | None
    updated_at: str | None
    image_id: str | None
    compute_flavor: str | None


def resource(key: str, view: type[BaseModel], collection: str, columns: Mapping[str, Any],
             links: str | None = None, extra_filters: Iterable[str] = ()) -> Resource:
    """A Resource whose list links key is `<collection>_links` unless told otherwise.

    `columns` is the module's COLUMNS map (API name -> ORM attribute): its names are the
    list filters, typed after their columns.
    """
    filters = [(name, filter_schema(col)) for name, col in columns.items()]
    filters += [(name, filter_schema(None)) for name in extra_filters]
    return Resource(key, view, collection, links or f"{collection}_links", tuple(filters))


STATS_BODY = envelope("StatsBody", {"stats": Stats})
STATUS_BODY = envelope("StatusBody", {"statuses": StatusTree})
AMPHORA_STATS_BODY = envelope("AmphoraStatsBody", {"amphora_stats": list[AmphoraStats]})


def named_list(key: str) -> type[BaseModel]:
    """Providers and their capabilities: plain lists of {name, description}, no links."""
    return envelope(
        key.title().replace("_", "") + "List",
        {key: list[partial(Named)]},  # type: ignore[misc]  # a list of a model built at run time
    )


class VersionLink(View):
    href: str
    rel: Literal["self"]


class Version(View):
    id: str
    status: Literal["CURRENT", "SUPPORTED"]
    updated: str
    links: list[VersionLink]


VERSIONS_BODY = envelope("VersionsBody", {"versions": list[Version]})
