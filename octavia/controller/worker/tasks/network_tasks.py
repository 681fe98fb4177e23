"""Tasks that give an amphora the load balancer's VIP and tell its agent about it."""

from __future__ import annotations

import logging
from typing import Any

from taskflow import task

from octavia.controller.worker import drivers, store
from octavia.db import retry

LOG = logging.getLogger(__name__)


class PlugVip(task.Task):
    """The network driver records the amphora's VIP port in the amphora's transaction; a
    plug whose commit the database lost is made again (plugging is repeatable), so a
    short outage delays the build instead of failing it."""

    default_provides = "vip_plug"

    def execute(self, lb_id: str, amphora_id: str) -> Any:
        def plug_once() -> Any:
            with store.loaded_load_balancer(lb_id) as lb, store.loaded_amphora(amphora_id, write=True) as amp:
                return drivers.network().plug_vip(lb, amp)

        plug = retry.while_unavailable(plug_once, store.DB_RETRY_S, f"VIP plug of amphora {amphora_id}")
        store.update_amphora(amphora_id, **plug.as_amphora_columns())
        return plug

    def revert(self, result: Any, lb_id: str, amphora_id: str, **kwargs: Any) -> None:
        try:
            with store.loaded_load_balancer(lb_id) as lb, store.loaded_amphora(amphora_id, write=True) as amp:
                drivers.network().unplug_vip(lb, amp)
        except Exception:
            LOG.exception("Reverting: unplugging the VIP of amphora %s failed", amphora_id)


class PostVipPlug(task.Task):
    """The agent configures the VIP interface inside the amphora."""

    def execute(self, lb_id: str, amphora_id: str, vip_plug: Any) -> None:
        with store.loaded_load_balancer(lb_id) as lb, store.loaded_amphora(amphora_id) as amp:
            drivers.amphora().post_vip_plug(amp, lb, vip_plug)
