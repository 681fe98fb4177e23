"""Choosing private ranges that do not collide with the host's routes, and interface names."""

from __future__ import annotations

import ipaddress

import pytest

from octavia.network import netns


def test_preferred_range_is_kept_when_free() -> None:
    taken = [ipaddress.ip_network("192.0.2.0/24")]
    assert netns.pick_free_cidr("198.18.0.0/24", "198.18.0.0/15", taken) == "198.18.0.0/24"


def test_overlapping_range_moves_to_the_next_free_one() -> None:
    taken = [ipaddress.ip_network("198.18.0.0/23"), ipaddress.ip_network("198.18.2.128/25")]
    assert netns.pick_free_cidr("198.18.0.0/24", "198.18.0.0/15", taken) == "198.18.3.0/24"


def test_ipv6_ranges_ignore_ipv4_routes() -> None:
    taken = [ipaddress.ip_network("fd00::/64"), ipaddress.ip_network("10.0.0.0/8")]
    assert netns.pick_free_cidr("fd00::/64", "fd00::/62", taken) == "fd00:0:0:1::/64"


def test_exhausted_pool_is_an_error() -> None:
    with pytest.raises(netns.PlumbingError):
        netns.pick_free_cidr("198.18.0.0/24", "198.18.0.0/24", [ipaddress.ip_network("198.18.0.0/16")])


def test_names_fit_linux_limits_and_differ_per_object() -> None:
    a = "0a1b2c3d-0000-4000-8000-000000000001"
    b = "0a1b2c3d-0000-4000-8000-000000000002"
    assert len(netns.host_ifname("op", a)) <= 15
    assert netns.host_ifname("op", a) != netns.host_ifname("op", b)
    assert netns.namespace_name(a).startswith("amp-") and len(netns.namespace_name(a)) == 16
