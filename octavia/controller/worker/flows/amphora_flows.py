"""Flows that build an amphora for a load balancer, retire it, or replace it.

SINGLE topology; ACTIVE_STANDBY pairs have their own flows (`active_standby`).
"""

from __future__ import annotations

from taskflow.patterns import linear_flow

from octavia.controller.worker.tasks import amphora_tasks, config_tasks, network_tasks


def boot_amphora_flow(prefix: str) -> linear_flow.Flow:
    """Row -> certificate -> instance -> agent answering. Provides amphora_id, compute_id."""
    return linear_flow.Flow(f"{prefix}-boot").add(
        amphora_tasks.CreateAmphoraRow(name=f"{prefix}-create-row"),
        amphora_tasks.IssueAgentCertificate(name=f"{prefix}-issue-cert"),
        amphora_tasks.BuildCompute(name=f"{prefix}-build-compute"),
        amphora_tasks.WaitForAgent(name=f"{prefix}-wait-agent"),
    )


def attach_amphora_flow(prefix: str) -> linear_flow.Flow:
    """VIP plugged and configured, listeners pushed, amphora ALLOCATED to the LB."""
    return linear_flow.Flow(f"{prefix}-attach").add(
        network_tasks.PlugVip(name=f"{prefix}-plug-vip"),
        network_tasks.PostVipPlug(name=f"{prefix}-post-vip-plug"),
        config_tasks.UpdateAmphoraListeners(name=f"{prefix}-update-listeners"),
        amphora_tasks.MarkAmphoraAllocated(name=f"{prefix}-allocated"),
    )


def new_amphora_flow(prefix: str = "amphora") -> linear_flow.Flow:
    return linear_flow.Flow(f"{prefix}-new").add(boot_amphora_flow(prefix), attach_amphora_flow(prefix))


def failover_flow(old_amphora_id: str) -> linear_flow.Flow:
    """Boot the replacement first (the old one keeps serving meanwhile), then retire the
    old amphora, which frees the VIP, and give the VIP and the config to the new one."""
    return linear_flow.Flow("failover").add(
        boot_amphora_flow("replacement"),
        amphora_tasks.DeleteAmphora(name=f"retire-{old_amphora_id}",
                                    rebind={"amphora_id": "old_amphora_id"}),
        attach_amphora_flow("replacement"),
    )


def retire_amphorae_flow(amphora_ids: list[str]) -> linear_flow.Flow:
    flow = linear_flow.Flow("retire-amphorae")
    for amphora_id in amphora_ids:
        flow.add(amphora_tasks.DeleteAmphora(name=f"retire-{amphora_id}", inject={"amphora_id": amphora_id}))
    return flow
