"""Flavors API: unique names, existing profiles, reserved nil id, in-use delete, RBAC."""

from __future__ import annotations

import uuid

import pytest

from octavia.api import policy

FLAVORS = "/v2/lbaas/flavors"
NIL = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def profile(api):
    resp = api.post("/v2/lbaas/flavorprofiles", json={"flavorprofile": {
        "name": "fp", "provider_name": "noop_driver", "flavor_data": '{"amp_image_tag": "t"}'}})
    assert resp.status_code == 201, resp.text
    return resp.json()["flavorprofile"]["id"]


def _create(api, profile, **fields):
    body = {"name": "small", "flavor_profile_id": profile, **fields}
    resp = api.post(FLAVORS, json={"flavor": body})
    assert resp.status_code == 201, resp.text
    return resp.json()["flavor"]


def test_create_show_list(api, profile):
    flavor = _create(api, profile, description="tiny")
    assert set(flavor) == {"id", "name", "description", "enabled", "flavor_profile_id"}
    assert flavor["enabled"] is True and flavor["description"] == "tiny"
    assert api.get(f"{FLAVORS}/{flavor['id']}").json()["flavor"] == flavor
    body = api.get(FLAVORS).json()
    assert body["flavors"] == [flavor] and body["flavors_links"] == []
    assert api.get(f"/v2.0/lbaas/flavors/{flavor['id']}").status_code == 200
    assert api.get(f"{FLAVORS}/{flavor['id']}", params={"fields": ["id", "enabled"]}).json()["flavor"] == {
        "id": flavor["id"], "enabled": True}
    nameless = _create(api, profile, name="other")
    assert nameless["description"] == ""


def test_list_filters_sort_pagination(api, profile):
    a = _create(api, profile, name="a", enabled=False)
    b = _create(api, profile, name="b")
    assert [f["id"] for f in api.get(FLAVORS, params={"enabled": "false"}).json()["flavors"]] == [a["id"]]
    assert [f["id"] for f in api.get(FLAVORS, params={"name": "b"}).json()["flavors"]] == [b["id"]]
    assert [f["id"] for f in api.get(FLAVORS, params={"sort": "name:desc"}).json()["flavors"]] == [
        b["id"], a["id"]]
    page = api.get(FLAVORS, params={"limit": 1}).json()
    assert [f["id"] for f in page["flavors"]] == [a["id"]]
    nxt = api.get(FLAVORS + "?" + page["flavors_links"][0]["href"].split("?", 1)[1]).json()
    assert [f["id"] for f in nxt["flavors"]] == [b["id"]]
    assert api.get(FLAVORS, params={"provider": "x"}).status_code == 400
    assert api.get(FLAVORS, params={"sort": "size"}).status_code == 400


def test_duplicate_name_409(api, profile):
    _create(api, profile)
    resp = api.post(FLAVORS, json={"flavor": {"name": "small", "flavor_profile_id": profile}})
    assert resp.status_code == 409
    assert resp.json()["faultstring"] == "A flavor of small already exists."
    other = _create(api, profile, name="big")
    resp = api.put(f"{FLAVORS}/{other['id']}", json={"flavor": {"name": "small"}})
    assert resp.status_code == 409
    assert api.get(f"{FLAVORS}/{other['id']}").json()["flavor"]["name"] == "big"


def test_profile_must_exist_400(api, profile):
    missing = str(uuid.uuid4())
    for profile_id in (missing, NIL):
        resp = api.post(FLAVORS, json={"flavor": {"name": "x", "flavor_profile_id": profile_id}})
        assert resp.status_code == 400
        assert resp.json()["faultstring"] == f"{profile_id} is not a valid option for flavor_profile_id"


MISSING = "Value: 'None'. Mandatory field missing."


@pytest.mark.parametrize("body,fault", [
    ({"flavor_profile_id": "P"}, f"Invalid input for field/attribute name. {MISSING}"),
    ({"name": "x"}, f"Invalid input for field/attribute flavor_profile_id. {MISSING}"),
    ({"name": "x", "flavor_profile_id": "not-a-uuid"},
     "Invalid input for field/attribute flavor_profile_id. Value: 'not-a-uuid'. Value should be UUID format"),
    ({"name": "n" * 256, "flavor_profile_id": "P"},
     "Invalid input for field/attribute name. Value: '" + "n" * 256
     + "'. Value should have a maximum character requirement of 255"),
    ({"name": "x", "flavor_profile_id": "P", "enabled": "maybe"},
     "Invalid input for field/attribute enabled. Value: 'maybe'. Value should be a boolean"),
])
def test_schema_errors_400(api, profile, body, fault):
    if body.get("flavor_profile_id") == "P":
        body["flavor_profile_id"] = profile
    resp = api.post(FLAVORS, json={"flavor": body})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == fault


def test_update_only_name_description_enabled(api, profile):
    flavor = _create(api, profile)
    resp = api.put(f"{FLAVORS}/{flavor['id']}", json={"flavor": {"description": "d", "enabled": "false"}})
    assert resp.status_code == 200
    assert resp.json()["flavor"]["description"] == "d" and resp.json()["flavor"]["enabled"] is False
    resp = api.put(f"{FLAVORS}/{flavor['id']}", json={"flavor": {"flavor_profile_id": profile}})
    assert resp.status_code == 400
    assert "Unknown attribute for argument flavor: flavor_profile_id" in resp.json()["faultstring"]
    resp = api.put(f"{FLAVORS}/{flavor['id']}", json={"flavor": {"description": None}})
    assert resp.status_code == 200 and resp.json()["flavor"]["description"] == ""
    for field in ("name", "enabled"):
        resp = api.put(f"{FLAVORS}/{flavor['id']}", json={"flavor": {field: None}})
        assert resp.status_code == 400
        assert resp.json()["faultstring"] == f"None is not a valid option for {field}"


def test_404_and_reserved_nil(api, profile):
    missing = str(uuid.uuid4())
    resp = api.get(f"{FLAVORS}/{missing}")
    assert resp.status_code == 404 and resp.json()["faultstring"] == f"Flavor {missing} not found."
    for method in ("get", "delete"):
        assert getattr(api, method)(f"{FLAVORS}/{NIL}").status_code == 404
    assert api.put(f"{FLAVORS}/{NIL}", json={"flavor": {"name": "x"}}).status_code == 404
    assert api.put(f"{FLAVORS}/{missing}", json={"flavor": {"name": "x"}}).status_code == 404


def test_delete_in_use_409_until_lb_deleted(api, profile):
    flavor = _create(api, profile)
    lb = api.create_lb(flavor_id=flavor["id"])
    assert lb["flavor_id"] == flavor["id"]
    resp = api.delete(f"{FLAVORS}/{flavor['id']}")
    assert resp.status_code == 409
    assert resp.json()["faultstring"] == f"Flavor {flavor['id']} is in use and cannot be modified."
    assert api.delete(f"/v2/lbaas/loadbalancers/{lb['id']}").status_code == 204
    api.wait_for(f"/v2/lbaas/loadbalancers/{lb['id']}", "loadbalancer", status="DELETED")
    resp = api.delete(f"{FLAVORS}/{flavor['id']}")
    assert resp.status_code == 204 and resp.content == b""
    assert api.get(f"{FLAVORS}/{flavor['id']}").status_code == 404


def test_rbac_everyone_reads_admin_writes(api, profile, overrides):
    flavor = _create(api, profile)
    overrides(group="api_settings", auth_strategy="testing")
    policy.reset()
    reader = {"X-Project-Id": "p1", "X-Roles": "reader"}
    member = {"X-Project-Id": "p1", "X-Roles": "member,reader"}
    admin = {"X-Project-Id": "p1", "X-Roles": "admin"}
    nobody = {"X-Project-Id": "p1", "X-Roles": "custom"}
    assert api.get(FLAVORS, headers=reader).status_code == 200
    assert api.get(f"{FLAVORS}/{flavor['id']}", headers=member).status_code == 200
    assert api.get(FLAVORS, headers=nobody).status_code == 403
    body = {"flavor": {"name": "x", "flavor_profile_id": profile}}
    assert api.post(FLAVORS, json=body, headers=member).status_code == 403
    rename = {"flavor": {"name": "y"}}
    assert api.put(f"{FLAVORS}/{flavor['id']}", json=rename, headers=member).status_code == 403
    assert api.delete(f"{FLAVORS}/{flavor['id']}", headers=member).status_code == 403
    assert api.post(FLAVORS, json=body, headers=admin).status_code == 201
