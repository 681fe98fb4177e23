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
