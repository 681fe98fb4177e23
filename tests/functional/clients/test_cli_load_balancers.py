"""`openstack loadbalancer` create/show/list/set/unset/status/stats/failover/delete, quotas, providers."""

from __future__ import annotations

import json

import pytest

from tests.functional.clients.conftest import PROJECT, SUBNET

pytestmark = pytest.mark.clients


def test_load_balancer_lifecycle(cli, http, name):
    lb = cli.json(
        "create", "--name", name, "--description", "first", "--project", PROJECT, "--vip-subnet-id", SUBNET,
        "--tag", "blue", "--tag", "green", "--wait",
    )
    assert lb["provisioning_status"] == "ACTIVE"
    assert lb["project_id"] == PROJECT and lb["vip_subnet_id"] == SUBNET and lb["provider"] == "noop_driver"
    assert lb["description"] == "first" and sorted(lb["tags"]) == ["blue", "green"]
    assert lb["vip_address"] and lb["vip_port_id"] and lb["vip_network_id"]

    shown = cli.json("show", name)
    assert shown["id"] == lb["id"] and shown["admin_state_up"] is True
    assert cli.json("show", lb["id"])["name"] == name

    def listed(*filters: str) -> list[str]:
        return [row["id"] for row in cli.json("list", "--name", name, *filters)]

    assert listed() == [lb["id"]]
    assert listed("--project", PROJECT, "--provisioning-status", "ACTIVE", "--vip-subnet-id", SUBNET) == [
        lb["id"]
    ]
    assert listed("--provider", "noop_driver", "--tags", "blue,green", "--enable") == [lb["id"]]
    assert listed("--disable") == []
    assert listed("--not-tags", "blue") == []
    assert listed("--any-tags", "green,red") == [lb["id"]]
    assert listed("--provider", "amphora") == []

    renamed = name + "-renamed"
    cli.ok("set", "--name", renamed, "--description", "second", "--disable", "--tag", "red",
           "--wait", lb["id"])
    shown = cli.json("show", lb["id"])
    assert (shown["name"], shown["description"], shown["admin_state_up"]) == (renamed, "second", False)
    assert sorted(shown["tags"]) == ["blue", "green", "red"]
    assert shown["provisioning_status"] == "ACTIVE"

    cli.ok("unset", "--description", "--tag", "blue", "--wait", renamed)
    shown = cli.json("show", lb["id"])
    assert shown["description"] == "" and sorted(shown["tags"]) == ["green", "red"]
    cli.ok("set", "--no-tag", "--enable", "--wait", lb["id"])
    shown = cli.json("show", lb["id"])
    assert shown["tags"] == [] and shown["admin_state_up"] is True

    stats = cli.json("stats show", lb["id"])
    assert stats == {"active_connections": 0, "bytes_in": 0, "bytes_out": 0, "request_errors": 0,
                     "total_connections": 0}

    cli.ok("failover", "--wait", lb["id"])
    assert http.get(f"/v2/lbaas/loadbalancers/{lb['id']}")["loadbalancer"]["provisioning_status"] == "ACTIVE"

    cli.ok("delete", "--wait", lb["id"])
    assert http.status(f"/v2/lbaas/loadbalancers/{lb['id']}") == 404
    assert "Unable to locate" in cli.fails("show", lb["id"])


def test_status_tree_and_cascade_delete(cli, http, name):
    lb = cli.json("create", "--name", name, "--project", PROJECT, "--vip-subnet-id", SUBNET,
                  "--wait")
    listener = cli.json("listener create", "--name", name, "--protocol", "HTTP",
                        "--protocol-port", "80", "--wait", lb["id"])
    pool = cli.json("pool create", "--name", name, "--protocol", "HTTP", "--lb-algorithm",
                    "ROUND_ROBIN", "--listener", listener["id"], "--wait")
    member = cli.json("member create", "--address", "192.0.2.10", "--protocol-port", "8080",
                      "--subnet-id", SUBNET, "--wait", pool["id"])

    # `status show` prints the API's JSON tree itself (it has no -f option).
    tree = json.loads(cli.ok("status show", lb["id"]))["loadbalancer"]
    assert tree["id"] == lb["id"] and tree["provisioning_status"] == "ACTIVE"
    (listener_status,) = tree["listeners"]
    assert listener_status["id"] == listener["id"] and listener_status["name"] == name
    (pool_status,) = listener_status["pools"]
    assert pool_status["id"] == pool["id"]
    (member_status,) = pool_status["members"]
    assert member_status["id"] == member["id"] and member_status["address"] == "192.0.2.10"
    assert member_status["protocol_port"] == 8080 and member_status["provisioning_status"] == "ACTIVE"

    # A load balancer with children: plain delete is refused, --cascade removes it all.
    assert "it has children" in cli.fails("delete", lb["id"])
    cli.ok("delete", "--cascade", "--wait", lb["id"])
    for path in (f"/v2/lbaas/loadbalancers/{lb['id']}", f"/v2/lbaas/listeners/{listener['id']}",
                 f"/v2/lbaas/pools/{pool['id']}"):
        assert http.status(path) == 404


def test_quota_commands(cli, name):
    project = name  # The noauth Identity look-up answers any project name.
    defaults = cli.json("quota defaults show")
    assert defaults["load_balancer"] == -1 and defaults["member"] == -1

    quota = cli.json("quota set", "--loadbalancer", "5", "--listener", "7", "--pool", "3",
                     "--member", "50", "--healthmonitor", "2", "--l7policy", "4", "--l7rule", "9", project)
    assert (quota["load_balancer"], quota["listener"], quota["pool"], quota["member"]) == (5, 7, 3, 50)
    assert (quota["health_monitor"], quota["l7policy"], quota["l7rule"]) == (2, 4, 9)
    shown = cli.json("quota show", project)
    assert shown["load_balancer"] == 5 and shown["l7rule"] == 9

    listed = {row["project_id"]: row for row in cli.json("quota list")}
    assert listed[project]["listener"] == 7
    assert [row["project_id"] for row in cli.json("quota list", "--project", project)] == [
        project
    ]

    cli.ok("quota unset", "--loadbalancer", "--member", project)
    shown = cli.json("quota show", project)
    assert shown["load_balancer"] == -1 and shown["member"] == -1 and shown["listener"] == 7

    cli.ok("quota reset", project)
    shown = cli.json("quota show", project)
    assert all(value == -1 for key, value in shown.items() if key != "project_id")
    # The record stays, holding nulls ("use the default").
    (record,) = cli.json("quota list", "--project", project)
    assert record["load_balancer"] is None and record["listener"] is None


def test_provider_commands(cli):
    providers = {row["name"]: row["description"] for row in cli.json("provider list")}
    assert {"amphora", "noop_driver"} <= set(providers)
    assert providers["noop_driver"]

    flavor_caps = cli.json("provider capability list", "noop_driver")
    assert {"name": "amp_image_tag", "type": "flavor",
            "description": "The glance image tag to use for this load balancer."} in flavor_caps
    zone_only = cli.json("provider capability list", "--availability-zone", "noop_driver")
    assert {row["name"] for row in zone_only} == {"compute_zone", "volume_zone"}
    assert {row["type"] for row in zone_only} == {"availability_zone"}
    flavor_only = cli.json("provider capability list", "--flavor", "amphora")
    assert "loadbalancer_topology" in {row["name"] for row in flavor_only}
    assert "is not enabled" in cli.fails("provider capability list", "no-such")
