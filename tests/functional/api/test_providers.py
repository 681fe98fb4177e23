"""Providers API: enabled drivers, capabilities from the driver, filters and RBAC."""

from __future__ import annotations

from octavia.api import policy

PROVIDERS = "/v2/lbaas/providers"


def test_list_enabled_providers(api, overrides):
    overrides(group="api_settings", enabled_provider_drivers={"noop_driver": "No-op.", "amphora": "Amp."})
    body = api.get(PROVIDERS).json()
    assert body == {"providers": [{"name": "noop_driver", "description": "No-op."},
                                  {"name": "amphora", "description": "Amp."}]}
    assert api.get("/v2.0/lbaas/providers").json() == body


def test_list_honours_fields_and_ignores_other_filters(api, overrides):
    overrides(group="api_settings", enabled_provider_drivers={"noop_driver": "No-op."})
    assert api.get(PROVIDERS, params={"fields": "name"}).json() == {"providers": [{"name": "noop_driver"}]}
    assert api.get(PROVIDERS, params={"name": "other", "bogus": "1"}).json() == {
        "providers": [{"name": "noop_driver", "description": "No-op."}]}


def test_flavor_capabilities_from_driver(api):
    resp = api.get(f"{PROVIDERS}/noop_driver/flavor_capabilities")
    assert resp.status_code == 200
    caps = resp.json()["flavor_capabilities"]
    assert [c["name"] for c in caps] == ["amp_image_tag"]
    assert set(resp.json()) == {"flavor_capabilities"}
    assert api.get(f"{PROVIDERS}/noop_driver/flavor_capabilities",
                   params={"name": "other"}).json() == {"flavor_capabilities": []}
    assert api.get(f"{PROVIDERS}/noop_driver/flavor_capabilities",
                   params={"fields": "name"}).json() == {"flavor_capabilities": [{"name": "amp_image_tag"}]}
    described = api.get(f"{PROVIDERS}/noop_driver/flavor_capabilities",
                        params={"description": caps[0]["description"]}).json()
    assert described == {"flavor_capabilities": caps}


def test_availability_zone_capabilities_from_driver(api):
    caps = api.get(f"{PROVIDERS}/noop_driver/availability_zone_capabilities").json()
    names = sorted(c["name"] for c in caps["availability_zone_capabilities"])
    assert names == ["compute_zone", "volume_zone"]
    one = api.get(f"{PROVIDERS}/noop_driver/availability_zone_capabilities", params={"name": "volume_zone"})
    assert [c["name"] for c in one.json()["availability_zone_capabilities"]] == ["volume_zone"]


def test_provider_not_enabled_400_and_not_loadable_501(api, overrides):
    resp = api.get(f"{PROVIDERS}/bogus/flavor_capabilities")
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == "Provider 'bogus' is not enabled."
    overrides(group="api_settings", enabled_provider_drivers={"ghost": "Not installed."})
    resp = api.get(f"{PROVIDERS}/ghost/availability_zone_capabilities")
    assert resp.status_code == 501
    assert resp.json()["faultstring"] == "Provider 'ghost' was not found."


def test_rbac(api, overrides):
    overrides(group="api_settings", auth_strategy="testing")
    policy.reset()
    reader = {"X-Project-Id": "p1", "X-Roles": "reader"}
    admin = {"X-Project-Id": "p1", "X-Roles": "admin"}
    assert api.get(PROVIDERS, headers=reader).status_code == 200
    assert api.get(PROVIDERS, headers={"X-Project-Id": "p1", "X-Roles": "custom"}).status_code == 403
    for kind in ("flavor_capabilities", "availability_zone_capabilities"):
        assert api.get(f"{PROVIDERS}/noop_driver/{kind}", headers=reader).status_code == 403
        assert api.get(f"{PROVIDERS}/noop_driver/{kind}", headers=admin).status_code == 200
