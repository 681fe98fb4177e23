"""One HAProxy backend per (pool, listener): algorithm, persistence, health checks, servers.

A backend belongs to one listener because the listener's `timeout_member_*` fields and
mode (http or tcp) apply to it; it is named `<pool id>:<listener id>` and its servers
are named by member id, as upstream names them, so stats map back to the API objects.

PING monitors: HAProxy cannot send ICMP itself. Like upstream, they run an external
check (`icmp_check.py`, one ICMP echo per check), which needs `insecure-fork-wanted`
in the global section: that is rendered only when a PING monitor exists. The caveats
are upstream's: a reply only proves the host is up, not that the service on the member
port works; `monitor_address`/`monitor_port` are not used (HAProxy hands the external
check the server address); hosts or networks that drop ICMP read as down; and each
check forks a process, so TCP or HTTP monitors are the better choice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from octavia.amphorae.haproxy import tls
from octavia.amphorae.haproxy.addresses import ip_literal, socket_address
from octavia.amphorae.haproxy.errors import ConfigRenderError
from octavia.amphorae.haproxy.quoting import (
    config_word,
    fetch_with_name,
    log_format_word,
    require_name,
    require_printable,
)
from octavia.common import constants
from octavia.common.config import CONF
from octavia.db import models

_BALANCE = {
    constants.LB_ALGORITHM_ROUND_ROBIN: "roundrobin",
    constants.LB_ALGORITHM_LEAST_CONNECTIONS: "leastconn",
    constants.LB_ALGORITHM_SOURCE_IP: "source",
    # client address and port, concatenated by a sample expression (HAProxy >= 2.6)
    constants.LB_ALGORITHM_SOURCE_IP_PORT: "hash src,concat(:,txn.src_port)",
}
HAPROXY_CHECK_TYPES = (
    constants.HEALTH_MONITOR_HTTP,
    constants.HEALTH_MONITOR_HTTPS,
    constants.HEALTH_MONITOR_TCP,
    constants.HEALTH_MONITOR_TLS_HELLO,
    constants.HEALTH_MONITOR_PING,
)
STICK_TABLE_SIZE = "10k"
# Sent by the PING check script's path; HAProxy starts it with a clean environment.
ICMP_CHECK_COMMAND = str(Path(__file__).with_name("icmp_check.py"))
_EXPECTED_CODES = re.compile(r"[1-5]\d\d(-[1-5]\d\d)?(,[1-5]\d\d(-[1-5]\d\d)?)*")
_HTTP_VERSIONS = {1.0: "HTTP/1.0", 1.1: "HTTP/1.1"}


@dataclass
class Server:
    name: str
    address: str
    options: list[str]


@dataclass
class Backend:
    name: str
    mode: str
    disabled: bool
    balance: str
    timeout_connect_ms: int
    timeout_server_ms: int
    timeout_check_s: int | None = None
    # SOURCE_IP_PORT: the client port is stored in a variable the hash then reads
    hashes_source_port: bool = False
    # PING: HAProxy forks the ICMP check script
    external_check: bool = False
    persistence: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    servers: list[Server] = field(default_factory=list)


def backend_name(pool: models.Pool, listener: models.Listener) -> str:
    return f"{require_name('pool id', pool.id)}:{require_name('listener id', listener.id)}"


def build_backend(
    pool: models.Pool,
    listener: models.Listener,
    *,
    mode: str,
    cert_paths: tls.CertPaths,
    peers: str | None,
) -> Backend:
    balance = _BALANCE.get(pool.lb_algorithm)
    if balance is None:
        raise ConfigRenderError(f"lb_algorithm {pool.lb_algorithm!r} is not supported by HAProxy")
    defaults = CONF.haproxy_amphora
    connect = listener.timeout_member_connect
    data = listener.timeout_member_data
    backend = Backend(
        name=backend_name(pool, listener),
        mode=mode,
        disabled=not pool.enabled,
        balance=balance,
        timeout_connect_ms=int(defaults.timeout_member_connect if connect is None else connect),
        timeout_server_ms=int(defaults.timeout_member_data if data is None else data),
        hashes_source_port=pool.lb_algorithm == constants.LB_ALGORITHM_SOURCE_IP_PORT,
    )
    backend.persistence = _persistence(pool.session_persistence, mode, peers)
    monitor = pool.health_monitor
    if monitor is not None and not (monitor.enabled and monitor.type in HAPROXY_CHECK_TYPES):
        monitor = None
    if monitor is not None:
        backend.timeout_check_s = int(monitor.timeout)
        backend.checks = _check_directives(monitor)
        backend.external_check = monitor.type == constants.HEALTH_MONITOR_PING
    cookie = mode == "http" and _persistence_type(pool) == constants.SESSION_PERSISTENCE_HTTP_COOKIE
    common = _server_common_options(pool, cert_paths, monitor)
    backend.servers = [_server(member, monitor, cookie, common) for member in pool.members]
    return backend


def _server(
    member: models.Member, monitor: models.HealthMonitor | None, cookie: bool, common: list[str]
) -> Server:
    options = [f"weight {int(member.weight)}"]
    if monitor is not None:
        options += _server_check_options(member, monitor)
    if cookie:
        options.append(f"cookie {require_name('member id', member.id)}")
    if member.backup:
        options.append("backup")
    if not member.enabled:
        options.append("disabled")
    return Server(
        name=require_name("member id", member.id),
        address=socket_address(member.ip_address, member.protocol_port),
        options=options + common,
    )


def _persistence_type(pool: models.Pool) -> str | None:
    return (pool.session_persistence or {}).get("type")


def _persistence(persistence: dict | None, mode: str, peers: str | None) -> list[str]:
    """Stickiness directives; cookie-based types need HTTP and are not rendered in tcp mode."""
    if not persistence:
        return []
    kind = persistence.get("type")
    timeout = persistence.get("persistence_timeout")
    table_tail = (f" expire {int(timeout)}s" if timeout else "") + (f" peers {peers}" if peers else "")
    if kind == constants.SESSION_PERSISTENCE_SOURCE_IP:
        return [f"stick-table type ipv6 size {STICK_TABLE_SIZE}{table_tail}", "stick on src"]
    if mode != "http":
        return []
    if kind == constants.SESSION_PERSISTENCE_HTTP_COOKIE:
        return ["cookie SRV insert indirect nocache"]
    if kind == constants.SESSION_PERSISTENCE_APP_COOKIE:
        name = persistence.get("cookie_name")
        return [
            f"stick-table type string len 64 size {STICK_TABLE_SIZE}{table_tail}",
            f"stick store-response {fetch_with_name('res.cook', 'cookie_name', name)}",
            f"stick match {fetch_with_name('req.cook', 'cookie_name', name)}",
        ]
    raise ConfigRenderError(f"unknown session persistence type {kind!r}")


def _check_directives(monitor: models.HealthMonitor) -> list[str]:
    if monitor.type in (constants.HEALTH_MONITOR_HTTP, constants.HEALTH_MONITOR_HTTPS):
        return ["option httpchk", _http_check_send(monitor), f"http-check expect status {_codes(monitor)}"]
    if monitor.type == constants.HEALTH_MONITOR_TLS_HELLO:
        return ["option ssl-hello-chk"]
    if monitor.type == constants.HEALTH_MONITOR_PING:
        return [
            "option external-check",
            f"external-check command {config_word(ICMP_CHECK_COMMAND)}",
            'external-check path "/usr/bin:/bin"',
        ]
    return []


def _http_check_send(monitor: models.HealthMonitor) -> str:
    method = (monitor.http_method or "GET").upper()
    if method not in constants.HTTP_METHODS:
        raise ConfigRenderError(f"http_method {monitor.http_method!r} is not an HTTP method")
    path = require_printable("url_path", monitor.url_path or "/")
    version = _HTTP_VERSIONS.get(float(monitor.http_version or 1.0))
    if version is None:
        raise ConfigRenderError(f"http_version {monitor.http_version} is not 1.0 or 1.1")
    send = f"http-check send meth {method} uri {config_word(path)} ver {version}"
    if monitor.domain_name:
        domain = require_printable("domain_name", monitor.domain_name)
        send += f" hdr Host {log_format_word(domain)}"
    return send


def _codes(monitor: models.HealthMonitor) -> str:
    """expected_codes ("200", "200,202", "200-204") in HAProxy's own list-and-range syntax."""
    codes = (monitor.expected_codes or "200").replace(" ", "")
    if not _EXPECTED_CODES.fullmatch(codes):
        raise ConfigRenderError(f"expected_codes {monitor.expected_codes!r} is not a code list or range")
    return codes


def _server_check_options(member: models.Member, monitor: models.HealthMonitor) -> list[str]:
    fall, rise = int(monitor.fall_threshold), int(monitor.rise_threshold)
    options = [f"check inter {int(monitor.delay)}s fall {fall} rise {rise}"]
    if member.monitor_address:
        options.append(f"addr {ip_literal(member.monitor_address)}")
    if member.monitor_port:
        options.append(f"port {int(member.monitor_port)}")
    return options


def _server_common_options(
    pool: models.Pool, cert_paths: tls.CertPaths, monitor: models.HealthMonitor | None
) -> list[str]:
    """Options every server of the pool shares: PROXY protocol and re-encryption."""
    options: list[str] = []
    if pool.protocol == constants.PROTOCOL_PROXY:
        options.append("send-proxy")
    elif pool.protocol == constants.PROTOCOL_PROXYV2:
        options.append("send-proxy-v2")
    if options and monitor is not None and monitor.type != constants.HEALTH_MONITOR_PING:
        options.append("check-send-proxy")
    if pool.tls_enabled:
        options.append("ssl")
        if pool.ca_tls_container_ref:
            options += [
                "verify required",
                "ca-file",
                cert_paths.path("pool CA container", pool.ca_tls_container_ref),
            ]
            if pool.crl_container_ref:
                options += ["crl-file", cert_paths.path("pool CRL container", pool.crl_container_ref)]
        else:
            options.append("verify none")
        if pool.tls_container_ref:
            options += ["crt", cert_paths.path("pool TLS container", pool.tls_container_ref)]
        options += tls.cipher_options(pool.tls_ciphers)
        options += tls.version_flags(pool.tls_versions)
        options += tls.alpn_options(pool.alpn_protocols)
    elif monitor is not None and monitor.type == constants.HEALTH_MONITOR_HTTPS:
        options += ["check-ssl", "verify none"]
    return options
