"""Validation of status and statistics messages before anything touches the database."""

from __future__ import annotations

from typing import Any

import pytest

from octavia.providers.driver_agent.stats_updates import StatsUpdateError, parse_stats_update
from octavia.providers.driver_agent.status_updates import StatusUpdateError, parse_status_update


def test_records_are_ordered_children_first() -> None:
    payload = {
        "loadbalancers": [{"id": "lb", "provisioning_status": "ACTIVE"}],
        "listeners": [{"id": "l", "provisioning_status": "ACTIVE"}],
        "members": [{"id": "m", "operating_status": "ONLINE"}],
        "pools": [{"id": "p", "provisioning_status": "DELETED"}],
    }
    kinds = [kind for kind, _ in parse_status_update(payload)]
    assert kinds == ["members", "pools", "listeners", "loadbalancers"]


def test_unknown_object_types_are_ignored() -> None:
    assert parse_status_update({"flavors": [{"id": "f"}], "pools": []}) == []


@pytest.mark.parametrize(
    "payload, fault, obj, obj_id",
    [
        ("ACTIVE", "must be a JSON object", None, None),
        ({"pools": {"id": "p"}}, "'pools' must be a list", "pools", None),
        ({"pools": ["p"]}, "status record must be a JSON object", "pools", None),
        ({"members": [{"provisioning_status": "ACTIVE"}]}, "needs a string 'id'", "members", None),
        ({"members": [{"id": 7}]}, "needs a string 'id'", "members", None),
        ({"listeners": [{"id": "l", "provisioning_status": "DONE"}]}, "Invalid provisioning_status 'DONE'",
         "listeners", "l"),
        ({"l7rules": [{"id": "r", "operating_status": "UP"}]}, "Invalid operating_status 'UP'",
         "l7rules", "r"),
    ],
)
def test_malformed_status_messages(payload: Any, fault: str, obj: str | None, obj_id: str | None) -> None:
    with pytest.raises(StatusUpdateError) as err:
        parse_status_update(payload)
    reply = err.value.reply()
    assert reply["status_code"] == 500
    assert fault in reply["fault_string"]
    assert reply.get("status_object") == obj
    assert reply.get("status_object_id") == obj_id


def _stat(**over: Any) -> dict[str, Any]:
    record = {"id": "l", "active_connections": 1, "bytes_in": 2, "bytes_out": 3, "request_errors": 0,
              "total_connections": 9}
    record.update(over)
    return record


def test_good_statistics() -> None:
    assert parse_stats_update({"listeners": [_stat()]}) == [_stat()]
    assert parse_stats_update({}) == []


@pytest.mark.parametrize(
    "payload, fault",
    [
        ([], "must be {'listeners'"),
        ({"listeners": "x"}, "must be {'listeners'"),
        ({"listeners": [{"bytes_in": 1}]}, "string 'id'"),
        ({"listeners": [_stat(bytes_in=-1)]}, "'bytes_in' must be a non-negative integer"),
        ({"listeners": [_stat(total_connections="9")]}, "'total_connections' must be"),
        ({"listeners": [_stat(active_connections=True)]}, "'active_connections' must be"),
        ({"listeners": [{k: v for k, v in _stat().items() if k != "request_errors"}]}, "'request_errors'"),
    ],
)
def test_malformed_statistics(payload: Any, fault: str) -> None:
    with pytest.raises(StatsUpdateError) as err:
        parse_stats_update(payload)
    reply = err.value.reply()
    assert reply["status_code"] == 500 and reply["stats_object"] == "listeners"
    assert fault in reply["fault_string"]
