"""Requests the fuzzer found answered with a 500, each now answered as upstream does.

(NUL characters and out-of-range integers are in test_unstorable_input.py, the
concurrent-delete race in test_concurrency.py.)
"""

from __future__ import annotations

import uuid
from typing import Any

LBS = "/v2/lbaas/loadbalancers"


def test_additional_vips_are_validated(api: Any) -> None:
    """Any `additional_vips` crashed the VIP checks (they read a model as a dict)."""
    subnet, other = str(uuid.uuid4()), str(uuid.uuid4())
    cases = [
        ([{"subnet_id": subnet}], "Duplicate VIP subnet(s) specified. Only one IP can be bound per subnet."),
        # The noop network puts every subnet in a network of its own.
        ([{"subnet_id": other}], "All VIP subnets must belong to the same network."),
    ]
    for extra, fault in cases:
        resp = api.post(LBS, json={"loadbalancer": {"vip_subnet_id": subnet, "additional_vips": extra}})
        assert resp.status_code == 400, resp.text
        assert resp.json()["faultstring"] == f"Validation failure: {fault}"
    assert api.get(LBS).json()["loadbalancers"] == []


def test_an_availability_zone_name_must_be_addressable(api: Any) -> None:
    """An AZ named "" (or "a/b") was created and could never be shown, updated or deleted."""
    profile = api.post("/v2/lbaas/availabilityzoneprofiles", json={"availability_zone_profile": {
        "name": "p", "provider_name": "noop_driver", "availability_zone_data": "{}"}}).json()
    profile_id = profile["availability_zone_profile"]["id"]
    for name in ("", "a/b", "/", "00000000-0000-0000-0000-000000000000"):
        resp = api.post("/v2/lbaas/availabilityzones", json={"availability_zone": {
            "name": name, "availability_zone_profile_id": profile_id}})
        assert resp.status_code == 400, (name, resp.text)
        assert resp.json()["faultstring"] == (
            "Validation failure: An availability zone name must be non-empty, must not contain '/' and "
            "must not be the nil UUID.")
    assert api.get("/v2/lbaas/availabilityzones").json()["availability_zones"] == []
    resp = api.post("/v2/lbaas/availabilityzones", json={"availability_zone": {
        "name": "a b?#%", "availability_zone_profile_id": profile_id}})
    assert resp.status_code == 201
    assert api.delete("/v2/lbaas/availabilityzones/a%20b%3F%23%25").status_code == 204
