"""A load balancer delete that failed half-way leaves its amphora PENDING_DELETE; deleting
the (now ERROR) load balancer again must still retire that amphora, not forget it."""

from __future__ import annotations

from typing import ClassVar

import pytest
from sqlalchemy import select

from octavia.compute import base as compute_base
from octavia.compute.noop import NoopComputeDriver
from octavia.db import models
from octavia.db.api import session_scope
from tests.functional.conftest import ApiClient
from tests.functional.worker.conftest import NOOP_DRIVERS

LB = "/v2/lbaas/loadbalancers"


class FlakyDeleteComputeDriver(NoopComputeDriver):
    """The first delete of each instance fails (a process that would not die)."""

    attempts: ClassVar[dict[str, int]] = {}

    def delete(self, compute_id: str) -> None:
        self.attempts[compute_id] = self.attempts.get(compute_id, 0) + 1
        if self.attempts[compute_id] == 1:
            raise compute_base.ComputeDeleteException(compute_id=compute_id, reason="processes survive")
        super().delete(compute_id)


FLAKY = {**NOOP_DRIVERS, "compute_driver": f"{__name__}:FlakyDeleteComputeDriver"}


def _amphora_statuses(lb_id: str) -> list[str]:
    with session_scope() as session:
        return list(session.execute(
            select(models.Amphora.status).where(models.Amphora.load_balancer_id == lb_id)
        ).scalars())


@pytest.mark.parametrize("worker_drivers", [pytest.param(FLAKY, id="flaky-delete")])
def test_deleting_again_retires_an_amphora_left_pending_delete(amphora_api: ApiClient) -> None:
    FlakyDeleteComputeDriver.attempts.clear()
    lb = amphora_api.create_lb()
    amphora_api.wait_lb(lb["id"])
    assert _amphora_statuses(lb["id"]) == ["ALLOCATED"]

    assert amphora_api.delete(f"{LB}/{lb['id']}").status_code == 204
    amphora_api.wait_for(f"{LB}/{lb['id']}", "loadbalancer", status="ERROR")
    assert _amphora_statuses(lb["id"]) == ["PENDING_DELETE"]

    assert amphora_api.delete(f"{LB}/{lb['id']}").status_code == 204
    amphora_api.wait_for(f"{LB}/{lb['id']}", "loadbalancer", status="DELETED")
    assert _amphora_statuses(lb["id"]) == ["DELETED"]
    assert list(FlakyDeleteComputeDriver.attempts.values()) == [2]
