"""Render the HAProxy configuration of one load balancer (all its listeners) for one amphora.

HAProxy runs in master-worker mode (`haproxy -Ws`, started by the amphora agent, hence
no `daemon`). The stats socket passes the listening sockets to the next worker
(`expose-fd listeners`), so reloads are seamless; `hard-stop-after` bounds how long
old workers may keep long-lived connections; `server-state-file` lets the agent carry
server health and weights across a reload (it dumps `show servers state` there first).

Names in the file map back to API objects: frontend = listener id, backend =
`<pool id>:<listener id>`, server = member id. Names, descriptions and tags of objects
are never rendered; every other user-supplied string goes through `quoting`.
"""

from __future__ import annotations

import functools
import os
import resource
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2

from octavia.amphorae.haproxy import tls
from octavia.amphorae.haproxy.addresses import ip_literal
from octavia.amphorae.haproxy.backends import Backend, backend_name, build_backend
from octavia.amphorae.haproxy.capabilities import detect_features
from octavia.amphorae.haproxy.errors import ConfigRenderError
from octavia.amphorae.haproxy.frontends import (
    HAPROXY_PROTOCOLS,
    Frontend,
    build_frontend,
    listener_maxconn,
    vip_addresses,
)
from octavia.amphorae.haproxy.quoting import config_word, require_name
from octavia.common import constants
from octavia.common.config import CONF
from octavia.db import models

PEER_PORT = 1025
PROMETHEUS_INTERNAL_MAXCONN = 50
# Room for the agent's own connections to the stats socket.
CLI_MAXCONN = 10
# sockaddr_un.sun_path holds 108 bytes; HAProxy binds "<path>.<pid>.tmp" first and
# refuses paths over 97 bytes ("socket path ... too long (max 97)").
_MAX_SOCKET_PATH = 97
# File descriptors HAProxy needs besides two per connection: per thread (poller, wake-up
# pipes), per listening socket and per checked server, plus a fixed margin (measured
# with 2.6: 2 * maxconn + 3 * threads + 20 + listeners + checked servers).
_FD_MARGIN = 32
_FDS_PER_THREAD = 3


@dataclass
class Peers:
    name: str
    local: str
    members: list[tuple[str, str]]


def render_haproxy_config(
    lb: models.LoadBalancer,
    amphora: models.Amphora | None,
    *,
    amp_base: str,
    certs: Mapping[str, str] | None = None,
    prometheus_port: int | None = None,
) -> str:
    """The complete haproxy.cfg for `lb` as run on `amphora`.

    `certs` maps PEM file names (see `tls.cert_file_name`) to their contents; only the
    names are used here, to refuse a configuration naming a file that will not exist.
    Disabled listeners, and every listener of a disabled load balancer, are left out.
    Raises ConfigRenderError for anything that cannot be rendered safely (a duplicate
    address:port, an invalid field value).
    """
    lb_id = require_name("load balancer id", lb.id)
    lb_dir = f"{amp_base.rstrip('/')}/{lb_id}"
    stats_socket = f"{lb_dir}/haproxy.sock"
    if len(stats_socket.encode()) > _MAX_SOCKET_PATH:
        raise ConfigRenderError(f"stats socket path {stats_socket!r} is too long for a unix socket")
    features = detect_features(CONF.haproxy_amphora.haproxy_cmd)
    if prometheus_port is not None and not features.prometheus_exporter:
        raise ConfigRenderError("this HAProxy build has no prometheus-exporter service")
    listeners = [listener for listener in lb.listeners if listener.enabled and lb.enabled]
    addresses = vip_addresses(lb)
    if listeners and not addresses:
        raise ConfigRenderError(f"load balancer {lb_id} has listeners but no VIP address")
    _refuse_duplicate_ports(listeners, addresses)
    peers = _peers(lb, amphora)
    cert_paths = tls.CertPaths(f"{lb_dir}/certs", certs)
    cap = _maxconn_cap(lb, addresses)
    frontends: list[Frontend] = []
    backends: list[Backend] = []
    for listener in sorted(listeners, key=lambda item: (item.protocol_port, item.id)):
        if listener.protocol not in HAPROXY_PROTOCOLS:
            continue
        frontend = build_frontend(
            listener,
            addresses=addresses,
            maxconn=listener_maxconn(listener, cap),
            cert_paths=cert_paths,
            backend_name=functools.partial(backend_name, listener=listener),
            prometheus_available=features.prometheus_exporter,
            idle_close_on_response=features.idle_close_on_response,
        )
        frontends.append(frontend)
        backends += [
            build_backend(
                pool,
                listener,
                mode=frontend.mode,
                cert_paths=cert_paths,
                peers=peers.name if peers else None,
            )
            for pool in frontend.pools
        ]
    total = CLI_MAXCONN + sum(frontend.maxconn for frontend in frontends)
    if prometheus_port is not None:
        total += PROMETHEUS_INTERNAL_MAXCONN
    return _template().render(
        lb_id=lb_id,
        maxconn=min(total, cap),
        stats_socket=config_word(stats_socket),
        state_file=config_word(f"{lb_dir}/servers.state"),
        hard_stop_after=int(CONF.haproxy_amphora.hard_stop_after),
        tls=any(frontend.bind_options for frontend in frontends)
        or any("ssl" in server.options for backend in backends for server in backend.servers),
        external_check=any(backend.external_check for backend in backends),
        peers=peers,
        prometheus_port=int(prometheus_port) if prometheus_port is not None else None,
        prometheus_maxconn=PROMETHEUS_INTERNAL_MAXCONN,
        frontends=frontends,
        backends=backends,
    )


def _refuse_duplicate_ports(listeners: list[models.Listener], addresses: list[str]) -> None:
    """Two sockets on one VIP:port would silently share traffic (SO_REUSEPORT): refuse them."""
    seen: dict[tuple[str, int], str] = {}
    for listener in listeners:
        family = constants.L4_FAMILY.get(listener.protocol, listener.protocol)
        key = (family, int(listener.protocol_port))
        if key in seen:
            raise ConfigRenderError(
                f"listeners {seen[key]} and {listener.id} both use {family} port {key[1]} "
                f"on {', '.join(addresses) or 'the VIP'}"
            )
        seen[key] = listener.id


def _peers(lb: models.LoadBalancer, amphora: models.Amphora | None) -> Peers | None:
    """ACTIVE_STANDBY amphorae share stick tables through a `peers` section on their VRRP ports."""
    if lb.topology != constants.TOPOLOGY_ACTIVE_STANDBY or amphora is None or not amphora.vrrp_ip:
        return None
    candidates = [
        amphora,
        *(amp for amp in lb.amphorae if amp.id != amphora.id and amp.status != constants.DELETED),
    ]
    members = [
        (require_name("amphora id", amp.id), f"{_peer_address(address)}:{PEER_PORT}")
        for amp in candidates
        if (address := amp.vrrp_ip)
    ]
    return Peers(name=f"{lb.id}_peers", local=require_name("amphora id", amphora.id), members=members)


def _peer_address(address: str) -> str:
    literal = ip_literal(address)
    return f"ipv6@{literal}" if ":" in literal else literal


def _maxconn_cap(lb: models.LoadBalancer, addresses: list[str]) -> int:
    """Largest global maxconn HAProxy can start with under this process's open-files hard limit."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    servers = sum(len(pool.members) for pool in lb.pools)
    binds = len(lb.listeners) * max(1, len(addresses)) + 2
    reserve = _FD_MARGIN + _FDS_PER_THREAD * (os.cpu_count() or 1) + binds + servers + len(lb.amphorae)
    if hard == resource.RLIM_INFINITY:
        return 1_000_000
    return max(1, (hard - reserve) // 2)


def _guard(value: object) -> object:
    """Jinja finalizer: no expression may emit a control character (a newline would add a line)."""
    text = str(value)
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        raise ConfigRenderError(f"refusing to render a value with control characters: {text[:80]!r}")
    return value


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_guard,
        autoescape=False,
    )
    return env.get_template("haproxy.cfg.j2")
