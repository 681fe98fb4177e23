"""Status messages for the end of a worker operation, success or failure (states.md §4).

Success messages are the noop provider's (`noop_completion`), so both providers end
objects in the same states; the only difference is that after an update or failover the
amphora provider leaves operating statuses to the health manager. A failure message is
the success message with every non-locked object's provisioning status set to ERROR:
the target (and, for creates, its new subtree) ends in ERROR, the locked parents go
back to ACTIVE.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection

from octavia.common import constants as c

Message = dict[str, list[dict[str, str]]]

HEALTH_DRIVEN = ("loadbalancers", "listeners", "pools", "members")


def keep_health(message: Message) -> Message:
    """Drop operating statuses the health manager owns (after updates and failovers)."""
    result = copy.deepcopy(message)
    for kind in HEALTH_DRIVEN:
        for record in result.get(kind, []):
            record.pop("operating_status", None)
    return result


def failed(message: Message, locked_ids: Collection[str]) -> Message:
    result = copy.deepcopy(message)
    for records in result.values():
        for record in records:
            if "provisioning_status" in record and record["id"] not in locked_ids:
                record["provisioning_status"] = c.ERROR
    return result


def locked_ids(message: Message, target_kind: str) -> set[str]:
    """Objects the message returns to ACTIVE that the API locked: LB, and the parents
    of the target (listeners, pools, policies of kinds above the target's)."""
    parents = {
        "listeners": ("loadbalancers",),
        "pools": ("loadbalancers", "listeners"),
        "members": ("loadbalancers", "listeners", "pools"),
        "healthmonitors": ("loadbalancers", "listeners", "pools"),
        "l7policies": ("loadbalancers", "listeners"),
        "l7rules": ("loadbalancers", "listeners", "l7policies"),
    }[target_kind]
    return {record["id"] for kind in parents for record in message.get(kind, [])}


Pending = dict[str, list[tuple[str, str]]]


def load_balancer_error(lb_id: str, pending: Pending) -> Message:
    """LB ERROR; every child still PENDING_* (e.g. a create's subtree) ERROR too, never stuck."""
    return _lb_and_children(lb_id, c.ERROR, pending, lambda _status: c.ERROR)


def pending_done(lb_id: str, pending: Pending) -> Message:
    """LB ACTIVE and every PENDING_* child where its operation was going: deleted ones
    DELETED (the row goes), created or updated ones ACTIVE. Operating statuses stay the
    health manager's."""
    return _lb_and_children(lb_id, c.ACTIVE, pending,
                            lambda status: c.DELETED if status == c.PENDING_DELETE else c.ACTIVE)


def _lb_and_children(lb_id: str, lb_status: str, pending: Pending,
                     child_status: Callable[[str], str]) -> Message:
    message: Message = {"loadbalancers": [{"id": lb_id, "provisioning_status": lb_status}]}
    for kind, children in pending.items():
        if children:
            message[kind] = [{"id": object_id, "provisioning_status": child_status(status)}
                             for object_id, status in children]
    return message
