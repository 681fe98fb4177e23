"""`openstack loadbalancer flavor|flavorprofile|availabilityzone|availabilityzoneprofile|amphora`."""

from __future__ import annotations

import json

import pytest

from tests.functional.clients.conftest import PROJECT, SUBNET, force_amphora_status, send_heartbeat

pytestmark = pytest.mark.clients


def test_flavors_and_flavor_profiles(cli, http, name):
    profile = cli.json("flavorprofile create", "--name", name, "--provider", "noop_driver",
                       "--flavor-data", '{"amp_image_tag": "gold"}')
    assert profile["provider_name"] == "noop_driver"
    assert json.loads(profile["flavor_data"]) == {"amp_image_tag": "gold"}
    assert [row["id"] for row in cli.json("flavorprofile list", "--name", name,
                                          "--provider", "noop_driver")] == [profile["id"]]
    cli.ok("flavorprofile set", "--flavor-data", '{"amp_image_tag": "silver"}', name)
    shown = cli.json("flavorprofile show", profile["id"])
    assert json.loads(shown["flavor_data"]) == {"amp_image_tag": "silver"}
    # Metadata is checked against the provider's flavor schema (upstream answers 501 here).
    error = cli.fails("flavorprofile create", "--name", name + "-bad", "--provider", "noop_driver",
                      "--flavor-data", '{"no_such_key": 1}')
    assert "does not support a requested option" in error and "(HTTP 501)" in error

    flavor = cli.json("flavor create", "--name", name, "--flavorprofile", name,
                      "--description", "gold tier", "--disable")
    assert flavor["flavor_profile_id"] == profile["id"] and flavor["enabled"] is False
    assert [row["id"] for row in cli.json("flavor list", "--name", name, "--disable",
                                          "--flavorprofile", profile["id"])] == [flavor["id"]]
    assert cli.json("flavor list", "--name", name, "--enable") == []
    assert "is not allowed in this deployment" in cli.fails("create", "--project", PROJECT, "--vip-subnet-id",
                                                            SUBNET, "--flavor", flavor["id"])

    cli.ok("flavor set", "--enable", "--description", "now on", name)
    assert cli.json("flavor show", name)["enabled"] is True
    cli.ok("flavor unset", "--description", name)
    assert cli.json("flavor show", flavor["id"])["description"] == ""

    lb = cli.json("create", "--name", name, "--project", PROJECT, "--vip-subnet-id", SUBNET,
                  "--flavor", name, "--wait")
    assert lb["flavor_id"] == flavor["id"]
    assert [row["id"] for row in cli.json("list", "--flavor", flavor["id"])] == [lb["id"]]
    assert "in use" in cli.fails("flavor delete", name)
    cli.ok("delete", "--wait", lb["id"])
    assert "in use" in cli.fails("flavorprofile delete", name)
    cli.ok("flavor delete", name)
    cli.ok("flavorprofile delete", name)
    assert http.status(f"/v2/lbaas/flavors/{flavor['id']}") == 404
    assert http.status(f"/v2/lbaas/flavorprofiles/{profile['id']}") == 404


def test_availability_zones_and_profiles(cli, http, name):
    profile = cli.json("availabilityzoneprofile create", "--name", name, "--provider",
                       "noop_driver", "--availability-zone-data", '{"compute_zone": "az1"}')
    assert profile["provider_name"] == "noop_driver"
    assert json.loads(profile["availability_zone_data"]) == {"compute_zone": "az1"}
    rows = cli.json("availabilityzoneprofile list", "--name", name, "--provider", "noop_driver")
    assert [row["id"] for row in rows] == [profile["id"]]
    cli.ok("availabilityzoneprofile set", "--availability-zone-data",
           '{"compute_zone": "az2", "volume_zone": "v2"}', name)
    shown = cli.json("availabilityzoneprofile show", profile["id"])
    assert json.loads(shown["availability_zone_data"]) == {"compute_zone": "az2", "volume_zone": "v2"}

    zone = cli.json("availabilityzone create", "--name", name, "--availabilityzoneprofile",
                    name, "--description", "rack 1")
    assert zone["availability_zone_profile_id"] == profile["id"] and zone["enabled"] is True
    rows = cli.json("availabilityzone list", "--name", name, "--enable",
                    "--availabilityzoneprofile", profile["id"])
    assert [row["name"] for row in rows] == [name]
    cli.ok("availabilityzone set", "--description", "rack 2", "--disable", name)
    shown = cli.json("availabilityzone show", name)
    assert (shown["description"], shown["enabled"]) == ("rack 2", False)
    assert "is not allowed in this deployment" in cli.fails("create", "--project", PROJECT, "--vip-subnet-id",
                                                            SUBNET, "--availability-zone", name)
    cli.ok("availabilityzone set", "--enable", name)
    cli.ok("availabilityzone unset", "--description", name)
    assert cli.json("availabilityzone show", name)["description"] == ""

    lb = cli.json("create", "--name", name, "--project", PROJECT, "--vip-subnet-id", SUBNET,
                  "--availability-zone", name, "--wait")
    assert lb["availability_zone"] == name
    assert [row["id"] for row in cli.json("list", "--availability-zone", name)] == [lb["id"]]
    assert "in use" in cli.fails("availabilityzone delete", name)
    cli.ok("delete", "--wait", lb["id"])
    cli.ok("availabilityzone delete", name)
    cli.ok("availabilityzoneprofile delete", profile["id"])
    assert http.status(f"/v2/lbaas/availabilityzones/{name}") == 404
    assert http.status(f"/v2/lbaas/availabilityzoneprofiles/{profile['id']}") == 404


def test_amphorae(cli, http, service, name):
    """The amphora provider with noop compute/network/amphora drivers builds real amphora records."""
    lb = cli.json("create", "--name", name, "--project", PROJECT, "--vip-subnet-id", SUBNET,
                  "--provider", "amphora", "--wait")
    try:
        listener = cli.json("listener create", "--protocol", "TCP", "--protocol-port", "22",
                            "--wait", lb["id"])
        (row,) = cli.json("amphora list", "--loadbalancer", lb["id"])
        assert (row["status"], row["role"], row["ha_ip"]) == ("ALLOCATED", "STANDALONE", lb["vip_address"])
        amphora = cli.json("amphora show", row["id"])
        assert amphora["loadbalancer_id"] == lb["id"] and amphora["compute_id"]
        assert [r["id"] for r in cli.json("amphora list", "--role", "STANDALONE", "--status",
                                          "ALLOCATED", "--compute-id", amphora["compute_id"])] == [row["id"]]
        assert cli.json("amphora list", "--loadbalancer", lb["id"], "--status", "ERROR") == []

        # Statistics arrive the way a real amphora sends them: a signed heartbeat to the health manager.
        counters = {"bytes_in": 1200, "bytes_out": 3400, "active_connections": 2, "total_connections": 9}
        send_heartbeat(service, row["id"], {listener["id"]: counters})
        stats = http.wait_for_value(f"/v2/lbaas/listeners/{listener['id']}/stats", "stats", "bytes_in", 1200)
        assert stats["total_connections"] == 9
        amp_stats = cli.json("amphora stats show", row["id"])
        assert {k: amp_stats[k] for k in counters} == counters
        assert cli.json("amphora stats show", "--listener", listener["id"],
                        row["id"])["total_connections"] == 9
        assert cli.json("stats show", lb["id"])["bytes_out"] == 3400
        assert cli.json("listener stats show", listener["id"])["active_connections"] == 2

        cli.ok("amphora configure", "--wait", row["id"])
        cli.ok("amphora failover", "--wait", row["id"])
        (replacement,) = cli.json("amphora list", "--loadbalancer", lb["id"])
        assert replacement["id"] != row["id"] and replacement["status"] == "ALLOCATED"
        assert http.status(f"/v2/octavia/amphorae/{row['id']}") == 404

        # Only an amphora in ERROR may be deleted; the API has no way to put one there.
        assert "is immutable" in cli.fails("amphora delete", replacement["id"])
        force_amphora_status(service, replacement["id"], "ERROR")
        cli.ok("amphora delete", "--wait", replacement["id"])
        assert http.status(f"/v2/octavia/amphorae/{replacement['id']}") == 404
    finally:
        cli.ok("delete", "--cascade", "--wait", lb["id"])
