"""Tasks of ACTIVE_STANDBY flows: roles, keepalived configuration and actions, clean retirement.

The VRRP addresses come from plugging the VIP network (each amphora's own port), so
keepalived is configured once both amphorae are plugged; the survivor of a failover
learns its new peer before the replacement's keepalived starts (else the replacement,
hearing nobody, would take the VIP too).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from taskflow import task

from octavia.amphorae.drivers.errors import AmphoraDriverError
from octavia.common import constants as c
from octavia.common.config import CONF
from octavia.controller.worker import drivers, pair_store, store

LOG = logging.getLogger(__name__)

TOPOLOGY_AGENT_CONFIG = f"[controller_worker]\nloadbalancer_topology = {c.TOPOLOGY_ACTIVE_STANDBY}\n"
# A dying amphora's agent gets one quick try; the retirement goes on without it.
QUICK_PROBE = {"conn_max_retries": 1, "req_conn_timeout": 2.0, "req_read_timeout": 15.0}
VIP_POLL_S = 0.05


class VipNotHeld(RuntimeError):
    """No amphora of the pair took the VIP in time (keepalived never elected a MASTER)."""


class CreatePairAmphoraRow(task.Task):
    """A new amphora of the pair. With a fixed role (LB create), or for a failover: BACKUP
    beside a surviving amphora, MASTER when none is left."""

    def __init__(self, role: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._role = role

    def execute(self, lb_id: str, survivor_id: str | None = None) -> str:
        role = self._role or (c.ROLE_BACKUP if survivor_id else c.ROLE_MASTER)
        amphora_id = store.create_amphora(lb_id, role=role)
        pair_store.set_role(amphora_id, role)
        return amphora_id

    def revert(self, result: Any, **kwargs: Any) -> None:
        if isinstance(result, str):
            store.update_amphora(result, status=c.DELETED)


class FindSurvivor(task.Task):
    """The other amphora of the pair, if any (read when the flow runs, under the LB lock)."""

    default_provides = "survivor_id"

    def execute(self, lb_id: str, old_amphora_id: str) -> str | None:
        return pair_store.survivor_id(lb_id, old_amphora_id)


class SetActiveStandbyTopology(task.Task):
    """Tell the agent its topology before the VIP is plugged: keepalived, not the agent,
    then owns the VIP address."""

    def execute(self, amphora_id: str) -> None:
        with store.loaded_amphora(amphora_id) as amp:
            drivers.amphora().update_amphora_agent_config(amp, TOPOLOGY_AGENT_CONFIG)


class UploadVrrpConfig(task.Task):
    def execute(self, lb_id: str, amphora_id: str) -> None:
        with store.loaded_load_balancer(lb_id) as lb, store.loaded_amphora(amphora_id) as amp:
            drivers.amphora().update_vrrp_conf(lb, amp)


class StartVrrp(task.Task):
    def execute(self, amphora_id: str) -> None:
        with store.loaded_amphora(amphora_id) as amp:
            drivers.amphora().start_vrrp_service(amp)


class MarkPairAmphoraAllocated(task.Task):
    def execute(self, amphora_id: str, lb_id: str) -> None:
        store.update_amphora(amphora_id, status=c.AMPHORA_ALLOCATED, load_balancer_id=lb_id)


class PromoteSurvivor(task.Task):
    """The survivor holds the VIP (or will, once the failed amphora is gone): it is the
    MASTER from now on, its replacement the BACKUP."""

    def execute(self, survivor_id: str | None) -> None:
        if survivor_id:
            pair_store.set_role(survivor_id, c.ROLE_MASTER)


class RefreshSurvivor(task.Task):
    """Give the survivor its new peer: keepalived configuration (then reload) and HAProxy's
    peers section. A survivor whose agent does not answer is left as it is: it is
    failing too and will be replaced in turn."""

    def execute(self, lb_id: str, survivor_id: str | None) -> None:
        if not survivor_id:
            return
        driver = drivers.amphora()
        with store.loaded_load_balancer(lb_id) as lb, store.loaded_amphora(survivor_id) as amp:
            try:
                driver.update_vrrp_conf(lb, amp, QUICK_PROBE)
                driver.reload_vrrp_service(lb, amp, QUICK_PROBE)
                driver.update_amphora_listeners(lb, amp, QUICK_PROBE)
            except AmphoraDriverError as exc:
                LOG.warning("Survivor amphora %s of load balancer %s not updated: %s",
                            survivor_id, lb_id, exc)


class RetirePairAmphora(task.Task):
    """Retire one amphora of a pair so that the VIP moves cleanly: keepalived stopped
    first (priority-0 advertisement while its link is still up), then the instance,
    then its VIP port."""

    def execute(self, lb_id: str, old_amphora_id: str) -> None:
        retire_pair_amphora(lb_id, old_amphora_id)


def retire_pair_amphora(lb_id: str, amphora_id: str) -> None:
    store.update_amphora(amphora_id, status=c.PENDING_DELETE)
    with store.loaded_load_balancer(lb_id) as lb, store.loaded_amphora(amphora_id) as amp:
        try:
            drivers.amphora().stop_vrrp_service(lb, amp, QUICK_PROBE)
        except AmphoraDriverError as exc:
            LOG.info("keepalived of amphora %s not stopped through its agent (%s); deleting it",
                     amphora_id, exc)
        compute_id = amp.compute_id
    if compute_id:
        drivers.compute().delete(compute_id)
    try:
        with store.loaded_load_balancer(lb_id) as lb, store.loaded_amphora(amphora_id, write=True) as amp:
            drivers.network().unplug_vip(lb, amp)
    except Exception:
        LOG.exception("Unplugging the VIP of amphora %s failed; it is deleted anyway", amphora_id)
    store.update_amphora(amphora_id, status=c.DELETED)


def vip_wait_seconds() -> float:
    """An election takes 3 advert intervals plus skew; keepalived's start adds a little."""
    return 3.0 + 10 * float(CONF.keepalived_vrrp.vrrp_advert_int)


class WaitForVipHolder(task.Task):
    """Bounded wait until one amphora of the pair holds the VIP, so that the LB is ACTIVE
    only once its VIP answers."""

    def execute(self, lb_id: str) -> str:
        driver = drivers.amphora()
        deadline = time.monotonic() + vip_wait_seconds()
        while True:
            with store.loaded_load_balancer(lb_id) as lb:
                for amp in lb.amphorae:
                    if amp.status != c.AMPHORA_ALLOCATED:
                        continue
                    try:
                        if driver.holds_vip(lb, amp, {"conn_max_retries": 1}):
                            LOG.info("Amphora %s (%s) holds the VIP %s", amp.id, amp.role, lb.vip_address)
                            return str(amp.id)
                    except AmphoraDriverError:
                        continue
            if time.monotonic() > deadline:
                raise VipNotHeld(f"no amphora of load balancer {lb_id} holds its VIP")
            time.sleep(VIP_POLL_S)
