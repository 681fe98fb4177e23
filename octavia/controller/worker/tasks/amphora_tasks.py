"""Tasks that make, start and retire one amphora (row, certificate, compute instance).

Each task undoes its own work in `revert`, so a failing flow leaves no instance
running and no amphora row outside DELETED/ERROR.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from taskflow import task

from octavia.amphorae.drivers.errors import AgentUnreachable
from octavia.common import constants as c
from octavia.common.config import CONF
from octavia.compute import base as compute_base
from octavia.controller.worker import drivers, store

LOG = logging.getLogger(__name__)

AGENT_POLL_S = 0.02
SINGLE_PROBE = {"conn_max_retries": 1}
SERVER_CERT_PATH = "/etc/octavia/certs/server.pem"
CLIENT_CA_PATH = "/etc/octavia/certs/client_ca.pem"


class AgentNotReady(RuntimeError):
    """The amphora's instance or agent did not come up within the configured retries."""


class CreateAmphoraRow(task.Task):
    default_provides = "amphora_id"

    def execute(self, lb_id: str | None) -> str:
        return store.create_amphora(lb_id, role=None)

    def revert(self, result: Any, **kwargs: Any) -> None:
        if isinstance(result, str):
            store.update_amphora(result, status=c.DELETED)


class IssueAgentCertificate(task.Task):
    """The agent's server certificate and the CA it must trust clients from (config drive)."""

    default_provides = "config_drive_files"

    def execute(self, amphora_id: str) -> dict[str, bytes]:
        generator = drivers.cert_generator()
        validity = CONF.certificates.cert_validity_time
        bundle = generator.generate_cert_key_pair(cn=amphora_id, validity=validity)
        expiration = bundle.expiration.replace(tzinfo=None)
        store.update_amphora(amphora_id, cert_expiration=expiration, cert_busy=False)
        return {SERVER_CERT_PATH: bundle.pem, CLIENT_CA_PATH: generator.get_ca_certificate()}


class BuildCompute(task.Task):
    default_provides = "compute_id"

    def execute(self, amphora_id: str, config_drive_files: dict[str, bytes],
                availability_zone: str | None = None) -> str:
        compute_id: str = drivers.compute().build(
            name=f"amphora-{amphora_id}",
            amphora_flavor=CONF.controller_worker.amp_flavor_id or None,
            image_tag=CONF.controller_worker.amp_image_tag or None,
            key_name=CONF.controller_worker.amp_ssh_key_name,
            sec_groups=CONF.controller_worker.amp_secgroup_list,
            network_ids=CONF.controller_worker.amp_boot_network_list,
            config_drive_files=config_drive_files,
            availability_zone=availability_zone,
        )
        store.update_amphora(amphora_id, compute_id=compute_id, status=c.AMPHORA_BOOTING)
        return compute_id

    def revert(self, result: Any, amphora_id: str, **kwargs: Any) -> None:
        if not isinstance(result, str):
            return
        try:
            drivers.compute().delete(result)
        except Exception:
            LOG.exception("Reverting amphora %s: deleting compute instance %s failed", amphora_id, result)
        store.update_amphora(amphora_id, status=c.ERROR)


class WaitForAgent(task.Task):
    """Bounded wait for the instance to be ACTIVE (`[controller_worker] amp_active_retries`
    x `amp_active_wait_sec`), then for its agent to answer (`[haproxy_amphora]
    connection_max_retries` x `connection_retry_interval` in all); records the
    management address. The agent is probed every AGENT_POLL_S (a refused connection
    costs nothing), and its instance checked between probes, so a new amphora is used
    the moment its agent listens and a dead one is noticed at once."""

    def execute(self, amphora_id: str, compute_id: str) -> None:
        compute, amphora_driver = drivers.compute(), drivers.amphora()
        conf = CONF.controller_worker
        boot_deadline = time.monotonic() + max(1, conf.amp_active_retries) * conf.amp_active_wait_sec
        hap = CONF.haproxy_amphora
        agent_budget = hap.connection_max_retries * hap.connection_retry_interval
        agent_deadline: float | None = None
        last_error = "not started"
        while True:
            found, fault = compute.get_amphora(compute_id)
            if found.status == compute_base.COMPUTE_ERROR:
                raise AgentNotReady(f"compute instance {compute_id} failed: {fault}")
            now = time.monotonic()
            if found.status != compute_base.COMPUTE_ACTIVE:
                if now > boot_deadline:
                    raise AgentNotReady(f"amphora {amphora_id} not ACTIVE in time ({found.status})")
                time.sleep(conf.amp_active_wait_sec)
                continue
            if agent_deadline is None:
                agent_deadline = now + agent_budget
                store.update_amphora(amphora_id, lb_network_ip=found.lb_network_ip,
                                     cached_zone=found.cached_zone, image_id=found.image_id,
                                     compute_flavor=found.compute_flavor)
            try:
                with store.loaded_amphora(amphora_id) as amp:
                    amphora_driver.get_info(amp, SINGLE_PROBE)
                return
            except AgentUnreachable as exc:
                last_error = str(exc)
            if now > agent_deadline:
                raise AgentNotReady(f"amphora {amphora_id} agent not answering after {agent_budget:.0f} s "
                                    f"({last_error})")
            time.sleep(AGENT_POLL_S)


class MarkAmphoraAllocated(task.Task):
    def execute(self, amphora_id: str, lb_id: str) -> None:
        store.update_amphora(amphora_id, status=c.AMPHORA_ALLOCATED, role=c.ROLE_STANDALONE,
                             load_balancer_id=lb_id)


class DeleteAmphora(task.Task):
    """Retire one amphora: unplug its VIP, destroy its instance, mark it DELETED."""

    def execute(self, amphora_id: str) -> None:
        retire_amphora(amphora_id)


def retire_amphora(amphora_id: str) -> None:
    lb_id = store.amphora_lb_id(amphora_id)
    store.update_amphora(amphora_id, status=c.PENDING_DELETE)
    if lb_id is not None:
        try:
            with store.loaded_load_balancer(lb_id) as lb, store.loaded_amphora(amphora_id, write=True) as amp:
                drivers.network().unplug_vip(lb, amp)
        except Exception:
            LOG.exception("Unplugging the VIP of amphora %s failed; deleting it anyway", amphora_id)
    with store.loaded_amphora(amphora_id) as amp:
        compute_id = amp.compute_id
    if compute_id:
        drivers.compute().delete(compute_id)
    store.update_amphora(amphora_id, status=c.DELETED)
