"""One HAProxy frontend per enabled listener: binds, TLS, limits, timeouts, headers, ACLs."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from octavia.amphorae.haproxy import tls
from octavia.amphorae.haproxy.addresses import ip_literal, socket_address
from octavia.amphorae.haproxy.errors import ConfigRenderError
from octavia.amphorae.haproxy.l7 import POOL_CHOSEN_ACL, build_l7_rules
from octavia.amphorae.haproxy.quoting import config_word, require_name
from octavia.common import constants
from octavia.common.config import CONF
from octavia.db import models

HTTP_MODE_PROTOCOLS = (
    constants.PROTOCOL_HTTP,
    constants.PROTOCOL_TERMINATED_HTTPS,
    constants.PROTOCOL_PROMETHEUS,
)
# Protocols HAProxy serves; UDP and SCTP listeners belong to another data path.
HAPROXY_PROTOCOLS = HTTP_MODE_PROTOCOLS + (constants.PROTOCOL_TCP, constants.PROTOCOL_HTTPS)
# One `acl` line holds at most this many CIDRs (HAProxy caps a line at 64 words).
_CIDRS_PER_LINE = 32
# insert_headers key -> (header value as a log-format expression, needs a TLS listener)
_CLIENT_ADDRESS = "%[src]"
_HEADER_VALUES = {
    "X-Forwarded-Port": ("%[dst_port]", False),
    "X-Forwarded-IP": (_CLIENT_ADDRESS, False),
    "X-Client-IP": (_CLIENT_ADDRESS, False),
    "X-Real-IP": (_CLIENT_ADDRESS, False),
    "X-SSL-Client-Verify": ("%[ssl_c_verify]", True),
    "X-SSL-Client-Has-Cert": ("%[ssl_c_used]", True),
    "X-SSL-Client-DN": ("%[ssl_c_s_dn]", True),
    "X-SSL-Client-CN": ("%[ssl_c_s_dn(cn)]", True),
    "X-SSL-Issuer": ("%[ssl_c_i_dn]", True),
    "X-SSL-Client-SHA1": ("%[ssl_c_sha1,hex]", True),
    "X-SSL-Client-Not-Before": ("%[ssl_c_notbefore]", True),
    "X-SSL-Client-Not-After": ("%[ssl_c_notafter]", True),
}
_CLIENT_AUTH_VERIFY = {
    constants.CLIENT_AUTH_OPTIONAL: "optional",
    constants.CLIENT_AUTH_MANDATORY: "required",
}


@dataclass
class Frontend:
    name: str
    mode: str
    maxconn: int
    addresses: list[str]
    timeout_client_ms: int
    inspect_delay_ms: int
    idle_close_on_response: bool
    bind_options: list[str] = field(default_factory=list)
    cidr_lines: list[str] = field(default_factory=list)
    forward_for: bool = False
    set_headers: list[tuple[str, str]] = field(default_factory=list)
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    # "exporter", or "unavailable" when the binary lacks the service
    prometheus: str | None = None
    acls: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    use_backends: list[tuple[str, int]] = field(default_factory=list)
    default_backend: str | None = None
    # pools this listener routes to (default pool first), each once
    pools: list[models.Pool] = field(default_factory=list)


def vip_addresses(lb: models.LoadBalancer) -> list[str]:
    """The primary VIP then every additional VIP, each once."""
    found = [lb.vip_address] if lb.vip_address else []
    found += [vip["ip_address"] for vip in lb.additional_vips or () if vip.get("ip_address")]
    canonical = [ip_literal(address) for address in found]
    return list(dict.fromkeys(canonical))


def listener_maxconn(listener: models.Listener, cap: int) -> int:
    limit = listener.connection_limit
    if limit is None or limit < 0:
        limit = CONF.haproxy_amphora.default_connection_limit
    return max(1, min(limit, cap))


def build_frontend(
    listener: models.Listener,
    *,
    addresses: list[str],
    maxconn: int,
    cert_paths: tls.CertPaths,
    backend_name: Callable[[models.Pool], str],
    prometheus_available: bool,
    idle_close_on_response: bool,
) -> Frontend:
    protocol = listener.protocol
    mode = "http" if protocol in HTTP_MODE_PROTOCOLS else "tcp"
    defaults = CONF.haproxy_amphora
    frontend = Frontend(
        name=require_name("listener id", listener.id),
        mode=mode,
        maxconn=maxconn,
        addresses=[socket_address(address, listener.protocol_port) for address in addresses],
        timeout_client_ms=_ms(listener.timeout_client_data, defaults.timeout_client_data),
        inspect_delay_ms=_ms(listener.timeout_tcp_inspect, defaults.timeout_tcp_inspect),
        idle_close_on_response=mode == "http" and idle_close_on_response,
        cidr_lines=_cidr_lines(listener.allowed_cidrs),
    )
    if protocol == constants.PROTOCOL_TERMINATED_HTTPS:
        frontend.bind_options = _bind_tls_options(listener, cert_paths)
    if protocol == constants.PROTOCOL_PROMETHEUS:
        frontend.prometheus = "exporter" if prometheus_available else "unavailable"
        return frontend
    if mode == "http":
        _add_headers(frontend, listener)
        rules = build_l7_rules(list(listener.l7policies))
        if rules.pool_choices:
            frontend.acls.append(f"acl {POOL_CHOSEN_ACL} var(txn.l7_pool) -m found")
        frontend.acls += rules.acls
        frontend.actions = rules.actions
        frontend.use_backends = [(backend_name(pool), index) for index, pool in rules.pool_choices]
        frontend.pools = [pool for _, pool in rules.pool_choices]
    if listener.default_pool is not None:
        frontend.default_backend = backend_name(listener.default_pool)
        frontend.pools.insert(0, listener.default_pool)
    frontend.pools = list({pool.id: pool for pool in frontend.pools}.values())
    return frontend


def _ms(value: int | None, default: int) -> int:
    return int(default if value is None else value)


def _cidr_lines(cidrs: list[str] | None) -> list[str]:
    if not cidrs:
        return []
    try:
        networks = [ipaddress.ip_network(cidr, strict=False).compressed for cidr in cidrs]
    except ValueError as exc:
        raise ConfigRenderError(f"invalid allowed_cidrs entry: {exc}") from exc
    networks = list(dict.fromkeys(networks))
    return [
        " ".join(networks[start : start + _CIDRS_PER_LINE])
        for start in range(0, len(networks), _CIDRS_PER_LINE)
    ]


def _bind_tls_options(listener: models.Listener, cert_paths: tls.CertPaths) -> list[str]:
    """`ssl crt <default> crt <sni>...`: HAProxy serves the first certificate when no SNI matches."""
    if not listener.default_tls_container_ref:
        raise ConfigRenderError(f"TERMINATED_HTTPS listener {listener.id} has no default_tls_container_ref")
    refs = [listener.default_tls_container_ref, *(listener.sni_container_refs or ())]
    options = ["ssl"]
    for ref in dict.fromkeys(refs):
        options += ["crt", cert_paths.path("TLS container", ref)]
    verify = _CLIENT_AUTH_VERIFY.get(listener.client_authentication or constants.CLIENT_AUTH_NONE)
    if listener.client_ca_tls_container_ref:
        options += ["ca-file", cert_paths.path("client CA container", listener.client_ca_tls_container_ref)]
        options += ["verify", verify or "none"]
        if listener.client_crl_container_ref:
            options += [
                "crl-file",
                cert_paths.path("client CRL container", listener.client_crl_container_ref),
            ]
    elif verify:
        raise ConfigRenderError(f"client_authentication {listener.client_authentication} needs a client CA")
    options += tls.cipher_options(listener.tls_ciphers)
    options += tls.version_flags(listener.tls_versions)
    options += tls.alpn_options(listener.alpn_protocols)
    return options


def _add_headers(frontend: Frontend, listener: models.Listener) -> None:
    terminated = listener.protocol == constants.PROTOCOL_TERMINATED_HTTPS
    wanted = {name for name, value in (listener.insert_headers or {}).items() if str(value).lower() == "true"}
    frontend.forward_for = "X-Forwarded-For" in wanted
    if "X-Forwarded-Proto" in wanted:
        frontend.set_headers.append(("X-Forwarded-Proto", "https" if terminated else "http"))
    for name, (value, needs_tls) in _HEADER_VALUES.items():
        if name in wanted and (terminated or not needs_tls):
            frontend.set_headers.append((name, config_word(value)))
    if terminated and listener.hsts_max_age is not None:
        hsts = f"max-age={int(listener.hsts_max_age)}"
        if listener.hsts_include_subdomains:
            hsts += "; includeSubDomains"
        if listener.hsts_preload:
            hsts += "; preload"
        frontend.response_headers.append(("Strict-Transport-Security", config_word(hsts)))
