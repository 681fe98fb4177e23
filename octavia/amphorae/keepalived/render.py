"""Render the keepalived configuration of one amphora of an ACTIVE_STANDBY pair.

VRRPv3 (`vrrp_version 3`) so that `[keepalived_vrrp] vrrp_advert_int` may be a
fraction of a second: with 0.2 s a BACKUP takes over 0.6-0.8 s after its MASTER goes
silent, and 0.2 s after a MASTER's clean stop (its priority-0 advertisement).
VRRPv3 has no authentication (keepalived refuses an `authentication` block with
version 3), so a pair only listens to its own peers: unicast adverts to the peer's
VRRP address, and `check_unicast_src` drops adverts from any other source.

Both amphorae start as BACKUP with `nopreempt` (keepalived ignores `nopreempt` for an
initial MASTER): the higher priority (MASTER role, 100) wins the first election, and
an amphora that restarts later never takes the VIP back from a healthy peer.

The VIP addresses (the primary VIP and additional VIPs of the same IP family) are
keepalived's to add and remove; additional VIPs of the other family go in
`virtual_ipaddress_excluded` (VRRP carries one family). Replies sourced from a VIP are
routed through table 1 by the VIP subnet's gateway, as in SINGLE topology.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from octavia.common import constants
from octavia.common.config import CONF
from octavia.db import models

VIP_TABLE = 1
VIP_RULE_PRIORITY = 100
CHECK_NAME = "check_haproxy"
_INTERFACE = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")
_SCRIPT_PATH = re.compile(r"^/[A-Za-z0-9_./-]+$")
# Amphorae that are (or are becoming) part of the pair; others are never peers.
PEER_STATUSES = (constants.AMPHORA_ALLOCATED, constants.AMPHORA_BOOTING, constants.AMPHORA_READY,
                 constants.PENDING_CREATE)


class KeepalivedRenderError(ValueError):
    """The amphora or load balancer lacks what a keepalived configuration needs."""


@dataclass(frozen=True)
class VipNetwork:
    """One VIP address with the CIDR and gateway of its subnet."""

    address: str
    cidr: str
    gateway: str | None = None


@dataclass(frozen=True)
class _RenderedVip:
    address: str
    host_prefix: int
    network: str
    gateway: str | None
    default_route: str


def _ip(value: str | None, what: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(str(value))
    except ValueError as exc:
        raise KeepalivedRenderError(f"invalid {what}: {value!r}") from exc


def _vips(vips: Sequence[VipNetwork]) -> list[_RenderedVip]:
    """Validated VIPs; only the first VIP of each family keeps its gateway (one default
    route per family in table 1)."""
    rendered: list[_RenderedVip] = []
    routed: set[int] = set()
    for vip in vips:
        address = _ip(vip.address, "VIP address")
        try:
            network = ipaddress.ip_network(vip.cidr, strict=False)
        except ValueError as exc:
            raise KeepalivedRenderError(f"invalid VIP subnet: {vip.cidr!r}") from exc
        if address not in network:
            raise KeepalivedRenderError(f"VIP {address} is not in its subnet {network}")
        gateway = None
        if vip.gateway and address.version not in routed:
            gateway = str(_ip(vip.gateway, "gateway"))
            routed.add(address.version)
        rendered.append(_RenderedVip(
            address=str(address), host_prefix=address.max_prefixlen, network=str(network), gateway=gateway,
            default_route="::/0" if address.version == 6 else "0.0.0.0/0",
        ))
    return rendered


def vrrp_peers(lb: models.LoadBalancer, amphora: models.Amphora) -> list[str]:
    """VRRP addresses of the other amphorae of the pair."""
    return [
        str(_ip(amp.vrrp_ip, "peer VRRP address"))
        for amp in lb.amphorae
        if amp.id != amphora.id and amp.vrrp_ip and amp.status in PEER_STATUSES
    ]


def instance_name(lb_id: str) -> str:
    """Upstream's VRRP group name: the load balancer id without dashes."""
    return lb_id.replace("-", "")


def format_advert_int(value: float) -> str:
    """keepalived reads advert_int as a decimal number of seconds ("0.2", "1")."""
    if not 0.01 <= value <= 40.95:
        raise KeepalivedRenderError(f"vrrp_advert_int {value} is outside VRRPv3's 0.01-40.95 s")
    return f"{value:.2f}".rstrip("0").rstrip(".")


def render_keepalived_config(
    lb: models.LoadBalancer, amphora: models.Amphora, vips: Sequence[VipNetwork], *, check_script: str
) -> str:
    """keepalived.conf for `amphora` (its vrrp_ip, vrrp_interface, vrrp_id, vrrp_priority
    set) serving `vips`; `check_script` is the agent's HAProxy check on the amphora."""
    if not amphora.vrrp_interface or not _INTERFACE.match(amphora.vrrp_interface):
        raise KeepalivedRenderError(f"amphora {amphora.id} has no valid VRRP interface")
    if not _SCRIPT_PATH.match(check_script) or "/../" in check_script:
        raise KeepalivedRenderError(f"unsafe check script path {check_script!r}")
    if not amphora.vrrp_id or not 1 <= amphora.vrrp_id <= 255:
        raise KeepalivedRenderError(f"amphora {amphora.id} has no VRRP id (1-255)")
    if not amphora.vrrp_priority or not 1 <= amphora.vrrp_priority <= 254:
        raise KeepalivedRenderError(f"amphora {amphora.id} has no VRRP priority (1-254)")
    source = _ip(amphora.vrrp_ip, "VRRP address")
    # Alone (its peer lost and not rebuilt yet), it lists itself: keepalived refuses an
    # empty unicast_peer (falling back to multicast, where lone amphorae of other load
    # balancers would hear it) and only warns about adverts from its own address.
    peers = vrrp_peers(lb, amphora) or [str(source)]
    if any(_ip(peer, "peer").version != source.version for peer in peers):
        raise KeepalivedRenderError("VRRP peers must be of the VRRP address's IP family")
    all_vips = _vips(vips)
    if not all_vips:
        raise KeepalivedRenderError(f"load balancer {lb.id} has no VIP address")
    conf = CONF.keepalived_vrrp
    return _template().render(
        lb_id=lb.id,
        amphora_id=amphora.id,
        router_id=instance_name(amphora.id)[:32],
        instance=instance_name(lb.id),
        check_name=CHECK_NAME,
        check_script=check_script,
        check_interval=max(1, int(conf.vrrp_check_interval)),
        fall=max(1, int(conf.vrrp_fail_count)),
        rise=max(1, int(conf.vrrp_success_count)),
        interface=amphora.vrrp_interface,
        vrrp_id=int(amphora.vrrp_id),
        priority=int(amphora.vrrp_priority),
        advert_int=format_advert_int(float(conf.vrrp_advert_int)),
        garp_refresh=max(0, int(conf.vrrp_garp_refresh_interval)),
        garp_refresh_repeat=max(1, int(conf.vrrp_garp_refresh_count)),
        unicast_src_ip=str(source),
        peers=peers,
        vips=[vip for vip in all_vips if _ip(vip.address, "VIP").version == source.version],
        excluded_vips=[vip for vip in all_vips if _ip(vip.address, "VIP").version != source.version],
        all_vips=all_vips,
        vip_table=VIP_TABLE,
        rule_priority=VIP_RULE_PRIORITY,
    )


def _guard(value: object) -> object:
    """Jinja finalizer: no value may carry a control character or a brace (a new line or
    block in the configuration)."""
    text = str(value)
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text) or "{" in text or "}" in text:
        raise KeepalivedRenderError(f"refusing to render {text[:80]!r}")
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
    return env.get_template("keepalived.conf.j2")
