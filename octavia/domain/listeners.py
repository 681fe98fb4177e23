"""Listener rules that need no HTTP: protocol/TLS/header/HSTS/CIDR checks, defaults,
port uniqueness per L4 family, row creation, updates and statistics.

Create checks work on a plain dict of the request (API field names, schema defaults
applied), so the standalone POST and the fully populated LB create share them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from octavia.api.common import types
from octavia.common import constants as c
from octavia.common import exceptions
from octavia.common.config import CONF
from octavia.db import models
from octavia.db import repositories as repo
from octavia.domain import pools as pool_rules
from octavia.domain import tls

HTTP_HEADERS = (
    "X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto", "X-Forwarded-IP", "X-Client-IP",
    "X-Real-IP",
)
SSL_HEADERS = (
    "X-SSL-Client-Verify", "X-SSL-Client-Has-Cert", "X-SSL-Client-DN", "X-SSL-Client-CN",
    "X-SSL-Issuer", "X-SSL-Client-SHA1", "X-SSL-Client-Not-Before", "X-SSL-Client-Not-After",
)
HEADER_PROTOCOLS = (c.PROTOCOL_HTTP, c.PROTOCOL_TERMINATED_HTTPS)
NO_TLS_PROTOCOLS = (c.PROTOCOL_UDP, c.PROTOCOL_SCTP)
TIMEOUTS = ("timeout_client_data", "timeout_member_connect", "timeout_member_data", "timeout_tcp_inspect")
SERVER_REFS = ("default_tls_container_ref", "sni_container_refs")
ALL_REFS = (*SERVER_REFS, "client_ca_tls_container_ref")
CLIENT_AUTH_FIELDS = ("client_ca_tls_container_ref", "client_authentication", "client_crl_container_ref")
HSTS_FIELDS = ("hsts_max_age", "hsts_include_subdomains", "hsts_preload")
PROMETHEUS_CHILDREN = "Protocol PROMETHEUS listeners cannot have child objects."


def _fail(detail: str) -> exceptions.ValidationException:
    return exceptions.ValidationException(detail=detail)


def _has_refs(values: Mapping[str, Any]) -> bool:
    return any(values.get(k) for k in ALL_REFS)


def is_tls_offload(protocol: str, values: Mapping[str, Any]) -> bool:
    """TERMINATED_HTTPS always; PROMETHEUS when it carries a certificate."""
    return protocol == c.PROTOCOL_TERMINATED_HTTPS or (
        protocol == c.PROTOCOL_PROMETHEUS and _has_refs(values)
    )


def check_protocol_enabled(protocol: str) -> None:
    if protocol == c.PROTOCOL_TERMINATED_HTTPS and not CONF.api_settings.allow_tls_terminated_listeners:
        raise exceptions.DisabledOption(option="protocol", value=protocol)
    if protocol == c.PROTOCOL_PROMETHEUS and not CONF.api_settings.allow_prometheus_listeners:
        raise exceptions.DisabledOption(option="protocol", value=protocol)


def check_insert_headers(headers: Mapping[str, Any], protocol: str) -> None:
    if protocol not in HEADER_PROTOCOLS:
        raise exceptions.InvalidOption(value="insert-headers", option=f"a {protocol} protocol listener.")
    names = list(headers)
    if set(names) - set(HTTP_HEADERS + SSL_HEADERS):
        raise exceptions.InvalidOption(value=names, option="insert_headers")
    ssl = [n for n in names if n in SSL_HEADERS]
    if ssl and protocol != c.PROTOCOL_TERMINATED_HTTPS:
        raise exceptions.InvalidOption(value=ssl, option=f"{protocol} protocol listener.")


def lb_vips(lb: models.LoadBalancer) -> list[str]:
    vips = [lb.vip_address] if lb.vip_address else []
    vips.extend(v["ip_address"] for v in lb.additional_vips or [] if v.get("ip_address"))
    return vips


def check_allowed_cidrs(lb: models.LoadBalancer, cidrs: Sequence[str] | None) -> None:
    """Each CIDR's family must match some VIP; custom VIP security groups exclude CIDRs."""
    if not cidrs:
        return
    if lb.vip_sg_ids:
        raise _fail("Allowed CIDRs are not allowed when using custom VIP Security Groups.")
    vips = lb_vips(lb)
    families = {ipaddress.ip_address(v).version for v in vips}
    for cidr in cidrs:
        if ipaddress.ip_network(cidr, strict=False).version not in families:
            raise _fail(f"CIDR {cidr} IP version incompatible with all VIPs {vips} IP version.")


def normalise_cidrs(cidrs: Sequence[str] | None) -> list[str] | None:
    """Host bits masked, duplicates collapsed, empty means "allow all" (stored as null)."""
    if not cidrs:
        return None
    return list(dict.fromkeys(str(ipaddress.ip_network(x, strict=False)) for x in cidrs))


def check_client_auth(values: Mapping[str, Any]) -> None:
    """Client CA needs a server certificate; client auth and CRL need a client CA."""
    ca = values.get("client_ca_tls_container_ref")
    mode = values.get("client_authentication") or c.CLIENT_AUTH_NONE
    if mode != c.CLIENT_AUTH_NONE and not ca:
        raise _fail(f"Client authentication setting {mode} requires a client CA container reference.")
    if values.get("client_crl_container_ref") and not ca:
        raise _fail("A client authentication CA reference is required to specify a client "
                    "authentication revocation list.")


def check_create(lb: models.LoadBalancer, spec: Mapping[str, Any]) -> None:
    """Rules of a new listener that need no database look-up (all 400s)."""
    protocol = spec["protocol"]
    check_protocol_enabled(protocol)
    if protocol == c.PROTOCOL_PROMETHEUS and (
        spec.get("default_pool_id") or spec.get("default_pool") or spec.get("l7policies")
    ):
        raise _fail(PROMETHEUS_CHILDREN)
    headers = spec.get("insert_headers") or {}
    if headers:
        check_insert_headers(headers, protocol)
    if protocol in NO_TLS_PROTOCOLS and _has_refs(spec):
        raise _fail(f"{protocol} protocol listener does not support TLS.")
    offload = is_tls_offload(protocol, spec)
    if not offload and _has_refs(spec):
        raise _fail(f"Certificate container references are not allowed on {protocol} protocol listeners.")
    has_server_cert = spec.get("default_tls_container_ref") or spec.get("sni_container_refs")
    if spec.get("client_ca_tls_container_ref") and not has_server_cert:
        raise _fail("An SNI or default certificate container reference must be provided with a "
                    "client CA container reference.")
    if offload and not has_server_cert:
        raise _fail("An SNI or default certificate container reference must be provided for "
                    f"{protocol} protocol listeners.")
    check_client_auth(spec)
    tls.check_ciphers(spec.get("tls_ciphers"))
    if offload:
        tls.check_versions(spec.get("tls_versions"))
        tls.check_alpn(spec.get("alpn_protocols"))
    if (spec.get("hsts_include_subdomains") or spec.get("hsts_preload")) and spec.get("hsts_max_age") is None:
        raise _fail("HSTS configuration options hsts_include_subdomains and hsts_preload only make "
                    "sense if hsts_max_age is set as well.")
    if spec.get("hsts_max_age") is not None and protocol != c.PROTOCOL_TERMINATED_HTTPS:
        raise _hsts_protocol_error()
    check_allowed_cidrs(lb, spec.get("allowed_cidrs"))


def _hsts_protocol_error() -> exceptions.ValidationException:
    return _fail("The HSTS feature can only be used for listeners using the TERMINATED_HTTPS protocol.")


def check_certificates(values: Mapping[str, Any]) -> None:
    """Fetch every certificate the request names (done late: it is the costly check)."""
    # SNI first, then the default certificate: the order upstream reports bad refs in.
    sni = values.get("sni_container_refs") or []
    tls.check_server_refs([*sni, values.get("default_tls_container_ref")])
    ca = values.get("client_ca_tls_container_ref")
    if ca:
        tls.check_ca_and_crl(ca, values.get("client_crl_container_ref"))


def check_port_free(session: Session, lb_id: str, protocol: str, port: int) -> None:
    """One listener per port per L4 family on a load balancer (409)."""
    family = c.L4_FAMILY[protocol]
    used = session.execute(
        select(models.Listener.protocol).where(
            models.Listener.load_balancer_id == lb_id, models.Listener.protocol_port == port
        )
    ).scalars()
    for other in used:
        if c.L4_FAMILY.get(other) == family:
            raise exceptions.DuplicateListenerEntry(protocol=other, port=port)


def check_default_pool(session: Session, lb_id: str, pool_id: str, protocol: str) -> models.Pool:
    """The pool must be on the listener's LB (404) and fit its protocol (400)."""
    pool = session.get(models.Pool, pool_id)
    if pool is None or pool.load_balancer_id != lb_id:
        raise exceptions.NotFound("pool", pool_id)
    pool_rules.check_listener_protocol(protocol, pool.protocol)
    return pool


def new_listener(session: Session, lb: models.LoadBalancer, spec: Mapping[str, Any]) -> models.Listener:
    """The row of a validated create request: defaults from config, PENDING_CREATE/OFFLINE."""
    api, amp = CONF.api_settings, CONF.haproxy_amphora
    terminated = spec["protocol"] == c.PROTOCOL_TERMINATED_HTTPS

    def tls_default(key: str, default: Any) -> Any:
        value = spec.get(key)
        if value is None and terminated:
            return list(default) if isinstance(default, list) else default
        return value

    listener = models.Listener(
        id=models.new_id(),
        project_id=lb.project_id,
        load_balancer_id=lb.id,
        name=spec.get("name"),
        description=spec.get("description"),
        protocol=spec["protocol"],
        protocol_port=spec["protocol_port"],
        connection_limit=_or(spec.get("connection_limit"), -1),
        enabled=bool(spec.get("admin_state_up")),
        default_pool_id=spec.get("default_pool_id"),
        default_tls_container_ref=spec.get("default_tls_container_ref"),
        sni_container_refs=list(spec.get("sni_container_refs") or []),
        client_ca_tls_container_ref=spec.get("client_ca_tls_container_ref"),
        client_authentication=spec.get("client_authentication") or c.CLIENT_AUTH_NONE,
        client_crl_container_ref=spec.get("client_crl_container_ref"),
        insert_headers=dict(spec.get("insert_headers") or {}),
        allowed_cidrs=normalise_cidrs(spec.get("allowed_cidrs")),
        tls_ciphers=tls_default("tls_ciphers", api.default_listener_ciphers),
        tls_versions=tls_default("tls_versions", api.default_listener_tls_versions),
        alpn_protocols=tls_default("alpn_protocols", api.default_listener_alpn_protocols),
        hsts_max_age=spec.get("hsts_max_age"),
        hsts_include_subdomains=bool(spec.get("hsts_include_subdomains")),
        hsts_preload=bool(spec.get("hsts_preload")),
        provisioning_status=c.PENDING_CREATE,
        operating_status=c.OFFLINE,
        **{k: _or(spec.get(k), getattr(amp, k)) for k in TIMEOUTS},
    )
    session.add(listener)
    session.flush()
    repo.set_tags(session, listener.id, types.dedupe(spec.get("tags")) or [])
    return listener


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _merged(listener: models.Listener, changes: Mapping[str, Any], key: str) -> Any:
    return changes[key] if key in changes else getattr(listener, key)


def check_update(lb: models.LoadBalancer, listener: models.Listener, changes: Mapping[str, Any]) -> None:
    """Rules of a PUT judged against the stored listener (all 400s)."""
    protocol = listener.protocol
    if protocol in NO_TLS_PROTOCOLS and (_has_refs(changes) or changes.get("insert_headers")):
        raise _fail(f"{protocol} protocol listener does not support TLS or header insertion.")
    merged = {k: _merged(listener, changes, k) for k in (*ALL_REFS, *CLIENT_AUTH_FIELDS)}
    offload = is_tls_offload(protocol, merged)
    if not offload and _has_refs(changes):
        raise _fail(f"Certificate container references are not allowed on {protocol} protocol listeners.")
    if offload and not (merged["default_tls_container_ref"] or merged["sni_container_refs"]):
        raise _fail("An SNI or default certificate container reference must be provided for "
                    f"{protocol} protocol listeners.")
    if any(k in changes for k in CLIENT_AUTH_FIELDS):
        check_client_auth(merged)
    if changes.get("insert_headers"):
        check_insert_headers(changes["insert_headers"], protocol)
    if "allowed_cidrs" in changes:
        check_allowed_cidrs(lb, changes["allowed_cidrs"])
    tls.check_ciphers(changes.get("tls_ciphers"))
    if "tls_versions" in changes:
        tls.check_versions(changes["tls_versions"])
    if "alpn_protocols" in changes:
        tls.check_alpn(changes["alpn_protocols"])
    if protocol != c.PROTOCOL_TERMINATED_HTTPS and any(k in changes for k in HSTS_FIELDS):
        raise _hsts_protocol_error()
    if (changes.get("hsts_include_subdomains") or changes.get("hsts_preload")) and _merged(
        listener, changes, "hsts_max_age"
    ) is None:
        raise _fail("Cannot enable hsts_include_subdomains or hsts_preload if hsts_max_age was not "
                    "set as well.")
    if changes.get("default_pool_id") and protocol == c.PROTOCOL_PROMETHEUS:
        raise _fail(PROMETHEUS_CHILDREN)


def check_update_certificates(listener: models.Listener, changes: Mapping[str, Any]) -> None:
    """Fetch the certificates this PUT names; the client CA again when the CRL changes."""
    sni = changes.get("sni_container_refs") or []
    tls.check_server_refs([*sni, changes.get("default_tls_container_ref")])
    if "client_ca_tls_container_ref" in changes or "client_crl_container_ref" in changes:
        ca = _merged(listener, changes, "client_ca_tls_container_ref")
        if ca:
            tls.check_ca_and_crl(ca, _merged(listener, changes, "client_crl_container_ref"))


def apply_update(session: Session, listener: models.Listener, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Write a PUT; `null` resets a field to its default. Returns the values written."""
    api, amp = CONF.api_settings, CONF.haproxy_amphora
    resets: dict[str, Any] = {
        "connection_limit": -1,
        "client_authentication": c.CLIENT_AUTH_NONE,
        "tls_ciphers": api.default_listener_ciphers,
        "tls_versions": list(api.default_listener_tls_versions),
        "alpn_protocols": list(api.default_listener_alpn_protocols),
        "hsts_include_subdomains": False,
        "hsts_preload": False,
        **{k: getattr(amp, k) for k in TIMEOUTS},
    }
    written: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "tags":
            repo.set_tags(session, listener.id, types.dedupe(value))
            continue
        if key == "admin_state_up":
            listener.enabled = written[key] = bool(value)
            continue
        if value is None and key in resets:
            value = resets[key]
        elif key == "sni_container_refs":
            value = list(value or [])
        elif key == "insert_headers":
            value = dict(value or {})
        elif key == "allowed_cidrs":
            value = normalise_cidrs(value)
        setattr(listener, key, value)
        written[key] = value
    repo.set_status(session, listener, c.PENDING_UPDATE)
    session.flush()
    return written


def statistics(session: Session, listener_id: str) -> dict[str, int]:
    """Counters summed over every amphora that reported for the listener (zeros if none)."""
    S = models.ListenerStatistics
    keys = ("bytes_in", "bytes_out", "active_connections", "total_connections", "request_errors")
    row = session.execute(
        select(*[func.coalesce(func.sum(getattr(S, k)), 0) for k in keys]).where(S.listener_id == listener_id)
    ).one()
    return {k: int(v) for k, v in zip(keys, row, strict=True)}
