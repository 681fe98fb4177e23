"""Flavor profiles API: JSON metadata validated by the provider, in-use rules, admin only."""

from __future__ import annotations

import json
import uuid

import pytest

from octavia.api import policy

FPS = "/v2/lbaas/flavorprofiles"
NIL = "00000000-0000-0000-0000-000000000000"


def _create(api, name="fp", provider="noop_driver", data='{"amp_image_tag": "x"}'):
    body = {"name": name, "provider_name": provider, "flavor_data": data}
    resp = api.post(FPS, json={"flavorprofile": body})
    assert resp.status_code == 201, resp.text
    return resp.json()["flavorprofile"]


def _flavor(api, profile_id, name="f"):
    resp = api.post("/v2/lbaas/flavors", json={"flavor": {"name": name, "flavor_profile_id": profile_id}})
    assert resp.status_code == 201, resp.text
    return resp.json()["flavor"]


def test_create_show_list(api):
    fp = _create(api)
    assert set(fp) == {"id", "name", "provider_name", "flavor_data"}
    assert fp["provider_name"] == "noop_driver" and json.loads(fp["flavor_data"]) == {"amp_image_tag": "x"}
    assert api.get(f"{FPS}/{fp['id']}").json()["flavorprofile"] == fp
    body = api.get(FPS).json()
    assert body["flavorprofiles"] == [fp]
    assert body["flavorprofile_links"] == []
    assert api.get(f"/v2.0/lbaas/flavorprofiles/{fp['id']}").status_code == 200
    assert api.get(f"{FPS}/{fp['id']}", params={"fields": "name"}).json() == {"flavorprofile": {"name": "fp"}}


def test_list_filters_sort_pagination(api):
    a = _create(api, name="a")
    b = _create(api, name="b", data="{}")
    assert [p["id"] for p in api.get(FPS, params={"name": "b"}).json()["flavorprofiles"]] == [b["id"]]
    assert [p["id"] for p in api.get(FPS, params={"sort": "name:desc"}).json()["flavorprofiles"]] == [
        b["id"], a["id"]]
    page = api.get(FPS, params={"limit": 1}).json()
    assert [p["id"] for p in page["flavorprofiles"]] == [a["id"]]
    assert page["flavorprofile_links"][0]["rel"] == "next"
    assert api.get(FPS, params={"flavor_profile_id": "x"}).status_code == 400


@pytest.mark.parametrize("data", ["{bad json", "[1, 2]", '"text"', "7"])
def test_flavor_data_must_be_a_json_object(api, data):
    body = {"name": "x", "provider_name": "noop_driver", "flavor_data": data}
    resp = api.post(FPS, json={"flavorprofile": body})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == f"{data} is not a valid option for flavor_data"


def test_flavor_data_too_long(api):
    data = json.dumps({"amp_image_tag": "x" * 4096})
    body = {"name": "x", "provider_name": "noop_driver", "flavor_data": data}
    resp = api.post(FPS, json={"flavorprofile": body})
    assert resp.status_code == 400
    assert resp.json()["faultstring"].endswith("Value should have a maximum character requirement of 4096")


@pytest.mark.parametrize("missing", ["name", "provider_name", "flavor_data"])
def test_mandatory_fields(api, missing):
    body = {"name": "x", "provider_name": "noop_driver", "flavor_data": "{}"}
    del body[missing]
    resp = api.post(FPS, json={"flavorprofile": body})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == (
        f"Invalid input for field/attribute {missing}. Value: 'None'. Mandatory field missing.")


def test_unknown_attribute_and_name_too_long(api):
    resp = api.post(FPS, json={"flavorprofile": {"name": "x", "provider_name": "noop_driver",
                                                 "flavor_data": "{}", "id": str(uuid.uuid4())}})
    assert resp.status_code == 400 and "Unknown attribute" in resp.json()["faultstring"]
    resp = api.post(FPS, json={"flavorprofile": {"name": "n" * 256, "provider_name": "noop_driver",
                                                 "flavor_data": "{}"}})
    assert resp.status_code == 400
    assert "maximum character requirement of 255" in resp.json()["faultstring"]


def test_provider_must_be_enabled(api):
    resp = api.post(FPS, json={"flavorprofile": {"name": "x", "provider_name": "bogus", "flavor_data": "{}"}})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == "Provider 'bogus' is not enabled."
    assert api.get(FPS).json()["flavorprofiles"] == []


def test_provider_rejects_metadata_501(api):
    resp = api.post(FPS, json={"flavorprofile": {"name": "x", "provider_name": "noop_driver",
                                                 "flavor_data": '{"loadbalancer_topology": "SINGLE"}'}})
    assert resp.status_code == 501
    assert resp.json()["faultstring"].startswith(
        "Provider 'noop_driver' does not support a requested option: ")
    assert api.get(FPS).json()["flavorprofiles"] == []


def test_show_update_delete_404_and_nil(api):
    missing = str(uuid.uuid4())
    assert api.get(f"{FPS}/{missing}").json()["faultstring"] == f"Flavor profile {missing} not found."
    assert api.put(f"{FPS}/{missing}", json={"flavorprofile": {"name": "y"}}).status_code == 404
    assert api.delete(f"{FPS}/{missing}").status_code == 404
    assert api.get(f"{FPS}/{NIL}").status_code == 404


def test_update(api):
    fp = _create(api)
    resp = api.put(f"{FPS}/{fp['id']}", json={"flavorprofile": {"name": "renamed", "flavor_data": "{}"}})
    assert resp.status_code == 200
    assert resp.json()["flavorprofile"]["name"] == "renamed"
    assert resp.json()["flavorprofile"]["flavor_data"] == "{}"
    resp = api.put(f"{FPS}/{fp['id']}", json={"flavorprofile": {"flavor_data": '{"nope": 1}'}})
    assert resp.status_code == 501
    resp = api.put(f"{FPS}/{fp['id']}", json={"flavorprofile": {"provider_name": "bogus"}})
    assert resp.status_code == 400
    assert api.get(f"{FPS}/{fp['id']}").json()["flavorprofile"]["flavor_data"] == "{}"


@pytest.mark.parametrize("field", ["name", "provider_name", "flavor_data"])
def test_update_null_is_400(api, field):
    fp = _create(api)
    resp = api.put(f"{FPS}/{fp['id']}", json={"flavorprofile": {field: None}})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == f"None is not a valid option for {field}"


def test_in_use_rules(api):
    fp = _create(api)
    _flavor(api, fp["id"])
    for change in ({"flavor_data": "{}"}, {"provider_name": "noop_driver"}):
        resp = api.put(f"{FPS}/{fp['id']}", json={"flavorprofile": change})
        assert resp.status_code == 409
        assert resp.json()["faultstring"] == f"Flavor profile {fp['id']} is in use and cannot be modified."
    assert api.put(f"{FPS}/{fp['id']}", json={"flavorprofile": {"name": "ok"}}).status_code == 200
    resp = api.delete(f"{FPS}/{fp['id']}")
    assert resp.status_code == 409
    assert resp.json()["faultstring"] == f"Flavor profile {fp['id']} is in use and cannot be modified."


def test_delete(api):
    fp = _create(api)
    resp = api.delete(f"{FPS}/{fp['id']}")
    assert resp.status_code == 204 and resp.content == b""
    assert api.get(f"{FPS}/{fp['id']}").status_code == 404


def test_admin_only(api, overrides):
    fp = _create(api)
    overrides(group="api_settings", auth_strategy="testing")
    policy.reset()
    member = {"X-Project-Id": "p1", "X-Roles": "member,reader"}
    admin = {"X-Project-Id": "p1", "X-Roles": "admin"}
    assert api.get(FPS, headers=member).status_code == 403
    assert api.get(f"{FPS}/{fp['id']}", headers=member).status_code == 403
    body = {"flavorprofile": {"name": "x", "provider_name": "noop_driver", "flavor_data": "{}"}}
    assert api.post(FPS, json=body, headers=member).status_code == 403
    rename = {"flavorprofile": {"name": "z"}}
    assert api.put(f"{FPS}/{fp['id']}", json=rename, headers=member).status_code == 403
    assert api.delete(f"{FPS}/{fp['id']}", headers=member).status_code == 403
    assert api.get(FPS, headers=admin).status_code == 200
    assert api.post(FPS, json=body, headers=admin).status_code == 201
    policy.reset()
