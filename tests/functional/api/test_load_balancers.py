"""Load balancer API against a real database and the noop provider."""

from __future__ import annotations

import uuid

import pytest

LBS = "/v2/lbaas/loadbalancers"


def test_version_document_lists_current_v2_30(api):
    resp = api.get("/")
    assert resp.status_code == 200
    versions = resp.json()["versions"]
    current = [v for v in versions if v["status"] == "CURRENT"]
    assert [v["id"] for v in current] == ["v2.30"]
    assert versions[0]["links"][0]["href"].endswith("/v2")
    assert api.get("/v2").json() == "v2"
    assert api.get("/v2.0").json() == "v2"


def test_create_show_and_reach_active(api):
    subnet = str(uuid.uuid4())
    body = {"vip_subnet_id": subnet, "name": "web", "tags": ["a", "b", "a"]}
    resp = api.post(LBS, json={"loadbalancer": body})
    assert resp.status_code == 201, resp.text
    assert resp.headers["x-openstack-request-id"].startswith("req-")
    lb = resp.json()["loadbalancer"]
    assert lb["provisioning_status"] == "PENDING_CREATE"
    assert lb["operating_status"] == "OFFLINE"
    assert lb["vip_subnet_id"] == subnet
    assert lb["vip_address"]
    assert lb["tenant_id"] == lb["project_id"] == api.headers["X-Project-Id"]
    assert lb["tags"] == ["a", "b"]
    assert lb["provider"] == "noop_driver"
    active = api.wait_lb(lb["id"])
    assert active["updated_at"] is not None
    assert active["description"] == ""
    assert active["listeners"] == [] and active["pools"] == []


def test_v2_0_alias_and_json_suffix(api):
    lb = api.create_lb(name="alias")
    assert api.get(f"/v2.0/lbaas/loadbalancers/{lb['id']}").json()["loadbalancer"]["name"] == "alias"
    listed = api.get("/v2/lbaas/loadbalancers.json").json()["loadbalancers"]
    assert [x["id"] for x in listed] == [lb["id"]]


def test_update_locks_then_unlocks(api):
    lb = api.create_lb()
    resp = api.put(f"{LBS}/{lb['id']}", json={"loadbalancer": {"name": "new", "admin_state_up": None}})
    assert resp.status_code == 200, resp.text
    body = resp.json()["loadbalancer"]
    assert body["name"] == "new" and body["admin_state_up"] is False
    assert body["provisioning_status"] == "PENDING_UPDATE"
    again = api.put(f"{LBS}/{lb['id']}", json={"loadbalancer": {"name": "x"}})
    if again.status_code == 409:
        assert again.json()["faultstring"].startswith("Invalid state PENDING_UPDATE")
    assert api.wait_lb(lb["id"])["name"] in ("new", "x")


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"vip_subnet_id": "nope"}, "Value should be UUID format"),
        ({}, "VIP must contain one of"),
        ({"vip_subnet_id": str(uuid.uuid4()), "bogus": 1},
         "Unknown attribute for argument loadbalancer: bogus"),
        ({"vip_subnet_id": str(uuid.uuid4()), "name": "x" * 256}, "maximum character requirement of 255"),
        ({"vip_subnet_id": str(uuid.uuid4()), "vip_address": "300.1.1.1"}, "IPv4 or IPv6"),
        ({"vip_subnet_id": str(uuid.uuid4()), "provider": "nosuch"}, "Provider 'nosuch' is not enabled."),
        ({"vip_subnet_id": str(uuid.uuid4()), "flavor_id": str(uuid.uuid4())}, "Invalid flavor_id."),
        ({"vip_subnet_id": str(uuid.uuid4()), "availability_zone": "nowhere"}, "Invalid availability zone."),
        ({"vip_subnet_id": str(uuid.uuid4()), "admin_state_up": "maybe"}, "admin_state_up"),
    ],
)
def test_create_rejects_bad_input(api, body, fragment):
    resp = api.post(LBS, json={"loadbalancer": body})
    assert resp.status_code == 400, resp.text
    fault = resp.json()
    assert fault["faultcode"] == "Client"
    assert fragment in fault["faultstring"]
    assert api.get(LBS).json()["loadbalancers"] == []


def test_unwrapped_body_and_immutable_field_rejected(api):
    assert api.post(LBS, json={"vip_subnet_id": str(uuid.uuid4())}).status_code == 400
    lb = api.create_lb()
    resp = api.put(f"{LBS}/{lb['id']}", json={"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}})
    assert resp.status_code == 400
    assert api.get(f"{LBS}/{lb['id']}").json()["loadbalancer"]["provisioning_status"] == "ACTIVE"


def test_missing_project_is_400(api):
    resp = api.post(LBS, json={"loadbalancer": {"vip_subnet_id": str(uuid.uuid4())}},
                    headers={"X-Project-Id": ""})
    assert resp.status_code == 400
    assert "Missing project ID" in resp.json()["faultstring"]


def test_not_found_wrong_method_accept_and_size(api):
    missing = str(uuid.uuid4())
    resp = api.get(f"{LBS}/{missing}")
    assert resp.status_code == 404
    assert resp.json()["faultstring"] == f"Load Balancer {missing} not found."
    assert api.request("PATCH", LBS).status_code == 405
    assert api.get(LBS, headers={"Accept": "text/html"}).status_code == 406
    big = {"loadbalancer": {"vip_subnet_id": str(uuid.uuid4()), "description": "x" * 200000}}
    assert api.post(LBS, json=big).status_code == 413


def test_list_filters_sort_pagination_fields(api):
    made = [api.create_lb(name=f"lb{i}", tags=["even" if i % 2 == 0 else "odd"]) for i in range(5)]
    names = [x["name"] for x in api.get(LBS, params={"sort": "name:desc"}).json()["loadbalancers"]]
    assert names == ["lb4", "lb3", "lb2", "lb1", "lb0"]
    assert [x["id"] for x in api.get(LBS, params={"name": "lb3"}).json()["loadbalancers"]] == [made[3]["id"]]
    assert len(api.get(LBS, params={"tags": "even"}).json()["loadbalancers"]) == 3
    assert len(api.get(LBS, params={"not-tags": "even"}).json()["loadbalancers"]) == 2
    page = api.get(LBS, params={"limit": 2}).json()
    assert [x["id"] for x in page["loadbalancers"]] == [m["id"] for m in made[:2]]
    nxt = [link for link in page["loadbalancers_links"] if link["rel"] == "next"][0]["href"]
    page2 = api.get(nxt.split("testserver", 1)[1]).json()
    assert [x["id"] for x in page2["loadbalancers"]] == [m["id"] for m in made[2:4]]
    assert {link["rel"] for link in page2["loadbalancers_links"]} == {"next", "previous"}
    prev = [link for link in page2["loadbalancers_links"] if link["rel"] == "previous"][0]["href"]
    back = api.get(prev.split("testserver", 1)[1]).json()
    assert [x["id"] for x in back["loadbalancers"]] == [m["id"] for m in made[:2]]
    only = api.get(LBS, params=[("fields", "id"), ("fields", "name")]).json()["loadbalancers"]
    assert all(set(x) == {"id", "name"} for x in only)
    assert api.get(LBS, params={"bogus": "1"}).status_code == 400
    assert api.get(LBS, params={"sort": "bogus"}).status_code == 400
    assert api.get(LBS, params={"marker": str(uuid.uuid4())}).status_code == 400
    assert api.get(LBS, params={"limit": "x"}).status_code == 400


def test_delete_then_404(api):
    lb = api.create_lb()
    assert api.delete(f"{LBS}/{lb['id']}").status_code == 204
    api.wait_for(f"{LBS}/{lb['id']}", "loadbalancer", status="DELETED")
    assert api.get(f"{LBS}/{lb['id']}").status_code == 404
    assert api.get(LBS).json()["loadbalancers"] == []


def test_stats_status_and_failover(api):
    lb = api.create_lb(name="tree")
    stats = api.get(f"{LBS}/{lb['id']}/stats").json()["stats"]
    assert stats == {"bytes_in": 0, "bytes_out": 0, "active_connections": 0, "total_connections": 0,
                     "request_errors": 0}
    tree = api.get(f"{LBS}/{lb['id']}/status").json()["statuses"]["loadbalancer"]
    assert tree["name"] == "tree" and tree["listeners"] == []
    assert api.put(f"{LBS}/{lb['id']}/failover").status_code == 202
    api.wait_lb(lb["id"])


def test_fully_populated_create_checks_nested_member_subnets(api, overrides):
    overrides(group="controller_worker", network_driver="network_local_driver")
    subnet = api.get("/v2.0/subnets").json()["subnets"][0]["id"]
    missing = str(uuid.uuid4())
    pool = {"name": "p", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
            "members": [{"address": "192.0.2.10", "protocol_port": 80, "subnet_id": missing}]}
    resp = api.post(LBS, json={"loadbalancer": {"vip_subnet_id": subnet, "pools": [pool]}})
    assert resp.status_code == 400, resp.text
    assert resp.json()["faultstring"] == f"Subnet {missing} not found."
    assert api.get(LBS).json()["loadbalancers"] == []
