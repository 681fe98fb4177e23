"""Flows of ACTIVE_STANDBY load balancers: a keepalived pair, and the replacement of one
amphora of a pair.

Each amphora's values live in the flow store under a prefix (`master_amphora_id`,
`backup_vip_plug`, ...), so the single-amphora tasks are reused by rebinding their
arguments. Both amphorae run keepalived from the BACKUP state (see
`octavia.amphorae.keepalived.render`); priorities differ by too little skew time to
decide an election between two keepalived started together, so the MASTER's starts
first and takes the VIP alone, then the BACKUP's starts and finds it there.
"""

from __future__ import annotations

from typing import Any

from taskflow.patterns import linear_flow, unordered_flow

from octavia.common import constants as c
from octavia.controller.worker import pair_store
from octavia.controller.worker.tasks import amphora_tasks, config_tasks, network_tasks, vrrp_tasks

ROLES = (c.ROLE_MASTER, c.ROLE_BACKUP)


def _keys(prefix: str, *names: str) -> dict[str, str]:
    """Rebinding of the single-amphora argument names to this amphora's store keys."""
    return {name: f"{prefix}_{name}" for name in names}


def _boot(prefix: str, role: str | None, survivor_key: str | None = None) -> linear_flow.Flow:
    """Row (with its role, or one chosen from the survivor) -> certificate -> instance ->
    agent answering."""
    survivor = {"survivor_id": survivor_key} if survivor_key else None
    return linear_flow.Flow(f"{prefix}-boot").add(
        vrrp_tasks.CreatePairAmphoraRow(role, name=f"{prefix}-create-row", rebind=survivor,
                                        provides=f"{prefix}_amphora_id"),
        amphora_tasks.IssueAgentCertificate(name=f"{prefix}-issue-cert", rebind=_keys(prefix, "amphora_id"),
                                            provides=f"{prefix}_config_drive_files"),
        amphora_tasks.BuildCompute(name=f"{prefix}-build-compute",
                                   rebind=_keys(prefix, "amphora_id", "config_drive_files"),
                                   provides=f"{prefix}_compute_id"),
        amphora_tasks.WaitForAgent(name=f"{prefix}-wait-agent",
                                   rebind=_keys(prefix, "amphora_id", "compute_id")),
    )


def _plug(prefix: str) -> linear_flow.Flow:
    """VIP network plugged (the VRRP address recorded), the agent told it is in a pair,
    then the VIP interface configured without the VIP itself."""
    return linear_flow.Flow(f"{prefix}-plug").add(
        network_tasks.PlugVip(name=f"{prefix}-plug-vip", rebind=_keys(prefix, "amphora_id"),
                              provides=f"{prefix}_vip_plug"),
        vrrp_tasks.SetActiveStandbyTopology(name=f"{prefix}-topology", rebind=_keys(prefix, "amphora_id")),
        network_tasks.PostVipPlug(name=f"{prefix}-post-vip-plug",
                                  rebind=_keys(prefix, "amphora_id", "vip_plug")),
    )


def _configure(prefix: str) -> linear_flow.Flow:
    """keepalived configuration first: uploading it enables non-local binds, which the
    BACKUP's HAProxy needs to listen on a VIP it does not hold."""
    ids = _keys(prefix, "amphora_id")
    return linear_flow.Flow(f"{prefix}-configure").add(
        vrrp_tasks.UploadVrrpConfig(name=f"{prefix}-vrrp-config", rebind=ids),
        config_tasks.UpdateAmphoraListeners(name=f"{prefix}-update-listeners", rebind=ids),
        vrrp_tasks.MarkPairAmphoraAllocated(name=f"{prefix}-allocated", rebind=ids),
    )


def _start(prefix: str) -> vrrp_tasks.StartVrrp:
    return vrrp_tasks.StartVrrp(name=f"{prefix}-start-vrrp", rebind=_keys(prefix, "amphora_id"))


def create_pair_flow() -> linear_flow.Flow:
    """Two amphorae (MASTER and BACKUP) configured and electing; needs lb_id (and
    optionally availability_zone) in the store."""
    prefixes = [role.lower() for role in ROLES]
    flow = linear_flow.Flow("create-pair").add(
        unordered_flow.Flow("boot-pair").add(*(_boot(role.lower(), role) for role in ROLES)),
    )
    flow.add(*(_plug(prefix) for prefix in prefixes))
    flow.add(*(_configure(prefix) for prefix in prefixes))
    master, backup = prefixes
    return flow.add(
        _start(master),
        vrrp_tasks.WaitForVipHolder(name="wait-vip-holder"),
        _start(backup),
    )


def failover_flow(old_amphora_id: str, prefix: str = "replacement") -> linear_flow.Flow:
    """Replace one amphora of a pair: the replacement is built (as BACKUP beside the
    survivor, MASTER if none is left) while the old one still serves, the old one is
    retired with a clean VIP handover, the survivor learns its new peer, and only then
    does the replacement's keepalived start."""
    old: dict[str, Any] = {"old_amphora_id": old_amphora_id}
    survivor = f"{prefix}_survivor_id"
    return linear_flow.Flow(f"{prefix}-pair-failover").add(
        vrrp_tasks.FindSurvivor(name=f"{prefix}-find-survivor", inject=old, provides=survivor),
        _boot(prefix, None, survivor),
        vrrp_tasks.RetirePairAmphora(name=f"retire-{old_amphora_id}", inject=old),
        vrrp_tasks.PromoteSurvivor(name=f"{prefix}-promote-survivor", rebind={"survivor_id": survivor}),
        _plug(prefix),
        vrrp_tasks.RefreshSurvivor(name=f"{prefix}-refresh-survivor", rebind={"survivor_id": survivor}),
        _configure(prefix),
        _start(prefix),
        vrrp_tasks.WaitForVipHolder(name=f"{prefix}-wait-vip-holder"),
    )



def replace_pair_flow(old_amphora_ids: list[str]) -> linear_flow.Flow:
    """LB failover: every amphora replaced in turn, BACKUPs first so that the VIP moves
    once; an LB left without amphorae gets a new pair."""
    if not old_amphora_ids:
        return create_pair_flow()
    flow = linear_flow.Flow("replace-pair")
    for index, amphora_id in enumerate(pair_store.standby_first(old_amphora_ids)):
        flow.add(failover_flow(amphora_id, prefix=f"replacement{index}"))
    return flow
