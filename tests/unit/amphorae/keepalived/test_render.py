"""keepalived.conf rendering: the pair's settings, VIP families, peers and refused values."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from octavia.amphorae.keepalived.render import (
    KeepalivedRenderError,
    VipNetwork,
    format_advert_int,
    render_keepalived_config,
)
from octavia.common.config import CONF
from octavia.db import models

LB_ID = "11111111-2222-3333-4444-555555555555"
CHECK = "/var/lib/octavia/vrrp/check_haproxy.sh"
VIP = VipNetwork("10.0.0.100", "10.0.0.0/24", "10.0.0.1")


Pair = tuple[models.LoadBalancer, models.Amphora, models.Amphora]


def _amphora(name: str, vrrp_ip: str, priority: int, status: str = "ALLOCATED") -> models.Amphora:
    return models.Amphora(id=f"{name * 8}-2222-3333-4444-555555555555", status=status, vrrp_ip=vrrp_ip,
                          vrrp_interface="eth1", vrrp_id=1, vrrp_priority=priority)


@pytest.fixture
def pair() -> Pair:
    master = _amphora("a", "10.0.0.11", 100)
    backup = _amphora("b", "10.0.0.12", 90)
    lb = models.LoadBalancer(id=LB_ID, vip_address=VIP.address, amphorae=[master, backup])
    return lb, master, backup


@pytest.fixture
def conf_override() -> Iterator[None]:
    yield
    for name in ("vrrp_advert_int", "vrrp_check_interval", "vrrp_fail_count", "vrrp_success_count"):
        CONF.clear_override(name, group="keepalived_vrrp")


def _block(text: str, name: str) -> list[str]:
    """The lines inside `name { ... }` (first occurrence, one level)."""
    match = re.search(rf"^\s*{re.escape(name)} {{\n(.*?)^\s*}}", text, re.S | re.M)
    assert match, f"no {name} block in:\n{text}"
    return [line.strip() for line in match.group(1).splitlines() if line.strip()]


def test_instance_settings(pair: Pair) -> None:
    lb, master, _ = pair
    text = render_keepalived_config(lb, master, [VIP], check_script=CHECK)
    instance = _block(text, "vrrp_instance 11111111222233334444555555555555")
    assert "state BACKUP" in instance and "nopreempt" in instance
    assert "priority 100" in instance and "virtual_router_id 1" in instance
    assert "interface eth1" in instance and "advert_int 0.2" in instance
    lines = [line.strip() for line in text.splitlines()]
    assert "unicast_src_ip 10.0.0.11" in lines and "check_unicast_src" in lines
    assert _block(text, "unicast_peer") == ["10.0.0.12"]
    assert _block(text, "virtual_ipaddress") == ["10.0.0.100/32 dev eth1"]
    assert "vrrp_version 3" in _block(text, "global_defs")
    assert "authentication" not in text


def test_backup_points_at_master(pair: Pair) -> None:
    lb, _, backup = pair
    text = render_keepalived_config(lb, backup, [VIP], check_script=CHECK)
    assert "priority 90" in text and "unicast_src_ip 10.0.0.12" in text
    assert _block(text, "unicast_peer") == ["10.0.0.11"]


def test_check_script_from_options(pair: Pair,
                                   conf_override: None) -> None:
    CONF.set_override("vrrp_check_interval", 0, group="keepalived_vrrp")
    CONF.set_override("vrrp_fail_count", 3, group="keepalived_vrrp")
    CONF.set_override("vrrp_success_count", 4, group="keepalived_vrrp")
    lb, master, _ = pair
    text = render_keepalived_config(lb, master, [VIP], check_script=CHECK)
    script = _block(text, "vrrp_script check_haproxy")
    assert f'script "{CHECK}"' in script
    assert "interval 1" in script, "keepalived checks run at whole seconds, at least 1"
    assert "fall 3" in script and "rise 4" in script


@pytest.mark.parametrize(("value", "text"), [(0.2, "0.2"), (1.0, "1"), (0.05, "0.05"), (2.5, "2.5")])
def test_advert_int_is_decimal(value: float, text: str) -> None:
    assert format_advert_int(value) == text


@pytest.mark.parametrize("value", [0.0, 0.001, 41.0])
def test_advert_int_outside_vrrpv3_range(value: float) -> None:
    with pytest.raises(KeepalivedRenderError):
        format_advert_int(value)


def test_peers_leave_when_retired(pair: Pair) -> None:
    lb, master, backup = pair
    replacement = _amphora("c", "10.0.0.13", 90, status="BOOTING")
    backup.status = "DELETED"
    lb.amphorae.append(replacement)
    text = render_keepalived_config(lb, master, [VIP], check_script=CHECK)
    assert _block(text, "unicast_peer") == ["10.0.0.13"]


def test_other_family_vips_are_excluded(pair: Pair) -> None:
    lb, master, _ = pair
    vips = [VIP, VipNetwork("10.0.1.100", "10.0.1.0/24", "10.0.1.1"),
            VipNetwork("fd00::100", "fd00::/64", "fd00::1")]
    text = render_keepalived_config(lb, master, vips, check_script=CHECK)
    assert _block(text, "virtual_ipaddress") == ["10.0.0.100/32 dev eth1", "10.0.1.100/32 dev eth1"]
    assert _block(text, "virtual_ipaddress_excluded") == ["fd00::100/128 dev eth1"]
    routes = _block(text, "virtual_routes")
    assert routes.count("0.0.0.0/0 via 10.0.0.1 dev eth1 onlink table 1") == 1
    assert not any("via 10.0.1.1" in route for route in routes), "one IPv4 default route in table 1"
    assert "::/0 via fd00::1 dev eth1 onlink table 1" in routes
    assert "fd00::/64 dev eth1 src fd00::100 scope link table 1" in routes
    assert _block(text, "virtual_rules") == [
        "from 10.0.0.100/32 table 1 priority 100", "from 10.0.1.100/32 table 1 priority 100",
        "from fd00::100/128 table 1 priority 100",
    ]


def test_ipv6_pair(pair: Pair) -> None:
    lb, master, backup = pair
    master.vrrp_ip, backup.vrrp_ip = "fd00::11", "fd00::12"
    vips = [VipNetwork("fd00::100", "fd00::/64", None)]
    text = render_keepalived_config(lb, master, vips, check_script=CHECK)
    assert _block(text, "virtual_ipaddress") == ["fd00::100/128 dev eth1"]
    assert _block(text, "unicast_peer") == ["fd00::12"]
    assert not any(" via " in route for route in _block(text, "virtual_routes"))


@pytest.mark.parametrize(("field", "value"), [
    ("vrrp_interface", "eth1 }\nvrrp_script x {"),
    ("vrrp_interface", None),
    ("vrrp_ip", "10.0.0.11\n"),
    ("vrrp_ip", None),
    ("vrrp_id", 0),
    ("vrrp_id", 256),
    ("vrrp_priority", 255),
    ("vrrp_priority", None),
])
def test_bad_amphora_fields_refused(pair: Pair,
                                    field: str, value: object) -> None:
    lb, master, _ = pair
    setattr(master, field, value)
    with pytest.raises(KeepalivedRenderError):
        render_keepalived_config(lb, master, [VIP], check_script=CHECK)


@pytest.mark.parametrize("vips", [
    [],
    [VipNetwork("10.0.5.1", "10.0.0.0/24")],
    [VipNetwork("10.0.0.100", "not-a-cidr")],
    [VipNetwork("10.0.0.100", "10.0.0.0/24", "10.0.0.1 ; reboot")],
])
def test_bad_vips_refused(pair: Pair,
                          vips: list[VipNetwork]) -> None:
    lb, master, _ = pair
    with pytest.raises(KeepalivedRenderError):
        render_keepalived_config(lb, master, vips, check_script=CHECK)


@pytest.mark.parametrize("path", ["relative/check.sh", "/tmp/a b.sh", '/tmp/x".sh', "/tmp/../etc/x"])
def test_unsafe_check_script_refused(pair: Pair,
                                     path: str) -> None:
    lb, master, _ = pair
    with pytest.raises(KeepalivedRenderError):
        render_keepalived_config(lb, master, [VIP], check_script=path)


def test_mixed_family_peer_refused(pair: Pair) -> None:
    lb, master, backup = pair
    backup.vrrp_ip = "fd00::12"
    with pytest.raises(KeepalivedRenderError):
        render_keepalived_config(lb, master, [VIP], check_script=CHECK)


def test_lone_amphora_stays_unicast(pair: Pair) -> None:
    lb, master, backup = pair
    backup.status = "DELETED"
    text = render_keepalived_config(lb, master, [VIP], check_script=CHECK)
    assert _block(text, "unicast_peer") == ["10.0.0.11"], "never an empty list (multicast)"
