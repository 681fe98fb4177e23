"""Tasks that render the load balancer's configuration and push it to its amphorae."""

from __future__ import annotations

from taskflow import task

from octavia.common import constants as c
from octavia.controller.worker import drivers, store


class UpdateAmphoraListeners(task.Task):
    """Push the LB's listeners to one amphora (the one being built)."""

    def execute(self, lb_id: str, amphora_id: str) -> None:
        with store.loaded_load_balancer(lb_id) as lb, store.loaded_amphora(amphora_id) as amp:
            drivers.amphora().update_amphora_listeners(lb, amp, None)


class UpdateAllAmphoraeListeners(task.Task):
    """Push the LB's listeners (objects being deleted left out) to every amphora of the LB."""

    def execute(self, lb_id: str) -> None:
        driver = drivers.amphora()
        with store.loaded_load_balancer(lb_id) as lb:
            for amp in lb.amphorae:
                if amp.status == c.AMPHORA_ALLOCATED:
                    driver.update_amphora_listeners(lb, amp, None)
