"""The Nova compute driver: amphorae as VMs, over openstacksdk, with upstream's semantics.

The image is the newest active one tagged `image_tag` (optionally owned by
`amp_image_owner_id`); config-drive files go as server personality, user data as
base64; anti-affinity as a scheduler hint naming the server group.

There is no Nova on this machine: the tests drive a real openstacksdk Connection
against recorded Compute v2.1 / Image v2 response shapes
(tests/unit/network/fake_cloud.py).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import openstack
from openstack import exceptions as sdk_exc

from octavia.common.config import CONF
from octavia.compute import base

LOG = logging.getLogger(__name__)

_STATUS = {"ACTIVE": base.COMPUTE_ACTIVE, "ERROR": base.COMPUTE_ERROR, "BUILD": base.COMPUTE_BUILDING,
           "DELETED": base.COMPUTE_DELETED, "SOFT_DELETED": base.COMPUTE_DELETED}


def _b64(content: str | bytes) -> str:
    return base64.b64encode(content.encode() if isinstance(content, str) else content).decode()


class NovaComputeDriver(base.ComputeBase):
    def __init__(self, connection: openstack.connection.Connection | None = None) -> None:
        self._conn = connection

    @property
    def conn(self) -> openstack.connection.Connection:
        if self._conn is None:
            self._conn = openstack.connect(cloud=CONF.service_auth.cloud)
        return self._conn

    def _image_id(self, image_tag: str | None) -> str:
        filters: dict[str, Any] = {"status": "active", "sort": "created_at:desc"}
        if image_tag:
            filters["tag"] = [image_tag]
        if CONF.controller_worker.amp_image_owner_id:
            filters["owner"] = CONF.controller_worker.amp_image_owner_id
        image = next(iter(self.conn.image.images(**filters)), None)
        if image is None:
            raise base.ComputeBuildException(fault=f"no active image tagged {image_tag!r}")
        return str(image.id)

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
        attrs: dict[str, Any] = {
            "name": name,
            "image_id": self._image_id(image_tag or CONF.controller_worker.amp_image_tag),
            "flavor_id": amphora_flavor or CONF.controller_worker.amp_flavor_id,
            "networks": [{"uuid": n} for n in network_ids or ()] + [{"port": p} for p in port_ids or ()],
            "config_drive": True,
        }
        optional: dict[str, Any] = {
            "key_name": key_name,
            "security_groups": [{"name": sg} for sg in sec_groups or ()],
            "personality": [{"path": p, "contents": _b64(c)} for p, c in (config_drive_files or {}).items()],
            "user_data": _b64(user_data) if user_data else None,
            "scheduler_hints": {"group": server_group_id} if server_group_id else None,
            "availability_zone": availability_zone or CONF.nova.availability_zone,
        }
        attrs.update({k: v for k, v in optional.items() if v})
        try:
            server = self.conn.compute.create_server(**attrs)
        except sdk_exc.SDKException as exc:
            raise base.ComputeBuildException(fault=str(exc)) from exc
        LOG.info("requested server %s (%s)", server.id, name)
        return str(server.id)

    def delete(self, compute_id: str) -> None:
        try:
            self.conn.compute.delete_server(compute_id, ignore_missing=True)
        except sdk_exc.SDKException as exc:
            raise base.ComputeDeleteException(compute_id=compute_id, reason=str(exc)) from exc

    def status(self, compute_id: str) -> str:
        return self.get_amphora(compute_id)[0].status

    def get_amphora(
        self, compute_id: str, management_network_id: str | None = None
    ) -> tuple[base.ComputeAmphora, str | None]:
        try:
            server = self.conn.compute.get_server(compute_id)
        except sdk_exc.NotFoundException:
            return base.ComputeAmphora(compute_id=compute_id, status=base.COMPUTE_DELETED), None
        mgmt_net = management_network_id or next(iter(CONF.controller_worker.amp_boot_network_list), None)
        lb_network_ip = None
        for iface in self.conn.compute.server_interfaces(compute_id):
            if mgmt_net is None or iface.net_id == mgmt_net:
                lb_network_ip = next((f["ip_address"] for f in iface.fixed_ips or []), None)
                if lb_network_ip:
                    break
        flavor = server.flavor or {}
        fault = (server.fault or {}).get("message") if server.status == "ERROR" else None
        amphora = base.ComputeAmphora(
            compute_id=compute_id,
            status=_STATUS.get(server.status or "", base.COMPUTE_BUILDING),
            lb_network_ip=lb_network_ip,
            cached_zone=server.availability_zone,
            image_id=(server.image or {}).get("id"),
            compute_flavor=flavor.get("id") or flavor.get("original_name"),
        )
        return amphora, fault

    def create_server_group(self, name: str, policy: str) -> base.ServerGroup:
        try:
            group = self.conn.compute.create_server_group(name=name, policies=[policy])
        except sdk_exc.SDKException as exc:
            raise base.ServerGroupException(reason=str(exc)) from exc
        return base.ServerGroup(id=group.id, name=group.name, policy=policy)

    def delete_server_group(self, server_group_id: str) -> None:
        self.conn.compute.delete_server_group(server_group_id, ignore_missing=True)

    def attach_network_or_port(
        self,
        compute_id: str,
        network_id: str | None = None,
        ip_address: str | None = None,
        port_id: str | None = None,
    ) -> base.ComputeInterface:
        attrs: dict[str, Any] = {"port_id": port_id} if port_id else {"net_id": network_id}
        if ip_address and not port_id:
            attrs["fixed_ips"] = [{"ip_address": ip_address}]
        try:
            iface = self.conn.compute.create_server_interface(compute_id, **attrs)
        except sdk_exc.SDKException as exc:
            raise base.ComputeException(reason=f"attaching to {compute_id} failed: {exc}") from exc
        return base.ComputeInterface(compute_id=compute_id, port_id=iface.port_id, network_id=iface.net_id,
                                     fixed_ips=list(iface.fixed_ips or []))

    def detach_port(self, compute_id: str, port_id: str) -> None:
        self.conn.compute.delete_server_interface(port_id, server=compute_id, ignore_missing=True)

    def validate_flavor(self, flavor_id: str) -> None:
        try:
            self.conn.compute.get_flavor(flavor_id)
        except sdk_exc.NotFoundException:
            raise base.ComputeFlavorNotFound(id=flavor_id) from None

    def validate_availability_zone(self, availability_zone: str) -> None:
        zones = {z.name for z in self.conn.compute.availability_zones() if (z.state or {}).get("available")}
        if availability_zone not in zones:
            raise base.ComputeZoneNotFound(id=availability_zone)
