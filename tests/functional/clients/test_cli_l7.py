"""`openstack loadbalancer l7policy|l7rule` through their whole lifecycle."""

from __future__ import annotations

import pytest

from tests.functional.clients.conftest import PROJECT, SUBNET

pytestmark = pytest.mark.clients


def test_l7_policies_and_rules(cli, http, name):
    lb = cli.json("create", "--name", name, "--project", PROJECT, "--vip-subnet-id", SUBNET,
                  "--wait")
    listener = cli.json("listener create", "--protocol", "HTTP", "--protocol-port", "80",
                        "--wait", lb["id"])
    pool = cli.json("pool create", "--protocol", "HTTP", "--lb-algorithm", "ROUND_ROBIN",
                    "--loadbalancer", lb["id"], "--wait")

    to_pool = cli.json(
        "l7policy create", "--name", name, "--description", "api", "--action", "REDIRECT_TO_POOL",
        "--redirect-pool", pool["id"], "--tag", "l7", "--wait", listener["id"],
    )
    assert to_pool["provisioning_status"] == "ACTIVE" and to_pool["redirect_pool_id"] == pool["id"]
    assert to_pool["position"] == 1 and to_pool["listener_id"] == listener["id"]
    reject = cli.json("l7policy create", "--action", "REJECT", "--position", "1", "--wait",
                      listener["id"])
    # Inserting at position 1 pushes the first policy down.
    rows = cli.json("l7policy list", "--listener", listener["id"])
    positions = {row["id"]: row["position"] for row in rows}
    assert positions == {reject["id"]: 1, to_pool["id"]: 2}
    assert [row["id"] for row in cli.json("l7policy list", "--tags", "l7")] == [to_pool["id"]]
    assert cli.json("l7policy show", name)["description"] == "api"

    cli.ok("l7policy set", "--action", "REDIRECT_TO_URL", "--redirect-url",
           "http://example.com/", "--redirect-http-code", "301", "--position", "1", "--wait", to_pool["id"])
    shown = cli.json("l7policy show", to_pool["id"])
    assert (shown["action"], shown["redirect_url"], shown["redirect_http_code"]) == (
        "REDIRECT_TO_URL", "http://example.com/", 301)
    assert shown["redirect_pool_id"] is None and shown["position"] == 1
    assert cli.json("l7policy show", reject["id"])["position"] == 2

    cli.ok("l7policy unset", "--redirect-http-code", "--description", "--name", "--tag", "l7",
           "--wait", to_pool["id"])
    shown = cli.json("l7policy show", to_pool["id"])
    assert shown["redirect_http_code"] is None and shown["description"] == "" and shown["name"] == ""
    assert shown["tags"] == []

    header = cli.json(
        "l7rule create", "--compare-type", "EQUAL_TO", "--type", "HEADER", "--key", "X-Tenant", "--value",
        "blue", "--invert", "--tag", "r", "--wait", to_pool["id"],
    )
    assert header["provisioning_status"] == "ACTIVE" and header["invert"] is True
    assert (header["type"], header["key"], header["value"], header["compare_type"]) == (
        "HEADER", "X-Tenant", "blue", "EQUAL_TO")
    path = cli.json("l7rule create", "--compare-type", "STARTS_WITH", "--type", "PATH",
                    "--value", "/api", "--wait", to_pool["id"])
    rows = cli.json("l7rule list", to_pool["id"])
    assert sorted(row["id"] for row in rows) == sorted([header["id"], path["id"]])
    assert [row["id"] for row in cli.json("l7rule list", "--tags", "r", to_pool["id"])] == [
        header["id"]
    ]
    assert cli.json("l7rule show", to_pool["id"], header["id"])["value"] == "blue"

    cli.ok("l7rule set", "--compare-type", "REGEX", "--value", "^red$", "--disable", "--wait",
           to_pool["id"], header["id"])
    shown = cli.json("l7rule show", to_pool["id"], header["id"])
    assert (shown["compare_type"], shown["value"], shown["admin_state_up"]) == ("REGEX", "^red$", False)

    cli.ok("l7rule unset", "--invert", "--tag", "r", "--wait", to_pool["id"], header["id"])
    shown = cli.json("l7rule show", to_pool["id"], header["id"])
    assert shown["invert"] is False and shown["tags"] == [] and shown["key"] == "X-Tenant"
    # A HEADER rule needs its key: unsetting it is refused with the server's reason.
    assert "key" in cli.fails("l7rule unset", "--key", to_pool["id"], header["id"]).lower()

    cli.ok("l7rule delete", "--wait", to_pool["id"], path["id"])
    assert http.status(f"/v2/lbaas/l7policies/{to_pool['id']}/rules/{path['id']}") == 404
    cli.ok("l7policy delete", "--wait", to_pool["id"])
    assert http.status(f"/v2/lbaas/l7policies/{to_pool['id']}") == 404
    assert http.status(f"/v2/lbaas/l7policies/{to_pool['id']}/rules/{header['id']}") == 404
    assert cli.json("l7policy show", reject["id"])["position"] == 1
    cli.ok("delete", "--cascade", "--wait", lb["id"])
