"""The compute driver contract (upstream's ComputeBase, typed) and its errors.

A compute driver makes the thing an amphora runs in: a Nova VM upstream, a directory,
a process tree and (as root) a network namespace here. Method names and parameters
follow upstream so that the controller's flows read the same.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping, Sequence

from octavia.common import constants, exceptions

# Compute instance states as get_amphora()/status() report them.
COMPUTE_ACTIVE = constants.ACTIVE
COMPUTE_ERROR = constants.ERROR
COMPUTE_DELETED = constants.DELETED
COMPUTE_BUILDING = "BUILD"


class ComputeException(exceptions.APIException):
    code = 500
    message = "Compute error: {reason}"


class ComputeBuildException(ComputeException):
    message = "Failed to build compute instance due to: {fault}"


class ComputeDeleteException(ComputeException):
    message = "Failed to delete compute instance {compute_id}: {reason}"


class ComputeNotFound(ComputeException):
    code = 404
    message = "Compute instance {compute_id} not found."


class ServerGroupException(ComputeException):
    message = "Server group operation failed: {reason}"


class ComputeFlavorNotFound(ComputeException, exceptions.BadRequest):
    """Upstream's InvalidSubresource wording for a flavor's compute_flavor."""

    code = 400
    message = "Nova flavor {id} not found."


class ComputeZoneNotFound(ComputeException, exceptions.BadRequest):
    code = 400
    message = "Nova availability zone {id} not found."


@dataclasses.dataclass
class ComputeAmphora:
    """The Amphora row fields a compute driver knows about."""

    compute_id: str
    status: str
    lb_network_ip: str | None = None
    cached_zone: str | None = None
    image_id: str | None = None
    compute_flavor: str | None = None

    def as_amphora_columns(self) -> dict[str, str | None]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class ServerGroup:
    id: str
    name: str
    policy: str


@dataclasses.dataclass
class ComputeInterface:
    """A port attached to a compute instance (Nova's os-interface)."""

    compute_id: str
    port_id: str
    network_id: str | None
    fixed_ips: list[dict[str, str]] = dataclasses.field(default_factory=list)


class ComputeBase(abc.ABC):
    @abc.abstractmethod
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
        """Create the instance an amphora runs in and start its agent; returns compute_id.

        config_drive_files maps a path as the amphora sees it (e.g.
        /etc/octavia/certs/server.pem) to its content.
        """

    @abc.abstractmethod
    def delete(self, compute_id: str) -> None:
        """Destroy the instance; deleting an absent one is not an error."""

    @abc.abstractmethod
    def status(self, compute_id: str) -> str:
        """COMPUTE_ACTIVE, COMPUTE_BUILDING, COMPUTE_ERROR or COMPUTE_DELETED."""

    @abc.abstractmethod
    def get_amphora(
        self, compute_id: str, management_network_id: str | None = None
    ) -> tuple[ComputeAmphora, str | None]:
        """The instance's amphora fields and, if it failed, a fault message (upstream's pair)."""

    @abc.abstractmethod
    def create_server_group(self, name: str, policy: str) -> ServerGroup: ...

    @abc.abstractmethod
    def delete_server_group(self, server_group_id: str) -> None: ...

    @abc.abstractmethod
    def attach_network_or_port(
        self,
        compute_id: str,
        network_id: str | None = None,
        ip_address: str | None = None,
        port_id: str | None = None,
    ) -> ComputeInterface: ...

    @abc.abstractmethod
    def detach_port(self, compute_id: str, port_id: str) -> None: ...

    @abc.abstractmethod
    def validate_flavor(self, flavor_id: str) -> None:
        """Raise ComputeFlavorNotFound unless the compute flavor exists."""

    @abc.abstractmethod
    def validate_availability_zone(self, availability_zone: str) -> None:
        """Raise ComputeZoneNotFound unless the zone exists."""

    def warm_up(self) -> None:  # noqa: B027
        """Prepare to build amphorae quickly (a long-running worker calls it at start);
        drivers with nothing to prepare do nothing."""

    def cool_down(self) -> None:  # noqa: B027
        """Release what `warm_up` prepared (the worker is stopping)."""
