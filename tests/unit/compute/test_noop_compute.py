"""The noop compute driver answers like upstream's: every instance exists and is ACTIVE."""

from __future__ import annotations

import uuid

from octavia.compute import base
from octavia.compute.noop import NoopComputeDriver


def test_build_returns_a_new_id_each_time() -> None:
    driver = NoopComputeDriver()
    first, second = driver.build(name="amphora-x"), driver.build(name="amphora-x")
    assert first != second
    assert uuid.UUID(first)


def test_get_amphora_reports_an_active_instance_with_a_management_address() -> None:
    driver = NoopComputeDriver()
    compute_id = driver.build()
    amphora, fault = driver.get_amphora(compute_id)
    assert fault is None
    assert amphora.compute_id == compute_id and amphora.status == base.COMPUTE_ACTIVE
    assert amphora.lb_network_ip
    assert driver.status(compute_id) == base.COMPUTE_ACTIVE
    assert set(amphora.as_amphora_columns()) == {
        "compute_id", "status", "lb_network_ip", "cached_zone", "image_id", "compute_flavor"}


def test_interfaces_and_server_groups() -> None:
    driver = NoopComputeDriver()
    group = driver.create_server_group("g", "anti-affinity")
    assert group.policy == "anti-affinity" and uuid.UUID(group.id)
    iface = driver.attach_network_or_port("c1", port_id="p1", ip_address="198.51.100.4")
    assert iface.port_id == "p1" and iface.fixed_ips == [{"ip_address": "198.51.100.4"}]
