"""Members API (+ batch update) against a real database and the noop provider."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from octavia.api import policy
from octavia.db import models
from octavia.db.api import session_scope

LBS = "/v2/lbaas/loadbalancers"


def make_pool(api: Any, protocol: str = "HTTP", **lb_fields: Any) -> tuple[dict, dict, dict]:
    """An ACTIVE LB with a listener whose default pool is an ACTIVE pool."""
    lb = api.create_lb(**lb_fields)
    listener_protocol = {"UDP": "UDP", "SCTP": "SCTP"}.get(protocol, "HTTP")
    resp = api.post(
        "/v2/lbaas/listeners",
        json={"listener": {"loadbalancer_id": lb["id"], "protocol": listener_protocol, "protocol_port": 80}},
    )
    assert resp.status_code == 201, resp.text
    listener = resp.json()["listener"]
    api.wait_lb(lb["id"])
    resp = api.post(
        "/v2/lbaas/pools",
        json={"pool": {"listener_id": listener["id"], "protocol": protocol, "lb_algorithm": "ROUND_ROBIN"}},
    )
    assert resp.status_code == 201, resp.text
    pool = resp.json()["pool"]
    api.wait_lb(lb["id"])
    return lb, listener, api.wait_for(f"/v2/lbaas/pools/{pool['id']}", "pool")


def members_url(pool: dict) -> str:
    return f"/v2/lbaas/pools/{pool['id']}/members"


def add_member(api: Any, pool: dict, lb: dict, **fields: Any) -> dict:
    body = {"address": "192.0.2.10", "protocol_port": 80, **fields}
    resp = api.post(members_url(pool), json={"member": body})
    assert resp.status_code == 201, resp.text
    member = resp.json()["member"]
    api.wait_lb(lb["id"])
    return api.wait_for(f"{members_url(pool)}/{member['id']}", "member")


def status_of(api: Any, path: str, key: str) -> str:
    return api.get(path).json()[key]["provisioning_status"]


def assert_untouched(api: Any, lb: dict, pool: dict) -> None:
    """After a refused request nothing changed: the LB and the pool are still ACTIVE."""
    assert status_of(api, f"{LBS}/{lb['id']}", "loadbalancer") == "ACTIVE"
    assert status_of(api, f"/v2/lbaas/pools/{pool['id']}", "pool") == "ACTIVE"


@pytest.fixture
def tree(api: Any) -> tuple[dict, dict, dict]:
    return make_pool(api)


def test_create_show_list_and_become_active(api, tree):
    lb, listener, pool = tree
    resp = api.post(
        members_url(pool),
        json={
            "member": {
                "address": "192.0.2.10",
                "protocol_port": "8080",
                "name": "web1",
                "tags": ["t", "t"],
                "monitor_address": "192.0.2.11",
                "monitor_port": 9000,
                "backup": True,
                "subnet_id": str(uuid.uuid4()),
                "project_id": "ignored",
            }
        },
    )
    assert resp.status_code == 201, resp.text
    member = resp.json()["member"]
    assert member["provisioning_status"] == "PENDING_CREATE"
    assert member["operating_status"] == "NO_MONITOR"
    assert member["protocol_port"] == 8080 and member["weight"] == 1 and member["backup"] is True
    assert member["project_id"] == member["tenant_id"] == lb["project_id"]
    assert member["vnic_type"] == "normal" and member["tags"] == ["t"]
    assert "pool_id" not in member and "description" not in member
    active = api.wait_for(f"{members_url(pool)}/{member['id']}", "member")
    assert active["operating_status"] == "NO_MONITOR" and active["updated_at"] is not None
    assert api.wait_lb(lb["id"])["provisioning_status"] == "ACTIVE"
    listed = api.get(members_url(pool)).json()
    assert [m["id"] for m in listed["members"]] == [member["id"]] and listed["members_links"] == []
    alias = api.get(f"/v2.0/lbaas/pools/{pool['id']}/members/{member['id']}")
    assert alias.json()["member"]["name"] == "web1"
    pool_view = api.get(f"/v2/lbaas/pools/{pool['id']}").json()["pool"]
    assert pool_view["members"] == [{"id": member["id"]}]


def test_member_offline_when_pool_has_monitor(api, tree):
    lb, _, pool = tree
    resp = api.post(
        "/v2/lbaas/healthmonitors",
        json={
            "healthmonitor": {
                "pool_id": pool["id"],
                "type": "TCP",
                "delay": 1,
                "timeout": 1,
                "max_retries": 1,
            }
        },
    )
    assert resp.status_code == 201, resp.text
    api.wait_lb(lb["id"])
    api.wait_for(f"/v2/lbaas/pools/{pool['id']}", "pool")
    resp = api.post(members_url(pool), json={"member": {"address": "192.0.2.7", "protocol_port": 80}})
    assert resp.json()["member"]["operating_status"] == "OFFLINE"


def test_create_locks_lb_listener_and_pool(api, tree, driver_agent):
    lb, listener, pool = tree
    driver_agent.stop()  # nothing completes: the statuses the API wrote stay visible
    resp = api.post(members_url(pool), json={"member": {"address": "192.0.2.10", "protocol_port": 80}})
    assert resp.status_code == 201
    assert status_of(api, f"{LBS}/{lb['id']}", "loadbalancer") == "PENDING_UPDATE"
    assert status_of(api, f"/v2/lbaas/listeners/{listener['id']}", "listener") == "PENDING_UPDATE"
    assert status_of(api, f"/v2/lbaas/pools/{pool['id']}", "pool") == "PENDING_UPDATE"
    again = api.post(members_url(pool), json={"member": {"address": "192.0.2.11", "protocol_port": 80}})
    assert again.status_code == 409
    assert again.json()["faultstring"] == f"Pool {pool['id']} is immutable and cannot be updated."
    assert len(api.get(members_url(pool)).json()["members"]) == 1


def test_pending_load_balancer_refuses_member_writes(api, tree, driver_agent):
    lb, _, pool = tree
    member = add_member(api, pool, lb)
    driver_agent.stop()
    assert api.put(f"{LBS}/{lb['id']}", json={"loadbalancer": {"name": "busy"}}).status_code == 200
    expected = f"Load Balancer {lb['id']} is immutable and cannot be updated."
    for resp in (
        api.post(members_url(pool), json={"member": {"address": "192.0.2.99", "protocol_port": 80}}),
        api.put(f"{members_url(pool)}/{member['id']}", json={"member": {"weight": 3}}),
        api.delete(f"{members_url(pool)}/{member['id']}"),
        api.put(members_url(pool), json={"members": []}),
    ):
        assert resp.status_code == 409, resp.text
        assert resp.json()["faultstring"] == expected
    # Rolled back: the pool was not left PENDING_UPDATE and the member is unchanged.
    assert status_of(api, f"/v2/lbaas/pools/{pool['id']}", "pool") == "ACTIVE"
    assert api.get(f"{members_url(pool)}/{member['id']}").json()["member"]["weight"] == 1


@pytest.mark.parametrize(
    "body, fault",
    [
        (
            {"protocol_port": 80},
            "Invalid input for field/attribute address. Value: 'None'. Mandatory field missing.",
        ),
        (
            {"address": "192.0.2.1"},
            "Invalid input for field/attribute protocol_port. Value: 'None'. Mandatory field missing.",
        ),
        (
            {"address": "not-an-ip", "protocol_port": 80},
            "Invalid input for field/attribute address. Value: 'not-an-ip'. "
            "Value should be IPv4 or IPv6 format",
        ),
        (
            {"address": "169.254.169.254", "protocol_port": 80},
            "169.254.169.254 is not a valid option for member address",
        ),
        (
            {"address": "192.0.2.1", "protocol_port": 0},
            "Invalid input for field/attribute protocol_port. Value: '0'. "
            "Value should be greater or equal to 1",
        ),
        (
            {"address": "192.0.2.1", "protocol_port": 65536},
            "Invalid input for field/attribute protocol_port. Value: '65536'. "
            "Value should be lower or equal to 65535",
        ),
        (
            {"address": "192.0.2.1", "protocol_port": 80, "weight": 257},
            "Invalid input for field/attribute weight. Value: '257'. Value should be lower or equal to 256",
        ),
        (
            {"address": "192.0.2.1", "protocol_port": 80, "weight": -1},
            "Invalid input for field/attribute weight. Value: '-1'. Value should be greater or equal to 0",
        ),
        (
            {"address": "192.0.2.1", "protocol_port": 80, "monitor_port": 0},
            "Invalid input for field/attribute monitor_port. Value: '0'. "
            "Value should be greater or equal to 1",
        ),
        (
            {"address": "192.0.2.1", "protocol_port": 80, "monitor_address": "x"},
            "Invalid input for field/attribute monitor_address. Value: 'x'. "
            "Value should be IPv4 or IPv6 format",
        ),
        (
            {"address": "192.0.2.1", "protocol_port": 80, "subnet_id": "x"},
            "Invalid input for field/attribute subnet_id. Value: 'x'. Value should be UUID format",
        ),
        (
            {"address": "192.0.2.1", "protocol_port": 80, "name": "n" * 256},
            "Invalid input for field/attribute name. Value: '" + "n" * 256 + "'. "
            "Value should have a maximum character requirement of 255",
        ),
        (
            {"address": "192.0.2.1", "protocol_port": 80, "description": "d"},
            "Unknown attribute for argument member: description",
        ),
        (
            {"address": "192.0.2.1", "protocol_port": 80, "admin_state_up": "maybe"},
            "Invalid input for field/attribute admin_state_up. Value: 'maybe'. Value should be a boolean",
        ),
        (
            {"address": "192.0.2.1", "protocol_port": 80, "request_sriov": True},
            "The load balancer flavor does not allow SR-IOV member ports.",
        ),
    ],
)
def test_create_rejects_bad_input(api, tree, body, fault):
    lb, _, pool = tree
    resp = api.post(members_url(pool), json={"member": body})
    assert resp.status_code == 400, resp.text
    assert resp.json()["faultcode"] == "Client"
    assert fault in resp.json()["faultstring"]
    assert api.get(members_url(pool)).json()["members"] == []
    assert_untouched(api, lb, pool)


def test_reserved_addresses_compare_in_exploded_form(api, tree, overrides):
    lb, _, pool = tree
    overrides(group="networking", reserved_ips=["fe80::1", "198.51.100.5"])
    resp = api.post(members_url(pool), json={"member": {"address": "FE80:0:0::0001", "protocol_port": 80}})
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == "fe80::1 is not a valid option for member address"
    # The default reserved address is allowed once the configuration no longer lists it.
    add_member(api, pool, lb, address="169.254.169.254")


def test_subnet_must_exist_in_the_network_service(api, tree, overrides):
    lb, _, pool = tree
    overrides(group="controller_worker", network_driver="network_local_driver")
    subnet = str(uuid.uuid4())
    resp = api.post(
        members_url(pool), json={"member": {"address": "192.0.2.1", "protocol_port": 80, "subnet_id": subnet}}
    )
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == f"Subnet {subnet} not found."
    batch = api.put(
        members_url(pool),
        json={"members": [{"address": "192.0.2.1", "protocol_port": 80, "subnet_id": subnet}]},
    )
    assert batch.status_code == 400
    assert_untouched(api, lb, pool)


def test_sriov_member_needs_flavor_permission(api):
    with session_scope(write=True) as session:
        profile = models.FlavorProfile(
            name="sriov", provider_name="noop_driver", flavor_data='{"allow_member_sriov": true}'
        )
        session.add(profile)
        session.flush()
        flavor = models.Flavor(name=f"sriov-{uuid.uuid4()}", flavor_profile_id=profile.id, enabled=True)
        session.add(flavor)
        session.flush()
        flavor_id = flavor.id
    lb, _, pool = make_pool(api, flavor_id=flavor_id)
    member = add_member(api, pool, lb, request_sriov=True)
    assert member["vnic_type"] == "direct"
    resp = api.put(f"{members_url(pool)}/{member['id']}", json={"member": {"request_sriov": False}})
    assert resp.status_code == 400
    assert "Unknown attribute for argument member: request_sriov" in resp.json()["faultstring"]


def test_duplicate_address_and_port_is_409(api, tree):
    lb, _, pool = tree
    add_member(api, pool, lb, address="192.0.2.1", protocol_port=80)
    resp = api.post(members_url(pool), json={"member": {"address": "192.0.2.1", "protocol_port": 80}})
    assert resp.status_code == 409
    assert resp.json()["faultstring"] == (
        "Another member on this pool is already using ip 192.0.2.1 on protocol_port 80"
    )
    assert_untouched(api, lb, pool)
    add_member(api, pool, lb, address="192.0.2.1", protocol_port=81)


def test_not_found_cases(api, tree):
    lb, _, pool = tree
    other_lb, _, other_pool = make_pool(api)
    member = add_member(api, other_pool, other_lb)
    missing = str(uuid.uuid4())
    resp = api.get(f"/v2/lbaas/pools/{missing}/members")
    assert resp.status_code == 404 and resp.json()["faultstring"] == f"Pool {missing} not found."
    body = {"member": {"address": "192.0.2.1", "protocol_port": 80}}
    assert api.post(f"/v2/lbaas/pools/{missing}/members", json=body).status_code == 404
    assert api.put(f"/v2/lbaas/pools/{missing}/members", json={"members": []}).status_code == 404
    # A member of another pool is not found through this pool.
    for resp in (
        api.get(f"{members_url(pool)}/{member['id']}"),
        api.put(f"{members_url(pool)}/{member['id']}", json={"member": {"weight": 2}}),
        api.delete(f"{members_url(pool)}/{member['id']}"),
    ):
        assert resp.status_code == 404
        assert resp.json()["faultstring"] == f"Member {member['id']} not found."
    assert api.get(f"{members_url(pool)}/{missing}").status_code == 404
    assert_untouched(api, lb, pool)


def test_update_and_null_resets(api, tree):
    lb, listener, pool = tree
    member = add_member(api, pool, lb, name="a", weight=5, backup=True, monitor_port=81, tags=["x"])
    url = f"{members_url(pool)}/{member['id']}"
    resp = api.put(
        url,
        json={
            "member": {
                "name": "b",
                "weight": "7",
                "admin_state_up": False,
                "monitor_address": "192.0.2.50",
                "tags": ["y", "z"],
            }
        },
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()["member"]
    assert body["provisioning_status"] == "PENDING_UPDATE"
    assert (body["name"], body["weight"], body["admin_state_up"]) == ("b", 7, False)
    assert body["monitor_address"] == "192.0.2.50" and body["tags"] == ["y", "z"]
    api.wait_lb(lb["id"])
    api.wait_for(url, "member")
    resp = api.put(
        url,
        json={
            "member": {
                "name": None,
                "weight": None,
                "backup": None,
                "admin_state_up": None,
                "monitor_address": None,
                "monitor_port": None,
                "tags": None,
            }
        },
    )
    body = resp.json()["member"]
    assert (body["name"], body["weight"], body["backup"], body["admin_state_up"]) == ("", 1, False, False)
    assert body["monitor_address"] is None and body["monitor_port"] is None
    assert body["tags"] == ["y", "z"]
    api.wait_lb(lb["id"])
    assert api.wait_for(url, "member")["weight"] == 1


@pytest.mark.parametrize(
    "field, value",
    [
        ("address", "192.0.2.99"),
        ("protocol_port", 81),
        ("subnet_id", "6c8f3c52-4f3e-4a53-9a8e-0d1f7b6b2a10"),
        ("request_sriov", True),
        ("project_id", "p"),
    ],
)
def test_update_refuses_immutable_fields(api, tree, field, value):
    lb, _, pool = tree
    member = add_member(api, pool, lb)
    resp = api.put(f"{members_url(pool)}/{member['id']}", json={"member": {field: value}})
    assert resp.status_code == 400
    assert f"Unknown attribute for argument member: {field}" in resp.json()["faultstring"]
    assert_untouched(api, lb, pool)


def test_delete(api, tree):
    lb, _, pool = tree
    member = add_member(api, pool, lb)
    url = f"{members_url(pool)}/{member['id']}"
    assert api.delete(url).status_code == 204
    api.wait_for(url, "member", status="DELETED")
    assert api.get(members_url(pool)).json()["members"] == []
    assert api.wait_lb(lb["id"])["provisioning_status"] == "ACTIVE"


def test_delete_marks_pending_delete(api, tree, driver_agent):
    lb, _, pool = tree
    member = add_member(api, pool, lb)
    driver_agent.stop()
    url = f"{members_url(pool)}/{member['id']}"
    assert api.delete(url).status_code == 204
    assert status_of(api, url, "member") == "PENDING_DELETE"
    assert status_of(api, f"/v2/lbaas/pools/{pool['id']}", "pool") == "PENDING_UPDATE"


def test_filters_sorting_pagination_fields(api, tree):
    lb, _, pool = tree
    made = [
        add_member(
            api,
            pool,
            lb,
            address=f"192.0.2.{i}",
            protocol_port=80 + i,
            weight=i,
            tags=["even" if i % 2 == 0 else "odd"],
        )
        for i in (1, 2, 3)
    ]
    url = members_url(pool)
    only = api.get(url, params={"address": "192.0.2.2"}).json()["members"]
    assert [m["id"] for m in only] == [made[1]["id"]]
    assert [m["id"] for m in api.get(url, params={"weight": "3"}).json()["members"]] == [made[2]["id"]]
    assert [m["id"] for m in api.get(url, params={"tags": "odd"}).json()["members"]] == [
        made[0]["id"],
        made[2]["id"],
    ]
    ports = [
        m["protocol_port"] for m in api.get(url, params={"sort": "protocol_port:desc"}).json()["members"]
    ]
    assert ports == [83, 82, 81]
    page = api.get(url, params={"limit": 2, "sort": "protocol_port"}).json()
    assert [m["protocol_port"] for m in page["members"]] == [81, 82]
    (link,) = page["members_links"]
    assert link["rel"] == "next" and f"marker={made[1]['id']}" in link["href"]
    rest = api.get(url, params={"limit": 2, "sort": "protocol_port", "marker": made[1]["id"]}).json()
    assert [m["protocol_port"] for m in rest["members"]] == [83]
    fields = api.get(url, params=[("fields", "id"), ("fields", "address")]).json()["members"]
    assert all(set(m) == {"id", "address"} for m in fields)
    one = api.get(f"{url}/{made[0]['id']}", params=[("fields", "weight")]).json()["member"]
    assert one == {"weight": 1}
    for bad in ({"pool_id": pool["id"]}, {"bogus": "1"}):
        resp = api.get(url, params=bad)
        assert resp.status_code == 400
        assert resp.json()["faultstring"] == "One or more arguments are either duplicate or invalid"
    assert api.get(url, params={"sort": "nope"}).status_code == 400
    assert api.get(url, params={"marker": str(uuid.uuid4())}).status_code == 400


def _batch(api, pool, members, **params):
    return api.put(members_url(pool), json={"members": members}, params=params)


def test_batch_replaces_members(api, tree):
    lb, _, pool = tree
    a = add_member(api, pool, lb, address="192.0.2.1", name="a")
    b = add_member(api, pool, lb, address="192.0.2.2", name="b", weight=5, backup=True, tags=["keep"])
    resp = _batch(
        api,
        pool,
        [
            {"address": "192.0.2.2", "protocol_port": 80, "monitor_port": 99},
            {"address": "192.0.2.3", "protocol_port": 80, "name": "c"},
        ],
    )
    assert resp.status_code == 202 and resp.content == b""
    api.wait_for(f"{members_url(pool)}/{a['id']}", "member", status="DELETED")
    api.wait_lb(lb["id"])
    members = {m["address"]: m for m in api.get(members_url(pool)).json()["members"]}
    assert set(members) == {"192.0.2.2", "192.0.2.3"}
    updated = members["192.0.2.2"]
    assert updated["id"] == b["id"] and updated["name"] == "b" and updated["tags"] == ["keep"]
    # Omitted fields with POST defaults revert to them.
    assert (updated["weight"], updated["backup"], updated["monitor_port"]) == (1, False, 99)
    assert members["192.0.2.3"]["name"] == "c"
    assert all(m["provisioning_status"] == "ACTIVE" for m in members.values())


def test_batch_statuses_while_pending(api, tree, driver_agent):
    lb, listener, pool = tree
    a = add_member(api, pool, lb, address="192.0.2.1")
    b = add_member(api, pool, lb, address="192.0.2.2")
    driver_agent.stop()
    resp = _batch(
        api,
        pool,
        [{"address": "192.0.2.2", "protocol_port": 80}, {"address": "192.0.2.3", "protocol_port": 80}],
    )
    assert resp.status_code == 202
    statuses = {m["id"]: m["provisioning_status"] for m in api.get(members_url(pool)).json()["members"]}
    new_id = next(i for i in statuses if i not in (a["id"], b["id"]))
    assert statuses == {a["id"]: "PENDING_DELETE", b["id"]: "PENDING_UPDATE", new_id: "PENDING_CREATE"}
    assert status_of(api, f"{LBS}/{lb['id']}", "loadbalancer") == "PENDING_UPDATE"
    assert status_of(api, f"/v2/lbaas/listeners/{listener['id']}", "listener") == "PENDING_UPDATE"
    again = _batch(api, pool, [])
    assert again.status_code == 409
    assert again.json()["faultstring"] == f"Pool {pool['id']} is immutable and cannot be updated."


def test_batch_additive_only_keeps_unlisted_members(api, tree):
    lb, _, pool = tree
    a = add_member(api, pool, lb, address="192.0.2.1")
    resp = _batch(api, pool, [{"address": "192.0.2.2", "protocol_port": 80}], additive_only="true")
    assert resp.status_code == 202
    api.wait_lb(lb["id"])
    members = api.get(members_url(pool)).json()["members"]
    assert sorted(m["address"] for m in members) == ["192.0.2.1", "192.0.2.2"]
    assert all(m["provisioning_status"] == "ACTIVE" for m in members)
    assert api.get(f"{members_url(pool)}/{a['id']}").status_code == 200


def test_batch_noop_does_not_lock(api, tree, driver_agent):
    lb, _, pool = tree
    driver_agent.stop()
    assert _batch(api, pool, []).status_code == 202
    assert _batch(api, pool, [], additive_only="True").status_code == 202
    assert_untouched(api, lb, pool)


def test_batch_rejects_bad_requests(api, tree):
    lb, _, pool = tree
    add_member(api, pool, lb, address="192.0.2.1")
    twice = _batch(
        api,
        pool,
        [
            {"address": "192.0.2.1", "protocol_port": 80},
            {"address": "192.0.2.1", "protocol_port": 80, "weight": 3},
        ],
    )
    assert twice.status_code == 400
    assert twice.json()["faultstring"] == "Member must be updated only once in the same request."
    reserved = _batch(api, pool, [{"address": "169.254.169.254", "protocol_port": 80}])
    assert reserved.status_code == 400
    assert reserved.json()["faultstring"] == "169.254.169.254 is not a valid option for member address"
    new_twice = _batch(
        api,
        pool,
        [{"address": "192.0.2.9", "protocol_port": 80}, {"address": "192.0.2.9", "protocol_port": 80}],
    )
    assert new_twice.status_code == 409
    unknown = api.put(
        members_url(pool), json={"members": [{"address": "192.0.2.5", "protocol_port": 80, "bogus": 1}]}
    )
    assert unknown.status_code == 400
    assert api.put(members_url(pool), json={"member": []}).status_code == 400
    assert_untouched(api, lb, pool)
    assert [m["address"] for m in api.get(members_url(pool)).json()["members"]] == ["192.0.2.1"]


@pytest.fixture
def testing_auth(api, overrides):
    """Identity from the headers; the client's default caller is a member of the owner project."""
    overrides(group="api_settings", auth_strategy="testing")
    policy.reset()
    api.headers = _as(api.headers["X-Project-Id"], "member", "reader")
    yield
    policy.reset()


def _as(project: str, *roles: str) -> dict[str, str]:
    return {"X-Project-Id": project, "X-Roles": ",".join(roles)}


def test_rbac(api, tree, testing_auth):
    lb, _, pool = tree
    owner = lb["project_id"]
    other = uuid.uuid4().hex
    body = {"member": {"address": "192.0.2.1", "protocol_port": 80}}
    forbidden = "Policy does not allow this request to be performed."
    for headers in (_as(owner, "reader"), _as(other, "member"), _as(owner), _as(owner, "service")):
        resp = api.post(members_url(pool), json=body, headers=headers)
        assert resp.status_code == 403 and resp.json()["faultstring"] == forbidden
    created = api.post(members_url(pool), json=body, headers=_as(owner, "member"))
    assert created.status_code == 201, created.text
    member_url = f"{members_url(pool)}/{created.json()['member']['id']}"
    assert api.get(members_url(pool), headers=_as(owner, "reader")).status_code == 200
    assert api.get(members_url(pool), headers=_as(other, "service")).status_code == 200
    assert api.get(members_url(pool), headers=_as(other, "member")).status_code == 403
    assert api.get(member_url, headers=_as(other, "reader")).status_code == 403
    assert api.get(member_url, headers=_as(other, "admin")).status_code == 200
    assert api.delete(member_url, headers=_as(owner, "reader")).status_code == 403
    batch = {"members": [{"address": "192.0.2.1", "protocol_port": 80}]}
    assert api.put(members_url(pool), json=batch, headers=_as(owner, "reader")).status_code == 403
    assert api.put(members_url(pool), json=batch, headers=_as(other, "member")).status_code == 403


def test_quota(api, tree, testing_auth):
    lb, _, pool = tree
    owner = lb["project_id"]
    admin = _as(uuid.uuid4().hex, "admin")
    assert (
        api.put(f"/v2/lbaas/quotas/{owner}", json={"quota": {"member": 1}}, headers=admin).status_code == 202
    )
    member = _as(owner, "member")
    ok = api.post(
        members_url(pool), json={"member": {"address": "192.0.2.1", "protocol_port": 80}}, headers=member
    )
    assert ok.status_code == 201
    api.wait_lb(lb["id"])
    resp = api.post(
        members_url(pool), json={"member": {"address": "192.0.2.2", "protocol_port": 80}}, headers=member
    )
    assert resp.status_code == 403
    assert resp.json()["faultstring"] == "Quota has been met for resources: Member"
    batch = api.put(
        members_url(pool),
        json={
            "members": [
                {"address": "192.0.2.1", "protocol_port": 80},
                {"address": "192.0.2.3", "protocol_port": 80},
            ]
        },
        headers=member,
    )
    assert batch.status_code == 403
    # Replacing one member with another is no net increase.
    swap = api.put(
        members_url(pool), json={"members": [{"address": "192.0.2.3", "protocol_port": 80}]}, headers=member
    )
    assert swap.status_code == 202
