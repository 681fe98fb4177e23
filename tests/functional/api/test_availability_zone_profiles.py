"""Availability zone profiles API: same rules as flavor profiles, with the AZ validator."""

from __future__ import annotations

import json
import uuid

import pytest

from octavia.api import policy

AZPS = "/v2/lbaas/availabilityzoneprofiles"
KEY = "availability_zone_profile"


def _create(api, name="azp", provider="noop_driver", data='{"compute_zone": "nova"}'):
    body = {"name": name, "provider_name": provider, "availability_zone_data": data}
    resp = api.post(AZPS, json={KEY: body})
    assert resp.status_code == 201, resp.text
    return resp.json()[KEY]


def _az(api, profile_id, name="az1"):
    resp = api.post("/v2/lbaas/availabilityzones",
                    json={"availability_zone": {"name": name, "availability_zone_profile_id": profile_id}})
    assert resp.status_code == 201, resp.text
    return resp.json()["availability_zone"]


def test_create_show_list(api):
    azp = _create(api)
    assert set(azp) == {"id", "name", "provider_name", "availability_zone_data"}
    assert json.loads(azp["availability_zone_data"]) == {"compute_zone": "nova"}
    assert api.get(f"{AZPS}/{azp['id']}").json()[KEY] == azp
    body = api.get(AZPS).json()
    assert body["availability_zone_profiles"] == [azp]
    assert body["availability_zone_profile_links"] == []
    assert api.get(AZPS, params={"provider_name": "other"}).json()["availability_zone_profiles"] == []
    assert api.get(f"/v2.0/lbaas/availabilityzoneprofiles/{azp['id']}").status_code == 200


@pytest.mark.parametrize("data", ["{", "[]", "null"])
def test_data_must_be_a_json_object(api, data):
    resp = api.post(AZPS, json={KEY: {"name": "x", "provider_name": "noop_driver",
                                      "availability_zone_data": data}})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == f"{data} is not a valid option for availability_zone_data"


def test_data_too_long_and_mandatory(api):
    resp = api.post(AZPS, json={KEY: {"name": "x", "provider_name": "noop_driver",
                                      "availability_zone_data": " " * 4097}})
    assert resp.status_code == 400
    assert "maximum character requirement of 4096" in resp.json()["faultstring"]
    resp = api.post(AZPS, json={KEY: {"name": "x", "provider_name": "noop_driver"}})
    assert resp.status_code == 400
    assert "availability_zone_data. Value: 'None'. Mandatory field missing." in resp.json()["faultstring"]


def test_provider_enabled_and_validates(api):
    resp = api.post(AZPS, json={KEY: {"name": "x", "provider_name": "nope", "availability_zone_data": "{}"}})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == "Provider 'nope' is not enabled."
    resp = api.post(AZPS, json={KEY: {"name": "x", "provider_name": "noop_driver",
                                      "availability_zone_data": '{"valid_vip_networks": []}'}})
    assert resp.status_code == 501
    assert "does not support a requested option" in resp.json()["faultstring"]


def test_update_null_and_404(api):
    azp = _create(api)
    resp = api.put(f"{AZPS}/{azp['id']}", json={KEY: {"availability_zone_data": None}})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == "None is not a valid option for availability_zone_data"
    resp = api.put(f"{AZPS}/{azp['id']}", json={KEY: {"name": "new", "availability_zone_data": "{}"}})
    assert resp.status_code == 200 and resp.json()[KEY]["name"] == "new"
    missing = str(uuid.uuid4())
    resp = api.get(f"{AZPS}/{missing}")
    assert resp.status_code == 404
    assert resp.json()["faultstring"] == f"Availability Zone Profile {missing} not found."
    assert api.delete(f"{AZPS}/{missing}").status_code == 404


def test_in_use_rules(api):
    azp = _create(api)
    az = _az(api, azp["id"])
    message = f"Availability Zone Profile {azp['id']} is in use and cannot be modified."
    resp = api.put(f"{AZPS}/{azp['id']}", json={KEY: {"availability_zone_data": "{}"}})
    assert resp.status_code == 409 and resp.json()["faultstring"] == message
    resp = api.delete(f"{AZPS}/{azp['id']}")
    assert resp.status_code == 409 and resp.json()["faultstring"] == message
    assert api.delete(f"/v2/lbaas/availabilityzones/{az['name']}").status_code == 204
    assert api.delete(f"{AZPS}/{azp['id']}").status_code == 204


def test_admin_only(api, overrides):
    overrides(group="api_settings", auth_strategy="testing")
    policy.reset()
    reader = {"X-Project-Id": "p1", "X-Roles": "reader"}
    assert api.get(AZPS, headers=reader).status_code == 403
    assert api.get(AZPS, headers={"X-Project-Id": "p1", "X-Roles": "admin"}).status_code == 200
