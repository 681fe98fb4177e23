"""Plain stand-ins for the load balancer and amphora objects drivers are handed."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any


@dataclasses.dataclass
class FakeLoadBalancer:
    id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    project_id: str | None = "project-a"
    vip_address: str | None = None
    vip_subnet_id: str | None = None
    vip_network_id: str | None = None
    vip_port_id: str | None = None
    vip_qos_policy_id: str | None = None
    additional_vips: list[dict[str, Any]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class FakeAmphora:
    id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    compute_id: str | None = None
    vrrp_port_id: str | None = None
    ha_port_id: str | None = None
