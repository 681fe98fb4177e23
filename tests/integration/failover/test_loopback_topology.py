"""Loopback mode offers no ACTIVE_STANDBY (keepalived cannot run on `lo`): an LB asking
for it through its flavor is refused at create, and nothing is left behind."""

from __future__ import annotations

import pytest

from tests.integration.active_standby.harness import TunedAllInOne
from tests.integration.e2e.harness import PROJECT

pytestmark = pytest.mark.slow


def test_active_standby_flavor_refused_in_loopback_mode(aio: TunedAllInOne) -> None:
    if aio.mode != "loopback":
        pytest.skip("netns mode builds ACTIVE_STANDBY pairs (tests/integration/active_standby)")
    profile = aio.call("POST", "/v2/lbaas/flavorprofiles", json={"flavorprofile": {
        "name": "ha", "provider_name": "amphora",
        "flavor_data": '{"loadbalancer_topology": "ACTIVE_STANDBY"}'}}).json()["flavorprofile"]
    flavor = aio.call("POST", "/v2/lbaas/flavors", json={"flavor": {
        "name": "ha", "flavor_profile_id": profile["id"]}}).json()["flavor"]
    before = aio.get("/v2/lbaas/loadbalancers", params={"project_id": PROJECT})["loadbalancers"]
    response = aio.http.post("/v2/lbaas/loadbalancers", json={"loadbalancer": {
        "project_id": PROJECT, "vip_subnet_id": aio.vip_subnet()["id"], "flavor_id": flavor["id"]}})
    assert response.status_code == 501, response.text
    assert "ACTIVE_STANDBY" in response.json()["faultstring"]
    after = aio.get("/v2/lbaas/loadbalancers", params={"project_id": PROJECT})["loadbalancers"]
    assert after == before
