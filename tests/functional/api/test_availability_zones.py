"""Availability zones API: keyed by name, profile must exist, in-use delete, RBAC."""

from __future__ import annotations

import uuid

import pytest

from octavia.api import policy

AZS = "/v2/lbaas/availabilityzones"
KEY = "availability_zone"


@pytest.fixture
def profile(api):
    resp = api.post("/v2/lbaas/availabilityzoneprofiles", json={"availability_zone_profile": {
        "name": "azp", "provider_name": "noop_driver", "availability_zone_data": '{"compute_zone": "a"}'}})
    assert resp.status_code == 201, resp.text
    return resp.json()["availability_zone_profile"]["id"]


def _create(api, profile, name="zone-a", **fields):
    resp = api.post(AZS, json={KEY: {"name": name, "availability_zone_profile_id": profile, **fields}})
    assert resp.status_code == 201, resp.text
    return resp.json()[KEY]


def test_create_show_list(api, profile):
    az = _create(api, profile, description="first")
    assert az == {"name": "zone-a", "description": "first", "enabled": True,
                  "availability_zone_profile_id": profile}
    assert api.get(f"{AZS}/zone-a").json()[KEY] == az
    body = api.get(AZS).json()
    assert body["availability_zones"] == [az] and body["availability_zones_links"] == []
    assert api.get("/v2.0/lbaas/availabilityzones/zone-a").status_code == 200
    assert api.get(f"{AZS}/zone-a", params={"fields": "enabled"}).json() == {KEY: {"enabled": True}}


def test_list_filters_sort_pagination(api, profile):
    _create(api, profile, name="b")
    _create(api, profile, name="a", enabled=False)
    _create(api, profile, name="c")

    def names(**params):
        return [z["name"] for z in api.get(AZS, params=params).json()["availability_zones"]]

    assert names(name="c") == ["c"]
    assert names(enabled="False") == ["a"]
    assert names(sort="name:asc") == ["a", "b", "c"]
    assert names() == ["b", "a", "c"]
    page = api.get(AZS, params={"limit": 2, "sort": "name:desc"}).json()
    assert [z["name"] for z in page["availability_zones"]] == ["c", "b"]
    link = page["availability_zones_links"][0]
    assert link["rel"] == "next" and "marker=b" in link["href"]
    nxt = api.get(AZS + "?" + link["href"].split("?", 1)[1]).json()
    assert [z["name"] for z in nxt["availability_zones"]] == ["a"]
    assert api.get(AZS, params={"id": "x"}).status_code == 400
    assert api.get(AZS, params={"marker": "nope"}).status_code == 400


def test_duplicate_name_409(api, profile):
    _create(api, profile)
    resp = api.post(AZS, json={KEY: {"name": "zone-a", "availability_zone_profile_id": profile}})
    assert resp.status_code == 409
    assert resp.json()["faultstring"] == "A availability zone of zone-a already exists."


def test_profile_must_exist_and_schema(api, profile):
    missing = str(uuid.uuid4())
    resp = api.post(AZS, json={KEY: {"name": "z", "availability_zone_profile_id": missing}})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == f"{missing} is not a valid option for availability_zone_profile_id"
    resp = api.post(AZS, json={KEY: {"availability_zone_profile_id": profile}})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == (
        "Invalid input for field/attribute name. Value: 'None'. Mandatory field missing.")
    resp = api.post(AZS, json={KEY: {"name": "z"}})
    assert resp.status_code == 400 and "Mandatory field missing" in resp.json()["faultstring"]
    resp = api.post(AZS, json={KEY: {"name": "z" * 256, "availability_zone_profile_id": profile}})
    assert resp.status_code == 400
    assert "maximum character requirement of 255" in resp.json()["faultstring"]


def test_update_only_description_enabled(api, profile):
    _create(api, profile)
    resp = api.put(f"{AZS}/zone-a", json={KEY: {"description": "d", "enabled": False}})
    assert resp.status_code == 200
    assert resp.json()[KEY]["description"] == "d" and resp.json()[KEY]["enabled"] is False
    for field, value in (("name", "other"), ("availability_zone_profile_id", profile)):
        resp = api.put(f"{AZS}/zone-a", json={KEY: {field: value}})
        assert resp.status_code == 400
        assert f"Unknown attribute for argument availability_zone: {field}" in resp.json()["faultstring"]
    resp = api.put(f"{AZS}/zone-a", json={KEY: {"enabled": None}})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == "None is not a valid option for enabled"
    resp = api.put(f"{AZS}/zone-a", json={KEY: {"description": None}})
    assert resp.json()[KEY]["description"] == ""


def test_404(api, profile):
    resp = api.get(f"{AZS}/nowhere")
    assert resp.status_code == 404
    assert resp.json()["faultstring"] == "Availability Zone nowhere not found."
    assert api.put(f"{AZS}/nowhere", json={KEY: {"description": "x"}}).status_code == 404
    assert api.delete(f"{AZS}/nowhere").status_code == 404


def test_delete_in_use_409_until_lb_deleted(api, profile):
    _create(api, profile)
    lb = api.create_lb(availability_zone="zone-a")
    assert lb["availability_zone"] == "zone-a"
    resp = api.delete(f"{AZS}/zone-a")
    assert resp.status_code == 409
    assert resp.json()["faultstring"] == "Availability Zone zone-a is in use and cannot be modified."
    assert api.delete(f"/v2/lbaas/loadbalancers/{lb['id']}").status_code == 204
    api.wait_for(f"/v2/lbaas/loadbalancers/{lb['id']}", "loadbalancer", status="DELETED")
    assert api.delete(f"{AZS}/zone-a").status_code == 204
    assert api.get(f"{AZS}/zone-a").status_code == 404


def test_rbac(api, profile, overrides):
    _create(api, profile)
    overrides(group="api_settings", auth_strategy="testing")
    policy.reset()
    reader = {"X-Project-Id": "p1", "X-Roles": "reader"}
    member = {"X-Project-Id": "p1", "X-Roles": "member,reader"}
    assert api.get(AZS, headers=reader).status_code == 200
    assert api.get(f"{AZS}/zone-a", headers=reader).status_code == 200
    assert api.get(AZS, headers={"X-Project-Id": "p1", "X-Roles": "custom"}).status_code == 403
    body = {KEY: {"name": "z", "availability_zone_profile_id": profile}}
    assert api.post(AZS, json=body, headers=member).status_code == 403
    assert api.put(f"{AZS}/zone-a", json={KEY: {"enabled": False}}, headers=member).status_code == 403
    assert api.delete(f"{AZS}/zone-a", headers=member).status_code == 403
    assert api.post(AZS, json=body, headers={"X-Project-Id": "p1", "X-Roles": "admin"}).status_code == 201
