"""Input no database column can hold is a 4xx, never a 500 (first found by fuzzing PostgreSQL).

PostgreSQL refuses NUL characters in text and integers beyond a column's range, where
SQLite stores or compares them silently; both passes of the functional suite run this.
"""

from __future__ import annotations

from typing import Any

import pytest

from octavia.api.middleware import NUL_IN_QUERY

LBS = "/v2/lbaas/loadbalancers"
NUL_FIELD = "Value should not contain a NUL character"


@pytest.mark.parametrize("spec, attribute", [
    ({"name": "a\x00b"}, "name"),
    ({"description": "\x00"}, "description"),
    ({"tags": ["ok", "t\x00"]}, "tags"),
])
def test_nul_in_a_create_body(api: Any, spec: dict[str, Any], attribute: str) -> None:
    resp = api.post(LBS, json={"loadbalancer": {"vip_subnet_id": "e3b8b7a2-8f0e-4f3c-9a55-0f1e2d3c4b5a",
                                                **spec}})
    assert resp.status_code == 400
    fault = resp.json()["faultstring"]
    assert fault.startswith(f"Invalid input for field/attribute {attribute}.") and fault.endswith(NUL_FIELD)
    assert api.get(LBS).json()["loadbalancers"] == []


def test_nul_in_update_bodies(api: Any) -> None:
    lb = api.create_lb()
    resp = api.put(f"{LBS}/{lb['id']}", json={"loadbalancer": {"name": "x\x00"}})
    assert resp.status_code == 400 and resp.json()["faultstring"].endswith(NUL_FIELD)
    resp = api.post("/v2/lbaas/listeners", json={"listener": {
        "loadbalancer_id": lb["id"], "protocol": "HTTP", "protocol_port": 80,
        "insert_headers": {"X-Forwarded-For\x00": "true"}}})
    assert resp.status_code == 400 and resp.json()["faultstring"].endswith(NUL_FIELD)
    assert api.wait_lb(lb["id"])["name"] == lb["name"]


@pytest.mark.parametrize("path", [
    f"{LBS}/%00", f"{LBS}/a%00b/stats", "/v2/lbaas/quotas/%00", "/v2/lbaas/availabilityzones/%00",
    "/v2/lbaas/l7policies/%00/rules",
])
def test_nul_in_a_path_finds_nothing(api: Any, path: str) -> None:
    for method in ("GET", "PUT", "DELETE"):
        resp = api.request(method, path, json={"quota": {"pool": 1}} if method == "PUT" else None)
        assert resp.status_code in (404, 405), (method, resp.text)
        if resp.status_code == 404:
            assert resp.json()["faultstring"] == "The resource could not be found."


@pytest.mark.parametrize("query", ["name=%00", "marker=%00", "fields=id%00", "sort=name%00", "%00=1",
                                   "tags=a,%00"])
def test_nul_in_a_query_is_refused(api: Any, query: str) -> None:
    resp = api.get(f"{LBS}?{query}")
    assert resp.status_code == 400 and resp.json()["faultstring"] == NUL_IN_QUERY


def test_percent_zero_zero_as_text_is_not_a_nul(api: Any) -> None:
    api.create_lb(name="100%00")
    found = api.get(f"{LBS}?name=100%2500").json()["loadbalancers"]
    assert [lb["name"] for lb in found] == ["100%00"]


@pytest.mark.parametrize("query", ["protocol_port=2147483648", "protocol_port=-2147483649",
                                   "connection_limit=99999999999999999999"])
def test_integer_filters_beyond_the_column_range(api: Any, query: str) -> None:
    resp = api.get(f"/v2/lbaas/listeners?{query}")
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == "One or more arguments are either duplicate or invalid"


def test_integer_filters_at_the_column_range(api: Any) -> None:
    for value in (2147483647, -2147483648):
        resp = api.get(f"/v2/lbaas/listeners?protocol_port={value}")
        assert resp.status_code == 200 and resp.json()["listeners"] == []
