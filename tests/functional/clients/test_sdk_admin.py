"""openstacksdk's `conn.load_balancer`: quotas, providers, flavors, availability zones, amphorae."""

from __future__ import annotations

import pytest
from openstack import exceptions as sdk_exceptions

from tests.functional.clients.conftest import PROJECT, SUBNET, force_amphora_status

pytestmark = pytest.mark.clients

FAST = {"interval": 0.05, "wait": 30}


def test_quotas(sdk, name):
    lbs = sdk.load_balancer
    defaults = lbs.get_quota_default()
    assert (defaults.load_balancers, defaults.listeners, defaults.members) == (-1, -1, -1)

    quota = lbs.update_quota(name, load_balancers=4, listeners=6, pools=8, members=10, health_monitors=12)
    assert (quota.load_balancers, quota.listeners, quota.pools) == (4, 6, 8)
    shown = lbs.get_quota(name)
    assert (shown.members, shown.health_monitors, shown.project_id) == (10, 12, name)
    assert [q.project_id for q in lbs.quotas(project_id=name)] == [name]
    assert name in {q.project_id for q in lbs.quotas()}

    lbs.update_quota(name, load_balancers=None)
    assert lbs.get_quota(name).load_balancers == -1 and lbs.get_quota(name).listeners == 6
    lbs.delete_quota(name)
    assert lbs.get_quota(name).listeners == -1
    with pytest.raises(sdk_exceptions.BadRequestException, match="quota|Invalid input"):
        lbs.update_quota(name, load_balancers=-5)


def test_providers_and_capabilities(sdk):
    lbs = sdk.load_balancer
    providers = {p.name: p.description for p in lbs.providers()}
    assert {"amphora", "noop_driver"} <= set(providers)
    caps = {c.name: c.description for c in lbs.provider_flavor_capabilities("noop_driver")}
    assert caps == {"amp_image_tag": "The glance image tag to use for this load balancer."}
    assert "loadbalancer_topology" in {c.name for c in lbs.provider_flavor_capabilities("amphora")}


def test_flavors_and_zones(sdk, http, name):
    lbs = sdk.load_balancer
    fp = lbs.create_flavor_profile(name=name, provider_name="noop_driver",
                                   flavor_data='{"amp_image_tag": "t"}')
    assert lbs.find_flavor_profile(name).id == fp.id
    assert [p.id for p in lbs.flavor_profiles(name=name)] == [fp.id]
    lbs.update_flavor_profile(fp.id, flavor_data='{"amp_image_tag": "u"}')
    assert lbs.get_flavor_profile(fp.id).flavor_data == '{"amp_image_tag": "u"}'

    flavor = lbs.create_flavor(name=name, flavor_profile_id=fp.id, description="d", is_enabled=True)
    assert lbs.find_flavor(name).id == flavor.id
    assert [f.id for f in lbs.flavors(name=name, is_enabled=True)] == [flavor.id]
    lbs.update_flavor(flavor.id, description="e")
    assert lbs.get_flavor(flavor.id).description == "e"

    azp = lbs.create_availability_zone_profile(name=name, provider_name="noop_driver",
                                               availability_zone_data='{"compute_zone": "z"}')
    assert lbs.find_availability_zone_profile(name).id == azp.id
    assert [p.id for p in lbs.availability_zone_profiles(provider_name="noop_driver", name=name)] == [azp.id]
    lbs.update_availability_zone_profile(azp.id, name=name + "-p")
    assert lbs.get_availability_zone_profile(azp.id).name == name + "-p"

    zone = lbs.create_availability_zone(name=name, availability_zone_profile_id=azp.id, description="z1")
    assert zone.is_enabled is True
    assert lbs.find_availability_zone(name).availability_zone_profile_id == azp.id
    assert [z.name for z in lbs.availability_zones(name=name)] == [name]
    lbs.update_availability_zone(name, is_enabled=False)
    assert lbs.get_availability_zone(name).is_enabled is False
    lbs.update_availability_zone(name, is_enabled=True)

    lb = lbs.create_load_balancer(project_id=PROJECT, vip_subnet_id=SUBNET, flavor_id=flavor.id,
                                  availability_zone=name)
    lb = lbs.wait_for_load_balancer(lb.id, **FAST)
    assert (lb.flavor_id, lb.availability_zone) == (flavor.id, name)
    assert [x.id for x in lbs.load_balancers(flavor_id=flavor.id, availability_zone=name)] == [lb.id]
    with pytest.raises(sdk_exceptions.ConflictException, match="in use"):
        lbs.delete_flavor(flavor.id)
    lbs.delete_load_balancer(lb.id)
    lbs.wait_for_delete(lb, **FAST)

    lbs.delete_availability_zone(name)
    lbs.delete_availability_zone_profile(azp.id)
    lbs.delete_flavor(flavor.id)
    lbs.delete_flavor_profile(fp.id)
    assert lbs.find_flavor(name) is None and lbs.find_availability_zone(name) is None
    assert http.status(f"/v2/lbaas/flavorprofiles/{fp.id}") == 404
    assert http.status(f"/v2/lbaas/availabilityzoneprofiles/{azp.id}") == 404


def test_amphorae(sdk, http, service, name):
    lbs = sdk.load_balancer
    lb = lbs.create_load_balancer(name=name, project_id=PROJECT, vip_subnet_id=SUBNET, provider="amphora")
    try:
        lbs.wait_for_load_balancer(lb.id, **FAST)
        (amphora,) = lbs.amphorae(loadbalancer_id=lb.id)
        assert amphora.status == "ALLOCATED" and amphora.role == "STANDALONE"
        assert lbs.get_amphora(amphora.id).compute_id == amphora.compute_id
        assert lbs.find_amphora(amphora.id).loadbalancer_id == lb.id
        assert [a.id for a in lbs.amphorae(compute_id=amphora.compute_id, status="ALLOCATED")] == [amphora.id]

        lbs.configure_amphora(amphora.id)
        lbs.wait_for_load_balancer(lb.id, **FAST)
        lbs.failover_amphora(amphora.id)
        lbs.wait_for_load_balancer(lb.id, **FAST)
        (replacement,) = lbs.amphorae(loadbalancer_id=lb.id)
        assert replacement.id != amphora.id
        assert lbs.find_amphora(amphora.id) is None

        # The SDK has no amphora delete; its proxy's REST call reaches the same endpoint the CLI uses.
        refused = lbs.delete(f"/octavia/amphorae/{replacement.id}")
        assert refused.status_code == 409 and "is immutable" in refused.json()["faultstring"]
        force_amphora_status(service, replacement.id, "ERROR")
        assert lbs.delete(f"/octavia/amphorae/{replacement.id}").status_code == 204
        http.wait(f"/v2/octavia/amphorae/{replacement.id}", "amphora", status="DELETED")
    finally:
        lbs.delete_load_balancer(lb.id, cascade=True)
        lbs.wait_for_delete(lb, **FAST)
