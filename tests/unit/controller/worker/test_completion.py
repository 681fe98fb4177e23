"""The worker's final status messages for a failed operation and a finished pending one."""

from __future__ import annotations

from octavia.common import constants as c
from octavia.controller.worker import completion

PENDING = {
    "listeners": [("l1", c.PENDING_UPDATE)],
    "pools": [("p1", c.PENDING_UPDATE)],
    "members": [("m-new", c.PENDING_CREATE), ("m-changed", c.PENDING_UPDATE), ("m-gone", c.PENDING_DELETE)],
    "healthmonitors": [],
}


def test_a_failed_operation_leaves_the_lb_and_every_pending_child_in_error() -> None:
    message = completion.load_balancer_error("lb", PENDING)
    assert message == {
        "loadbalancers": [{"id": "lb", "provisioning_status": c.ERROR}],
        "listeners": [{"id": "l1", "provisioning_status": c.ERROR}],
        "pools": [{"id": "p1", "provisioning_status": c.ERROR}],
        "members": [{"id": "m-new", "provisioning_status": c.ERROR},
                    {"id": "m-changed", "provisioning_status": c.ERROR},
                    {"id": "m-gone", "provisioning_status": c.ERROR}],
    }


def test_a_finished_pending_update_settles_each_child_where_its_operation_went() -> None:
    message = completion.pending_done("lb", PENDING)
    assert message == {
        "loadbalancers": [{"id": "lb", "provisioning_status": c.ACTIVE}],
        "listeners": [{"id": "l1", "provisioning_status": c.ACTIVE}],
        "pools": [{"id": "p1", "provisioning_status": c.ACTIVE}],
        "members": [{"id": "m-new", "provisioning_status": c.ACTIVE},
                    {"id": "m-changed", "provisioning_status": c.ACTIVE},
                    {"id": "m-gone", "provisioning_status": c.DELETED}],
    }
    assert all("operating_status" not in record for records in message.values() for record in records)
