"""SQLAlchemy models: one table per resource, column names close to the API's.

The API field names map to columns 1:1 except where noted in `octavia.api.common.views`
(e.g. `admin_state_up` -> `enabled`). JSON columns hold small lists/maps that are
always read with their owner and never queried on.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# MySQL's DATETIME drops the fraction of a second unless asked to keep it; lists are
# ordered (and paged) on created_at, so rows made within one second must stay apart.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class TimestampMixin:
    created_at: Mapped[datetime.datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(Timestamp, onupdate=utcnow)


class StatusMixin:
    provisioning_status: Mapped[str] = mapped_column(String(16))
    operating_status: Mapped[str] = mapped_column(String(16))


class Tag(Base):
    """One tag of one object; resource ids are UUIDs so they never collide across tables."""

    __tablename__ = "tags"
    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True)
    __table_args__ = (Index("ix_tags_tag", "tag"),)


class LoadBalancer(TimestampMixin, StatusMixin, Base):
    __tablename__ = "load_balancer"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_id: Mapped[str | None] = mapped_column(String(36), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    topology: Mapped[str | None] = mapped_column(String(36))
    server_group_id: Mapped[str | None] = mapped_column(String(36))
    provider: Mapped[str | None] = mapped_column(String(64))
    flavor_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("flavor.id"))
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    vip_address: Mapped[str | None] = mapped_column(String(64))
    vip_port_id: Mapped[str | None] = mapped_column(String(36))
    vip_subnet_id: Mapped[str | None] = mapped_column(String(36))
    vip_network_id: Mapped[str | None] = mapped_column(String(36))
    vip_qos_policy_id: Mapped[str | None] = mapped_column(String(36))
    vip_vnic_type: Mapped[str] = mapped_column(String(64), default="normal")
    vip_sg_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    additional_vips: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    listeners: Mapped[list[Listener]] = relationship(
        back_populates="load_balancer", cascade="all, delete-orphan", passive_deletes=True
    )
    pools: Mapped[list[Pool]] = relationship(
        back_populates="load_balancer", cascade="all, delete-orphan", passive_deletes=True
    )
    amphorae: Mapped[list[Amphora]] = relationship(back_populates="load_balancer")
    __table_args__ = (Index("ix_lb_created", "created_at", "id"),)


class Listener(TimestampMixin, StatusMixin, Base):
    __tablename__ = "listener"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_id: Mapped[str | None] = mapped_column(String(36), index=True)
    load_balancer_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("load_balancer.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    protocol: Mapped[str] = mapped_column(String(16))
    protocol_port: Mapped[int] = mapped_column(Integer)
    connection_limit: Mapped[int] = mapped_column(Integer, default=-1)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    default_pool_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("pool.id", ondelete="SET NULL", use_alter=True), index=True
    )
    default_tls_container_ref: Mapped[str | None] = mapped_column(String(255))
    sni_container_refs: Mapped[list[str]] = mapped_column(JSON, default=list)
    client_ca_tls_container_ref: Mapped[str | None] = mapped_column(String(255))
    client_authentication: Mapped[str] = mapped_column(String(10), default="NONE")
    client_crl_container_ref: Mapped[str | None] = mapped_column(String(255))
    insert_headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timeout_client_data: Mapped[int | None] = mapped_column(Integer)
    timeout_member_connect: Mapped[int | None] = mapped_column(Integer)
    timeout_member_data: Mapped[int | None] = mapped_column(Integer)
    timeout_tcp_inspect: Mapped[int | None] = mapped_column(Integer)
    allowed_cidrs: Mapped[list[str] | None] = mapped_column(JSON)
    tls_ciphers: Mapped[str | None] = mapped_column(String(2048))
    tls_versions: Mapped[list[str] | None] = mapped_column(JSON)
    alpn_protocols: Mapped[list[str] | None] = mapped_column(JSON)
    hsts_max_age: Mapped[int | None] = mapped_column(Integer)
    hsts_include_subdomains: Mapped[bool] = mapped_column(Boolean, default=False)
    hsts_preload: Mapped[bool] = mapped_column(Boolean, default=False)

    load_balancer: Mapped[LoadBalancer] = relationship(back_populates="listeners")
    default_pool: Mapped[Pool | None] = relationship(foreign_keys=[default_pool_id])
    l7policies: Mapped[list[L7Policy]] = relationship(
        back_populates="listener",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="L7Policy.position",
    )
    __table_args__ = (Index("ix_listener_created", "created_at", "id"),)


class Pool(TimestampMixin, StatusMixin, Base):
    __tablename__ = "pool"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_id: Mapped[str | None] = mapped_column(String(36), index=True)
    load_balancer_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("load_balancer.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    protocol: Mapped[str] = mapped_column(String(16))
    lb_algorithm: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    session_persistence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    tls_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    tls_container_ref: Mapped[str | None] = mapped_column(String(255))
    ca_tls_container_ref: Mapped[str | None] = mapped_column(String(255))
    crl_container_ref: Mapped[str | None] = mapped_column(String(255))
    tls_ciphers: Mapped[str | None] = mapped_column(String(2048))
    tls_versions: Mapped[list[str] | None] = mapped_column(JSON)
    alpn_protocols: Mapped[list[str] | None] = mapped_column(JSON)

    load_balancer: Mapped[LoadBalancer] = relationship(back_populates="pools")
    members: Mapped[list[Member]] = relationship(
        back_populates="pool", cascade="all, delete-orphan", passive_deletes=True
    )
    health_monitor: Mapped[HealthMonitor | None] = relationship(
        back_populates="pool", cascade="all, delete-orphan", passive_deletes=True, uselist=False
    )
    __table_args__ = (Index("ix_pool_created", "created_at", "id"),)


class Member(TimestampMixin, StatusMixin, Base):
    __tablename__ = "member"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_id: Mapped[str | None] = mapped_column(String(36), index=True)
    pool_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("pool.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(255))
    ip_address: Mapped[str] = mapped_column(String(64))
    protocol_port: Mapped[int] = mapped_column(Integer)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    backup: Mapped[bool] = mapped_column(Boolean, default=False)
    subnet_id: Mapped[str | None] = mapped_column(String(36))
    monitor_address: Mapped[str | None] = mapped_column(String(64))
    monitor_port: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    vnic_type: Mapped[str] = mapped_column(String(64), default="normal")

    pool: Mapped[Pool] = relationship(back_populates="members")
    __table_args__ = (
        UniqueConstraint("pool_id", "ip_address", "protocol_port", name="uq_member_address_port"),
        Index("ix_member_created", "created_at", "id"),
    )


class HealthMonitor(TimestampMixin, StatusMixin, Base):
    __tablename__ = "health_monitor"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_id: Mapped[str | None] = mapped_column(String(36), index=True)
    pool_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("pool.id", ondelete="CASCADE"), unique=True
    )
    name: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(36))
    delay: Mapped[int] = mapped_column(Integer)
    timeout: Mapped[int] = mapped_column(Integer)
    rise_threshold: Mapped[int] = mapped_column(Integer)  # API: max_retries
    fall_threshold: Mapped[int] = mapped_column(Integer)  # API: max_retries_down
    http_method: Mapped[str | None] = mapped_column(String(16))
    url_path: Mapped[str | None] = mapped_column(String(2048))
    expected_codes: Mapped[str | None] = mapped_column(String(64))
    http_version: Mapped[float | None] = mapped_column(Float)
    domain_name: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)

    pool: Mapped[Pool] = relationship(back_populates="health_monitor")
    __table_args__ = (Index("ix_hm_created", "created_at", "id"),)


class L7Policy(TimestampMixin, StatusMixin, Base):
    __tablename__ = "l7policy"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_id: Mapped[str | None] = mapped_column(String(36), index=True)
    listener_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("listener.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(36))
    redirect_pool_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("pool.id"), index=True
    )
    redirect_url: Mapped[str | None] = mapped_column(String(2048))
    redirect_prefix: Mapped[str | None] = mapped_column(String(2048))
    redirect_http_code: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)

    listener: Mapped[Listener] = relationship(back_populates="l7policies")
    redirect_pool: Mapped[Pool | None] = relationship(foreign_keys=[redirect_pool_id])
    rules: Mapped[list[L7Rule]] = relationship(
        back_populates="l7policy", cascade="all, delete-orphan", passive_deletes=True
    )
    __table_args__ = (Index("ix_l7policy_created", "created_at", "id"),)


class L7Rule(TimestampMixin, StatusMixin, Base):
    __tablename__ = "l7rule"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_id: Mapped[str | None] = mapped_column(String(36), index=True)
    l7policy_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("l7policy.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(36))
    compare_type: Mapped[str] = mapped_column(String(36))
    key: Mapped[str | None] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))
    invert: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)

    l7policy: Mapped[L7Policy] = relationship(back_populates="rules")
    __table_args__ = (Index("ix_l7rule_created", "created_at", "id"),)


class Quota(Base):
    """Per-project limits; a null column means "use the configured default"."""

    __tablename__ = "quotas"
    project_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    load_balancer: Mapped[int | None] = mapped_column(Integer)
    listener: Mapped[int | None] = mapped_column(Integer)
    pool: Mapped[int | None] = mapped_column(Integer)
    health_monitor: Mapped[int | None] = mapped_column(Integer)
    member: Mapped[int | None] = mapped_column(Integer)
    l7policy: Mapped[int | None] = mapped_column(Integer)
    l7rule: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime.datetime] = mapped_column(Timestamp, default=utcnow)


class FlavorProfile(Base):
    __tablename__ = "flavor_profile"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    provider_name: Mapped[str] = mapped_column(String(255))
    flavor_data: Mapped[str] = mapped_column(String(4096))
    created_at: Mapped[datetime.datetime] = mapped_column(Timestamp, default=utcnow)


class Flavor(Base):
    __tablename__ = "flavor"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    flavor_profile_id: Mapped[str] = mapped_column(String(36), ForeignKey("flavor_profile.id"))
    created_at: Mapped[datetime.datetime] = mapped_column(Timestamp, default=utcnow)

    flavor_profile: Mapped[FlavorProfile] = relationship()


class AvailabilityZoneProfile(Base):
    __tablename__ = "availability_zone_profile"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    provider_name: Mapped[str] = mapped_column(String(255))
    availability_zone_data: Mapped[str] = mapped_column(String(4096))
    created_at: Mapped[datetime.datetime] = mapped_column(Timestamp, default=utcnow)


class AvailabilityZone(Base):
    __tablename__ = "availability_zone"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    availability_zone_profile_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("availability_zone_profile.id")
    )
    created_at: Mapped[datetime.datetime] = mapped_column(Timestamp, default=utcnow)

    availability_zone_profile: Mapped[AvailabilityZoneProfile] = relationship()


class Amphora(TimestampMixin, Base):
    __tablename__ = "amphora"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    compute_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(36), index=True)
    load_balancer_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("load_balancer.id"), index=True
    )
    lb_network_ip: Mapped[str | None] = mapped_column(String(64))
    vrrp_ip: Mapped[str | None] = mapped_column(String(64))
    ha_ip: Mapped[str | None] = mapped_column(String(64))
    vrrp_port_id: Mapped[str | None] = mapped_column(String(36))
    ha_port_id: Mapped[str | None] = mapped_column(String(36))
    role: Mapped[str | None] = mapped_column(String(36))
    cert_expiration: Mapped[datetime.datetime | None] = mapped_column(Timestamp)
    cert_busy: Mapped[bool] = mapped_column(Boolean, default=False)
    vrrp_interface: Mapped[str | None] = mapped_column(String(16))
    vrrp_id: Mapped[int | None] = mapped_column(Integer)
    vrrp_priority: Mapped[int | None] = mapped_column(Integer)
    cached_zone: Mapped[str | None] = mapped_column(String(255))
    image_id: Mapped[str | None] = mapped_column(String(36))
    compute_flavor: Mapped[str | None] = mapped_column(String(255))

    load_balancer: Mapped[LoadBalancer | None] = relationship(back_populates="amphorae")
    __table_args__ = (Index("ix_amphora_created", "created_at", "id"),)


class AmphoraHealth(Base):
    """Last heartbeat of an amphora; `busy` marks one that a health manager is failing over."""

    __tablename__ = "amphora_health"
    amphora_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_update: Mapped[datetime.datetime] = mapped_column(Timestamp, index=True)
    busy: Mapped[bool] = mapped_column(Boolean, default=False)


class ListenerStatistics(Base):
    """Counters per listener per amphora, as last reported by that amphora."""

    __tablename__ = "listener_statistics"
    listener_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    amphora_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    bytes_in: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_out: Mapped[int] = mapped_column(BigInteger, default=0)
    active_connections: Mapped[int] = mapped_column(BigInteger, default=0)
    total_connections: Mapped[int] = mapped_column(BigInteger, default=0)
    request_errors: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(Timestamp, onupdate=utcnow)


class LocalNetwork(Base):
    """A network of the local network driver (what Neutron would hold in a cloud)."""

    __tablename__ = "local_network"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255), default="")
    project_id: Mapped[str | None] = mapped_column(String(36))
    bridge: Mapped[str | None] = mapped_column(String(15))
    subnets: Mapped[list[LocalSubnet]] = relationship(
        back_populates="network", cascade="all, delete-orphan"
    )


class LocalSubnet(Base):
    __tablename__ = "local_subnet"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    network_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("local_network.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255), default="")
    project_id: Mapped[str | None] = mapped_column(String(36))
    cidr: Mapped[str] = mapped_column(String(64))
    ip_version: Mapped[int] = mapped_column(Integer)
    gateway_ip: Mapped[str | None] = mapped_column(String(64))
    network: Mapped[LocalNetwork] = relationship(back_populates="subnets")


class LocalPort(Base):
    __tablename__ = "local_port"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    network_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("local_network.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255), default="")
    project_id: Mapped[str | None] = mapped_column(String(36))
    device_id: Mapped[str] = mapped_column(String(255), default="")
    device_owner: Mapped[str] = mapped_column(String(255), default="")
    mac_address: Mapped[str | None] = mapped_column(String(32))
    fixed_ips: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    qos_policy_id: Mapped[str | None] = mapped_column(String(36))
    security_group_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime.datetime] = mapped_column(Timestamp, default=utcnow)


# MySQL compares and sorts text case-insensitively by default ('A' = 'a', 'a.b' < '^/c'); on
# SQLite and PostgreSQL (C collation) filters, sort orders and unique names work byte for
# byte, and so they do on MySQL with a binary collation.
for _table in Base.metadata.tables.values():
    _table.kwargs.update(mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin")
