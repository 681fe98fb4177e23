"""The compute driver of the all-in-one: an amphora is a directory, an agent process and
the HAProxy processes the agent supervises.

netns mode (root with a working `ip netns`): each amphora gets a network namespace with
`lo` up and a management interface `eth0`, a veth whose host end sits in the
management bridge (which holds the management subnet's first address); the agent runs
inside the namespace on its management address. Controller addresses on 127/8 in
`[health_manager] controller_ip_port_list` are rewritten to the bridge address, which
the host forwards to loopback, so heartbeats reach an all-in-one bound to 127.0.0.1.

loopback mode: no namespace; the agent listens on its own 127.x.y.z address.

The amphora id is the compute id and names the directory
(`octavia.amphorae.drivers.paths.amphora_dir`), so every process, namespace and link
of an amphora can be found again from it after a controller restart.
"""

from __future__ import annotations

import configparser
import contextlib
import dataclasses
import fcntl
import ipaddress
import json
import logging
import os
import shutil
import socket
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from octavia.amphorae.drivers import paths
from octavia.common.config import CONF
from octavia.compute import base
from octavia.compute import local_process as proc
from octavia.compute.warm_agent import WarmAgents
from octavia.network import netns

LOG = logging.getLogger(__name__)

AGENT_MODULE = "octavia.cmd.amphora_agent"
STATE_FILE = "compute.json"
AGENT_CONF = "agent.conf"
AGENT_LOG = "agent.log"
AGENT_PID = "agent.pid"
MGMT_IFNAME = "eth0"
MGMT_VETH_PREFIX = "om"
BENCHMARK_RANGE = "198.18.0.0/15"
LOCAL_ZONE = "local"
SERVER_CERT = "server.pem"
CLIENT_CA = "client_ca.pem"
# Imported by a spare agent before it is needed (the agent imports them lazily).
AGENT_PRELOAD = ["octavia.amphorae.agent.heartbeat_sender", "uvicorn.protocols.http.auto",
                 "uvicorn.lifespan.on", "uvicorn.loops.auto"]
NETNS_AGENT_PRELOAD = ["pyroute2"]


@dataclasses.dataclass
class _Management:
    network: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address | None
    bridge: str | None


def _amphora_id_from_name(name: str) -> str:
    """Upstream names amphorae `amphora-<amphora id>`; other names get a fresh id."""
    candidate = name.removeprefix("amphora-")
    try:
        return str(uuid.UUID(candidate))
    except ValueError:
        return str(uuid.uuid4())


@contextlib.contextmanager
def _allocation_lock() -> Iterator[None]:
    """Serialises address allocation between controller processes on this host."""
    root = paths.amphorae_root()
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, ".allocation.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_state(amphora_dir: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(amphora_dir, STATE_FILE)) as f:
            return dict(json.load(f))
    except (OSError, ValueError):
        return None


def _write_private(path: str, content: str | bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _port_free(host: str, port: int) -> bool:
    """Loopback addresses are shared by every process on the host (other state
    directories, other services): skip one whose agent port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


class LocalComputeDriver(base.ComputeBase):
    def __init__(self, agent_module: str = AGENT_MODULE) -> None:
        self.mode = netns.resolve_mode()
        self.agent_module = agent_module
        self._warm: WarmAgents | None = None
        self._mgmt: _Management | None = None

    # --- management network ------------------------------------------------------------

    def management(self) -> _Management:
        """The management subnet (and, in netns mode, its host bridge), set up once."""
        if self._mgmt is None:
            if self.mode == "loopback":
                network = ipaddress.IPv4Network(CONF.local_network.loopback_management_cidr)
                self._mgmt = _Management(network, None, None)
            else:
                self._mgmt = self._netns_management()
        return self._mgmt

    def _netns_management(self) -> _Management:
        bridge = CONF.local_network.management_bridge
        held = netns.interface_networks(bridge) if netns.link_exists(bridge) else []
        if held:
            network, gateway = held[0].network, held[0].ip
        else:
            taken = netns.host_routes(ignore_devices=[bridge])
            network = ipaddress.IPv4Network(
                netns.pick_free_cidr(CONF.local_network.management_cidr, BENCHMARK_RANGE, taken)
            )
            gateway = network.network_address + 1
            netns.ensure_bridge(bridge, [f"{gateway}/{network.prefixlen}"])
        loopback_targets = [(host, port) for host, port in self._controllers() if self._is_loopback(host)]
        if loopback_targets:
            netns.redirect_to_loopback(bridge, str(gateway), loopback_targets)
        LOG.info("amphora management network %s on bridge %s", network, bridge)
        return _Management(network, gateway, bridge)

    def remove_management_network(self) -> None:
        """Remove the management bridge and its redirect once no amphora is left."""
        root = paths.amphorae_root()
        if self.mode != "netns" or (os.path.isdir(root) and any(
                _read_state(os.path.join(root, e)) for e in os.listdir(root))):
            return
        bridge = CONF.local_network.management_bridge
        netns.remove_redirect(bridge)
        netns.delete_link(bridge)
        self._mgmt = None

    @staticmethod
    def _controllers() -> list[tuple[str, int]]:
        result = []
        for entry in CONF.health_manager.controller_ip_port_list:
            host, _, port = entry.rpartition(":")
            result.append((host.strip("[]"), int(port)))
        return result

    @staticmethod
    def _is_loopback(host: str) -> bool:
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return host == "localhost"

    def _controller_list_for_agent(self) -> str:
        mgmt = self.management()
        entries = []
        for host, port in self._controllers():
            if mgmt.gateway is not None and self._is_loopback(host):
                host = str(mgmt.gateway)
            entries.append(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
        return ", ".join(entries)

    def _allocate_management_ip(self) -> str:
        mgmt = self.management()
        root = paths.amphorae_root()
        used = {str(mgmt.gateway)} if mgmt.gateway else set()
        for entry in os.listdir(root):
            state = _read_state(os.path.join(root, entry))
            if state and state.get("lb_network_ip"):
                used.add(state["lb_network_ip"])
        hosts = mgmt.network.hosts()
        if self.mode == "loopback":
            next(hosts)  # the first address stays unused, as a gateway would
        port = CONF.haproxy_amphora.bind_port
        for host in hosts:
            if str(host) not in used and (mgmt.bridge or _port_free(str(host), port)):
                return str(host)
        raise base.ComputeBuildException(fault=f"management network {mgmt.network} is full")

    # --- build -----------------------------------------------------------------------------

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
        """image_tag, key_name, sec_groups and user_data have no local meaning and are
        ignored; network_ids/port_ids are attached through the local network driver."""
        amphora_id = _amphora_id_from_name(name)
        amp_dir = paths.amphora_dir(amphora_id)
        started = time.monotonic()
        try:
            with _allocation_lock():
                os.makedirs(amp_dir)
                state = {
                    "compute_id": amphora_id,
                    "mode": self.mode,
                    "namespace": netns.namespace_name(amphora_id) if self.mode == "netns" else None,
                    "mgmt_veth": (netns.host_ifname(MGMT_VETH_PREFIX, amphora_id)
                                  if self.mode == "netns" else None),
                    "lb_network_ip": self._allocate_management_ip(),
                    "compute_flavor": amphora_flavor,
                    "cached_zone": availability_zone or LOCAL_ZONE,
                    "server_group_id": server_group_id,
                }
                self._save_state(amp_dir, state)
            self._write_files(amp_dir, amphora_id, state, config_drive_files or {})
            if state["namespace"]:
                self._make_namespace(state)
            self._start_agent(amp_dir, state)
            for network_id in network_ids or ():
                self._network_driver().plug_network(amphora_id, network_id)
            for port_id in port_ids or ():
                self.attach_network_or_port(amphora_id, port_id=port_id)
        except FileExistsError:
            raise base.ComputeBuildException(fault=f"amphora {amphora_id} already exists") from None
        except Exception as exc:
            LOG.exception("building amphora %s failed; removing what was made", amphora_id)
            self.delete(amphora_id)
            raise base.ComputeBuildException(fault=str(exc)) from exc
        LOG.info("built amphora %s (%s mode, %s) in %.1f ms", amphora_id, self.mode,
                 state["lb_network_ip"], (time.monotonic() - started) * 1000)
        return amphora_id

    def warm_up(self) -> None:
        """Keep a spare agent process with its imports done, so that each build starts
        its agent at once (`octavia.compute.warm_agent`); called by long-running
        controllers, builds start agents cold until then."""
        if self._warm is None:
            preload = AGENT_PRELOAD + (NETNS_AGENT_PRELOAD if self.mode == "netns" else [])
            self._warm = WarmAgents(paths.amphorae_root(), self.agent_module, preload)
        self._warm.start_spare()

    def cool_down(self) -> None:
        if self._warm is not None:
            self._warm.stop()

    def _start_agent(self, amp_dir: str, state: dict[str, Any]) -> None:
        agent_args = ["--config-file", os.path.join(amp_dir, AGENT_CONF)]
        log_path, pid_path = os.path.join(amp_dir, AGENT_LOG), os.path.join(amp_dir, AGENT_PID)
        started = self._warm.take(agent_args, state["namespace"], log_path, amp_dir) if self._warm else None
        if started is None:
            argv = [*netns.exec_prefix(state["namespace"]), sys.executable, "-m", self.agent_module]
            proc.start_detached([*argv, *agent_args], log_path, pid_path, cwd=amp_dir)
            return
        state["agent_marker"] = started.marker
        self._save_state(amp_dir, state)
        with open(pid_path, "w") as f:
            f.write(f"{started.pid}\n")

    @staticmethod
    def _agent_marker(amp_dir: str, state: Mapping[str, Any]) -> str:
        """What the agent's command line holds: its directory, or a spare's directory."""
        return str(state.get("agent_marker") or amp_dir)

    @staticmethod
    def _save_state(amp_dir: str, state: Mapping[str, Any]) -> None:
        tmp = os.path.join(amp_dir, STATE_FILE + ".tmp")
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.replace(tmp, os.path.join(amp_dir, STATE_FILE))

    def _write_files(self, amp_dir: str, amphora_id: str, state: Mapping[str, Any],
                     files: Mapping[str, str | bytes]) -> None:
        """Config-drive files land under the amphora directory at their own path
        (/etc/octavia/certs/server.pem -> <dir>/etc/octavia/certs/server.pem)."""
        written: dict[str, str] = {}
        for path, content in files.items():
            target = os.path.normpath(os.path.join(amp_dir, path.lstrip("/")))
            if not target.startswith(amp_dir + os.sep):
                raise base.ComputeBuildException(fault=f"config drive path {path!r} leaves the amphora")
            _write_private(target, content)
            written[os.path.basename(path)] = target
        os.makedirs(paths.amphora_base_path(amphora_id), exist_ok=True)
        conf = configparser.ConfigParser(interpolation=None)
        agent = {
            "bind_host": state["lb_network_ip"],
            "bind_port": str(CONF.haproxy_amphora.bind_port),
            "amphora_id": amphora_id,
            "base_path": paths.amphora_base_path(amphora_id),
            "haproxy_cmd": CONF.haproxy_amphora.haproxy_cmd,
        }
        if SERVER_CERT in written:
            agent["agent_server_cert"] = written[SERVER_CERT]
        if CLIENT_CA in written:
            agent["agent_server_ca"] = written[CLIENT_CA]
        conf["amphora_agent"] = agent
        conf["controller_worker"] = {"loadbalancer_topology": CONF.controller_worker.loadbalancer_topology}
        conf["health_manager"] = {
            "controller_ip_port_list": self._controller_list_for_agent(),
            "heartbeat_interval": str(CONF.health_manager.heartbeat_interval),
            "heartbeat_key": CONF.health_manager.heartbeat_key,
        }
        fd = os.open(os.path.join(amp_dir, AGENT_CONF), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            conf.write(f)

    def _make_namespace(self, state: Mapping[str, Any]) -> None:
        mgmt = self.management()
        namespace, veth = state["namespace"], state["mgmt_veth"]
        netns.create_namespace(namespace)
        netns.attach_veth(namespace, veth, MGMT_IFNAME, mgmt.bridge or "")
        netns.add_address(MGMT_IFNAME, f"{state['lb_network_ip']}/{mgmt.network.prefixlen}", namespace)
        netns.forget_neighbours([state["lb_network_ip"]])

    # --- delete and status ---------------------------------------------------------------

    def delete(self, compute_id: str) -> None:
        amp_dir = paths.amphora_dir(compute_id)
        state = _read_state(amp_dir) or {}
        namespace = state.get("namespace") or (
            netns.namespace_name(compute_id) if self.mode == "netns" else None
        )
        agent_pid = proc.read_pid(os.path.join(amp_dir, AGENT_PID))
        leader = agent_pid if proc.is_running(agent_pid, self._agent_marker(amp_dir, state)) else None
        in_namespace = netns.namespace_pids(namespace) if namespace else []
        survivors = proc.terminate(proc.processes_of(leader, amp_dir, in_namespace))
        if survivors:
            raise base.ComputeDeleteException(compute_id=compute_id, reason=f"processes {survivors} survive")
        if namespace:
            netns.delete_namespace(namespace)
        if state.get("mgmt_veth"):
            netns.delete_link(state["mgmt_veth"])
            netns.forget_neighbours([state.get("lb_network_ip") or ""])
        shutil.rmtree(amp_dir, ignore_errors=True)
        paths.remove_base_path_link(compute_id)
        LOG.info("deleted amphora %s", compute_id)

    def _status_and_fault(self, compute_id: str) -> tuple[str, dict[str, Any], str | None]:
        amp_dir = paths.amphora_dir(compute_id)
        if not os.path.isdir(amp_dir):
            return base.COMPUTE_DELETED, {}, None
        state = _read_state(amp_dir)
        if state is None:
            return base.COMPUTE_ERROR, {}, "amphora state file missing"
        pid = proc.read_pid(os.path.join(amp_dir, AGENT_PID))
        if pid is None:
            return base.COMPUTE_BUILDING, state, None
        if proc.is_running(pid, self._agent_marker(amp_dir, state)):
            return base.COMPUTE_ACTIVE, state, None
        fault = "amphora agent exited: " + proc.log_tail(os.path.join(amp_dir, AGENT_LOG), 500)
        return base.COMPUTE_ERROR, state, fault

    def status(self, compute_id: str) -> str:
        return self._status_and_fault(compute_id)[0]

    def get_amphora(
        self, compute_id: str, management_network_id: str | None = None
    ) -> tuple[base.ComputeAmphora, str | None]:
        status, state, fault = self._status_and_fault(compute_id)
        amphora = base.ComputeAmphora(
            compute_id=compute_id,
            status=status,
            lb_network_ip=state.get("lb_network_ip"),
            cached_zone=state.get("cached_zone"),
            image_id=None,
            compute_flavor=state.get("compute_flavor"),
        )
        return amphora, fault

    # --- server groups, interfaces, validation ---------------------------------------------

    def _server_group_path(self, server_group_id: str) -> str:
        return os.path.join(paths.amphorae_root(), ".server-groups", f"{server_group_id}.json")

    def create_server_group(self, name: str, policy: str) -> base.ServerGroup:
        """Recorded only: on one host every member shares the host, whatever the policy."""
        group = base.ServerGroup(id=str(uuid.uuid4()), name=name, policy=policy)
        _write_private(self._server_group_path(group.id), json.dumps(dataclasses.asdict(group)))
        return group

    def delete_server_group(self, server_group_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(self._server_group_path(server_group_id))

    def _network_driver(self) -> Any:
        from octavia.network.local import LocalNetworkDriver

        return LocalNetworkDriver()

    def attach_network_or_port(
        self,
        compute_id: str,
        network_id: str | None = None,
        ip_address: str | None = None,
        port_id: str | None = None,
    ) -> base.ComputeInterface:
        network = self._network_driver()
        if port_id:
            port = network.get_port(port_id)
        else:
            fixed = [{"ip_address": ip_address}] if ip_address else []
            port = network.create_port(network_id or "", fixed_ips=fixed)
        port = network.plug_port(_AmphoraRef(compute_id), port)
        return base.ComputeInterface(
            compute_id=compute_id,
            port_id=port.id,
            network_id=port.network_id,
            fixed_ips=[f.to_neutron_dict() for f in port.fixed_ips],
        )

    def detach_port(self, compute_id: str, port_id: str) -> None:
        self._network_driver().detach_port(compute_id, port_id)

    def validate_flavor(self, flavor_id: str) -> None:
        """Local amphorae have no compute flavors: the value is recorded, never refused."""

    def validate_availability_zone(self, availability_zone: str) -> None:
        """One host is one zone: any zone name is recorded as the amphora's cached_zone."""


@dataclasses.dataclass
class _AmphoraRef:
    """The amphora fields the network driver reads, from a compute id alone."""

    compute_id: str
    vrrp_port_id: str | None = None
    ha_port_id: str | None = None

    @property
    def id(self) -> str:
        return self.compute_id
