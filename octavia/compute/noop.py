"""A compute driver that builds nothing and answers as if every instance were running.

Like upstream's noop driver it lets the amphora provider run its full flows with no
compute service: amphora rows are created and reach ALLOCATED, failover makes a new
row, and nothing outside the database changes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence

from octavia.compute import base

LOG = logging.getLogger(__name__)

NOOP_LB_NETWORK_IP = "192.0.2.1"
NOOP_IMAGE_ID = "00000000-0000-0000-0000-0000000000a1"
NOOP_ZONE = "noop-zone"


class NoopComputeDriver(base.ComputeBase):
    def build(
        self,
        name: str = "amphora_name",
        amphora_flavor: str | None = None,
        image_tag: str | None = None,
        key_name: str | None = None,
        sec_groups: Sequence[str] | None = None,
        network_ids: Sequence[str] | None = None,
        port_ids: Sequence[str] | None = None,
        config_drive_files: Mapping[str, str | bytes] | None = None,
        user_data: str | None = None,
        server_group_id: str | None = None,
        availability_zone: str | None = None,
    ) -> str:
        compute_id = str(uuid.uuid4())
        LOG.debug("noop compute: build %s -> %s", name, compute_id)
        return compute_id

    def delete(self, compute_id: str) -> None:
        LOG.debug("noop compute: delete %s", compute_id)

    def status(self, compute_id: str) -> str:
        return base.COMPUTE_ACTIVE

    def get_amphora(
        self, compute_id: str, management_network_id: str | None = None
    ) -> tuple[base.ComputeAmphora, str | None]:
        return (
            base.ComputeAmphora(
                compute_id=compute_id,
                status=base.COMPUTE_ACTIVE,
                lb_network_ip=NOOP_LB_NETWORK_IP,
                cached_zone=NOOP_ZONE,
                image_id=NOOP_IMAGE_ID,
                compute_flavor=None,
            ),
            None,
        )

    def create_server_group(self, name: str, policy: str) -> base.ServerGroup:
        return base.ServerGroup(id=str(uuid.uuid4()), name=name, policy=policy)

    def delete_server_group(self, server_group_id: str) -> None:
        LOG.debug("noop compute: delete server group %s", server_group_id)

    def attach_network_or_port(
        self,
        compute_id: str,
        network_id: str | None = None,
        ip_address: str | None = None,
        port_id: str | None = None,
    ) -> base.ComputeInterface:
        fixed_ips = [{"ip_address": ip_address}] if ip_address else []
        return base.ComputeInterface(
            compute_id=compute_id,
            port_id=port_id or str(uuid.uuid4()),
            network_id=network_id or str(uuid.uuid4()),
            fixed_ips=fixed_ips,
        )

    def detach_port(self, compute_id: str, port_id: str) -> None:
        LOG.debug("noop compute: detach %s from %s", port_id, compute_id)

    def validate_flavor(self, flavor_id: str) -> None:
        """Any flavor exists for noop, as upstream."""

    def validate_availability_zone(self, availability_zone: str) -> None:
        """Any zone exists for noop, as upstream."""
