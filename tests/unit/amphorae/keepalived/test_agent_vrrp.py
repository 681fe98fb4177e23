"""The agent's VRRP helpers on rendered configurations: the VIPs it would remove, the
priority-0 advertisement it would send, and the HAProxy check script keepalived runs."""

from __future__ import annotations

import ipaddress
import os
import struct
import subprocess
from pathlib import Path

import pytest

from octavia.amphorae.agent import vrrp_advert, vrrp_system
from octavia.amphorae.keepalived.layout import agent_vrrp_paths, vrrp_paths
from octavia.amphorae.keepalived.render import VipNetwork, render_keepalived_config
from octavia.db import models

VIPS = [VipNetwork("10.0.0.100", "10.0.0.0/24", "10.0.0.1"), VipNetwork("10.0.1.100", "10.0.1.0/24"),
        VipNetwork("fd00::100", "fd00::/64")]


def _config(source: str = "10.0.0.11", peer: str = "10.0.0.12") -> str:
    master = models.Amphora(id="aaaaaaaa-2222-3333-4444-555555555555", status="ALLOCATED", vrrp_ip=source,
                            vrrp_interface="eth1", vrrp_id=7, vrrp_priority=100)
    backup = models.Amphora(id="bbbbbbbb-2222-3333-4444-555555555555", status="ALLOCATED", vrrp_ip=peer,
                            vrrp_interface="eth1", vrrp_id=7, vrrp_priority=90)
    lb = models.LoadBalancer(id="11111111-2222-3333-4444-555555555555", amphorae=[master, backup])
    return render_keepalived_config(lb, master, VIPS, check_script="/var/lib/octavia/vrrp/check.sh")


def test_configured_vips_include_excluded_family() -> None:
    found = vrrp_system.configured_vips(_config())
    assert [(v.address, v.prefixlen, v.interface) for v in found] == [
        ("10.0.0.100", 32, "eth1"), ("10.0.1.100", 32, "eth1"), ("fd00::100", 128, "eth1"),
    ]
    assert vrrp_system.vrrp_interface(_config()) == "eth1"


def test_parse_instance() -> None:
    instance = vrrp_advert.parse_instance(_config())
    assert instance == vrrp_advert.VrrpInstance(
        source="10.0.0.11", peers=["10.0.0.12"], vrid=7, advert_int=0.2, vips=["10.0.0.100", "10.0.1.100"],
    )
    assert vrrp_advert.parse_instance("global_defs {\n}\n") is None


def _ones_complement_sum(data: bytes) -> int:
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def test_ipv4_resignation_is_a_valid_priority_zero_advertisement() -> None:
    instance = vrrp_advert.parse_instance(_config())
    assert instance is not None
    packet = vrrp_advert.resignation(instance, "10.0.0.12")
    version_type, vrid, priority, count, interval = struct.unpack("!BBBBH", packet[:6])
    assert (version_type, vrid, priority, count) == (0x31, 7, 0, 2)
    assert interval & 0xFFF == 20, "max advert interval in centiseconds"
    assert packet[8:] == ipaddress.ip_address("10.0.0.100").packed + ipaddress.ip_address("10.0.1.100").packed
    pseudo = (ipaddress.ip_address("10.0.0.11").packed + ipaddress.ip_address("10.0.0.12").packed
              + struct.pack("!BBH", 0, 112, len(packet)))
    assert _ones_complement_sum(pseudo + packet) == 0xFFFF, "checksum over pseudo-header and message"


def test_ipv6_resignation_leaves_the_checksum_to_the_kernel() -> None:
    instance = vrrp_advert.parse_instance(_config("fd00::11", "fd00::12"))
    assert instance is not None and instance.vips == ["fd00::100"]
    packet = vrrp_advert.resignation(instance, "fd00::12")
    assert packet[6:8] == b"\0\0" and packet[8:] == ipaddress.ip_address("fd00::100").packed


def test_paths_agree_between_controller_and_agent(tmp_path: Path) -> None:
    amp_dir = tmp_path / "amphora"
    (amp_dir / "lbs").mkdir(parents=True)
    link = tmp_path / "short"
    link.symlink_to(amp_dir / "lbs")
    assert agent_vrrp_paths(str(link)) == vrrp_paths(str(amp_dir))


def _lb_dir(base: Path, name: str, pid: int | None, enabled: bool = True) -> None:
    directory = base / name
    directory.mkdir()
    (directory / "haproxy.cfg").write_text("global\n")
    if pid is not None:
        (directory / "haproxy.pid").write_text(f"{pid}\n")
    if enabled:
        (directory / "haproxy.enabled").write_text("")


def _check(base: Path, tmp_path: Path) -> int:
    paths = vrrp_paths(str(tmp_path / "amp"))
    vrrp_system.write_check_script(paths, str(base))
    assert os.stat(paths.check_script).st_mode & 0o777 == 0o755
    return subprocess.run([paths.check_script], check=False, timeout=10).returncode


@pytest.fixture
def base(tmp_path: Path) -> Path:
    path = tmp_path / "lbs"
    path.mkdir()
    return path


def test_check_script_passes_with_live_haproxy(base: Path, tmp_path: Path) -> None:
    _lb_dir(base, "lb1", os.getpid())
    _lb_dir(base, "lb2", None, enabled=False)
    assert _check(base, tmp_path) == 0


def test_check_script_passes_with_no_load_balancer(base: Path, tmp_path: Path) -> None:
    assert _check(base, tmp_path) == 0


def test_check_script_fails_on_dead_haproxy(base: Path, tmp_path: Path) -> None:
    with subprocess.Popen(["true"]) as gone:
        gone.wait()
    _lb_dir(base, "lb1", os.getpid())
    _lb_dir(base, "lb2", gone.pid)
    assert _check(base, tmp_path) == 1


def test_check_script_fails_without_pid_file(base: Path, tmp_path: Path) -> None:
    _lb_dir(base, "lb1", None)
    assert _check(base, tmp_path) == 1


def test_check_script_refuses_unquotable_base_path(tmp_path: Path) -> None:
    with pytest.raises(vrrp_system.VrrpSystemError):
        vrrp_system.write_check_script(vrrp_paths(str(tmp_path)), "/tmp/a b; reboot")
