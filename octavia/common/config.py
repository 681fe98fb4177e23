"""All oslo.config options, declared once, grouped and named like upstream Octavia.

With no config file the embedded defaults describe the all-in-one mode: SQLite under
`state_path`, `noauth`, local drivers and in-process messaging.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from oslo_config import cfg

CONF = cfg.CONF

DEFAULT_TLS_CIPHERS = (
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
)

default_opts = [
    cfg.StrOpt(
        "state_path",
        default=os.environ.get("OCTAVIA_STATE_PATH", os.path.join(os.getcwd(), "state")),
        help="Directory for the SQLite database, amphora directories, CA and other state.",
    ),
    cfg.StrOpt("host", default=os.uname().nodename, help="Name of this host in logs and RPC."),
    cfg.IntOpt(
        "max_request_body_size",
        default=114688,
        help="Largest request body the API accepts, in bytes (larger: 413).",
    ),
]

api_opts = [
    cfg.HostAddressOpt("bind_host", default="127.0.0.1", help="Address the API listens on."),
    cfg.PortOpt("bind_port", default=9876, help="Port the API listens on."),
    cfg.IntOpt("api_workers", default=1, help="Number of API worker processes."),
    cfg.StrOpt(
        "auth_strategy",
        default="noauth",
        choices=["noauth", "keystone", "testing"],
        help="noauth: every request is admin; keystone: keystonemiddleware auth_token; "
        "testing: identity and roles trusted from the request headers.",
    ),
    cfg.BoolOpt("allow_pagination", default=True, help="Allow limit/marker pagination."),
    cfg.BoolOpt("allow_sorting", default=True, help="Allow sorting of lists."),
    cfg.BoolOpt("allow_filtering", default=True, help="Allow filtering of lists."),
    cfg.BoolOpt("allow_field_selection", default=True, help="Allow the fields= parameter."),
    cfg.IntOpt("pagination_max_limit", default=1000, help="Largest page a list returns."),
    cfg.StrOpt("api_base_uri", help="Base URI for links in responses; default: the request's."),
    cfg.BoolOpt("allow_tls_terminated_listeners", default=True, help="Allow TERMINATED_HTTPS."),
    cfg.BoolOpt("allow_ping_health_monitors", default=True, help="Allow PING health monitors."),
    cfg.BoolOpt("allow_prometheus_listeners", default=True, help="Allow PROMETHEUS listeners."),
    cfg.DictOpt(
        "enabled_provider_drivers",
        default={
            "amphora": "The Octavia Amphora driver.",
            "octavia": "Deprecated alias of the Octavia Amphora driver.",
            "noop_driver": "The no-op driver.",
        },
        help="Provider drivers that may be used, name:description.",
    ),
    cfg.StrOpt("default_provider_driver", default="amphora", help="Provider used when none is named."),
    cfg.IntOpt("udp_connect_min_interval_health_monitor", default=3, help="Minimum UDP-CONNECT delay."),
    cfg.StrOpt("default_listener_ciphers", default=DEFAULT_TLS_CIPHERS, help="Default listener ciphers."),
    cfg.StrOpt("default_pool_ciphers", default=DEFAULT_TLS_CIPHERS, help="Default pool ciphers."),
    cfg.StrOpt("tls_cipher_prohibit_list", default="", help="Colon list of ciphers that are refused."),
    cfg.ListOpt("default_listener_tls_versions", default=["TLSv1.2", "TLSv1.3"],
                help="Default TLS versions."),
    cfg.ListOpt("default_pool_tls_versions", default=["TLSv1.2", "TLSv1.3"],
                help="Default pool TLS versions."),
    cfg.StrOpt("minimum_tls_version", choices=["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
               help="Lowest TLS version a listener or pool may use."),
    cfg.ListOpt("default_listener_alpn_protocols", default=["h2", "http/1.1", "http/1.0"],
                help="Default listener ALPN protocols."),
    cfg.ListOpt("default_pool_alpn_protocols", default=["h2", "http/1.1", "http/1.0"],
                help="Default pool ALPN protocols."),
    cfg.BoolOpt("healthcheck_enabled", default=False, help="Serve /healthcheck."),
]

database_opts = [
    cfg.StrOpt(
        "connection",
        secret=True,
        help="SQLAlchemy URL of the database; default: SQLite under state_path.",
    ),
    cfg.IntOpt("max_pool_size", default=10, help="Connections kept open per process."),
    cfg.IntOpt("max_overflow", default=20, help="Connections beyond max_pool_size."),
    cfg.IntOpt("pool_timeout", default=10, help="Seconds to wait for a free connection."),
]

controller_worker_opts = [
    cfg.StrOpt("amphora_driver", default="amphora_haproxy_rest_driver", help="Amphora driver entry point."),
    cfg.StrOpt("compute_driver", default="compute_local_driver", help="Compute driver entry point."),
    cfg.StrOpt("network_driver", default="network_local_driver", help="Network driver entry point."),
    cfg.StrOpt("cert_generator", default="local_cert_generator", help="Certificate generator entry point."),
    cfg.StrOpt("loadbalancer_topology", default="SINGLE", choices=["SINGLE", "ACTIVE_STANDBY"],
               help="Topology of new load balancers unless the flavor says otherwise."),
    cfg.IntOpt("workers", default=1, help="Worker threads consuming flows."),
    cfg.IntOpt("amp_active_retries", default=30, help="Retries waiting for a new amphora to boot."),
    cfg.FloatOpt("amp_active_wait_sec", default=0.2, help="Seconds between those retries."),
    cfg.StrOpt("amp_image_tag", default="", help="Image tag of amphorae (informational locally)."),
    cfg.StrOpt("amp_flavor_id", default="", help="Compute flavor of amphorae."),
    cfg.StrOpt("client_ca", help="CA that signed the controller's client certificate."),
    cfg.StrOpt("local_amphora_mode", default="auto", choices=["auto", "netns", "loopback"],
               help="Local compute/network drivers: netns puts each amphora in a network namespace "
               "(needs root), loopback gives each its own 127.x address; auto picks netns when it works."),
    cfg.ListOpt("amp_boot_network_list", default=[], help="Networks a Nova amphora boots on."),
    cfg.ListOpt("amp_secgroup_list", default=[], help="Security groups of a Nova amphora."),
    cfg.StrOpt("amp_ssh_key_name", help="Nova keypair injected into amphorae."),
    cfg.StrOpt("amp_image_owner_id", help="Project that must own the amphora image."),
]

health_manager_opts = [
    cfg.HostAddressOpt("bind_ip", default="127.0.0.1", help="Address the heartbeat receiver binds."),
    cfg.PortOpt("bind_port", default=5555, help="UDP port of the heartbeat receiver."),
    cfg.ListOpt("controller_ip_port_list", default=["127.0.0.1:5555"],
                help="ip:port list amphorae send heartbeats to."),
    cfg.FloatOpt("heartbeat_interval", default=10.0, help="Seconds between amphora heartbeats."),
    cfg.StrOpt("heartbeat_key", secret=True, default="insecure",
               help="HMAC key signing heartbeats; set it in production."),
    cfg.FloatOpt("heartbeat_timeout", default=60.0, help="Seconds of silence before failover."),
    cfg.FloatOpt("health_check_interval", default=3.0, help="Seconds between stale-amphora scans."),
    cfg.IntOpt("failover_threads", default=10, help="Concurrent failovers."),
    cfg.IntOpt("failover_threshold", help="Stop failing over when more amphorae than this are stale."),
    cfg.IntOpt("health_update_threads", default=4, help="Threads processing heartbeats."),
    cfg.IntOpt("stats_update_threads", default=4, help="Threads writing statistics."),
    cfg.FloatOpt("heartbeat_max_clock_skew", default=30.0,
                 help="Heartbeats whose timestamp is further than this many seconds from the "
                 "health manager's clock (either way) are dropped as stale."),
]

house_keeping_opts = [
    cfg.IntOpt("cleanup_interval", default=30, help="Seconds between DB purges."),
    cfg.IntOpt("amphora_expiry_age", default=604800, help="Seconds a DELETED amphora is kept."),
    cfg.IntOpt("load_balancer_expiry_age", default=604800, help="Seconds a DELETED LB is kept."),
    cfg.IntOpt("cert_interval", default=3600, help="Seconds between certificate rotation scans."),
    cfg.IntOpt("cert_expiry_buffer", default=1209600, help="Rotate certificates this long before expiry."),
]

haproxy_amphora_opts = [
    cfg.StrOpt("base_path", default="", help="Amphora directory root; default state_path/amphorae."),
    cfg.StrOpt("haproxy_cmd", default="/usr/sbin/haproxy", help="HAProxy binary."),
    cfg.PortOpt("bind_port", default=9443, help="Port of the amphora agent's REST API."),
    cfg.StrOpt("client_cert", default="",
               help="PEM (certificate + key) the controller presents to amphora agents; "
                    "default: issued by the local certificate generator's CA."),
    cfg.StrOpt("server_ca", default="",
               help="CA that signed the agents' server certificates; default: the generator's CA."),
    cfg.IntOpt("connection_max_retries", default=120, help="Retries connecting to an amphora agent."),
    cfg.FloatOpt("connection_retry_interval", default=0.25, help="Seconds between those retries."),
    cfg.IntOpt("active_connection_max_retries", default=15, help="Retries once an amphora is up."),
    cfg.FloatOpt("active_connection_retry_interval", default=0.5, help="Seconds between them."),
    cfg.FloatOpt("rest_request_conn_timeout", default=10.0, help="Agent connect timeout, seconds."),
    cfg.FloatOpt("rest_request_read_timeout", default=60.0, help="Agent read timeout, seconds."),
    cfg.IntOpt("timeout_client_data", default=50000, help="Default listener client timeout, ms."),
    cfg.IntOpt("timeout_member_connect", default=5000, help="Default member connect timeout, ms."),
    cfg.IntOpt("timeout_member_data", default=50000, help="Default member data timeout, ms."),
    cfg.IntOpt("timeout_tcp_inspect", default=0, help="Default TCP inspect timeout, ms."),
    cfg.IntOpt("default_connection_limit", default=9000,
               help="HAProxy maxconn when a listener is unlimited (FD limit caps it near 9985)."),
    cfg.StrOpt("user_group", default="nogroup", help="Group HAProxy runs as."),
    cfg.IntOpt("hard_stop_after", default=300, help="Seconds old workers may live after reload."),
]

keepalived_vrrp_opts = [
    cfg.FloatOpt("vrrp_advert_int", default=0.2, help="VRRPv3 advertisement interval, seconds."),
    cfg.IntOpt("vrrp_check_interval", default=1, help="Seconds between HAProxy checks (whole)."),
    cfg.IntOpt("vrrp_fail_count", default=1, help="Failed checks before demotion."),
    cfg.IntOpt("vrrp_success_count", default=2, help="Successful checks before promotion."),
    cfg.IntOpt("vrrp_garp_refresh_interval", default=5, help="Gratuitous ARP refresh, seconds."),
    cfg.IntOpt("vrrp_garp_refresh_count", default=2, help="Gratuitous ARPs per refresh."),
]

certificates_opts = [
    cfg.StrOpt("cert_manager", default="local_cert_manager", help="Certificate manager entry point."),
    cfg.StrOpt("ca_certificate", help="CA certificate for amphora agent certs; default generated."),
    cfg.StrOpt("ca_private_key", help="CA private key; default generated."),
    cfg.StrOpt("ca_private_key_passphrase", secret=True, help="Passphrase of the CA key."),
    cfg.IntOpt("cert_validity_time", default=2592000, help="Seconds an amphora certificate lives."),
    cfg.StrOpt("storage_path", default="", help="Local certificate store; default state_path/certs."),
]

quota_opts = [
    cfg.IntOpt("default_load_balancer_quota", default=-1, help="Default LB quota (-1: unlimited)."),
    cfg.IntOpt("default_listener_quota", default=-1, help="Default listener quota."),
    cfg.IntOpt("default_member_quota", default=-1, help="Default member quota."),
    cfg.IntOpt("default_pool_quota", default=-1, help="Default pool quota."),
    cfg.IntOpt("default_health_monitor_quota", default=-1, help="Default health monitor quota."),
    cfg.IntOpt("default_l7policy_quota", default=-1, help="Default L7 policy quota."),
    cfg.IntOpt("default_l7rule_quota", default=-1, help="Default L7 rule quota."),
]

networking_opts = [
    cfg.ListOpt("reserved_ips", default=["169.254.169.254"], help="Addresses members may not use."),
    cfg.BoolOpt("allow_vip_network_id", default=True, help="Allow vip_network_id."),
    cfg.BoolOpt("allow_vip_subnet_id", default=True, help="Allow vip_subnet_id."),
    cfg.BoolOpt("allow_vip_port_id", default=True, help="Allow vip_port_id."),
    cfg.ListOpt("valid_vip_networks", help="Networks VIPs may use; empty: any."),
]

task_flow_opts = [
    cfg.StrOpt("engine", default="serial", choices=["serial", "parallel"], help="taskflow engine."),
    cfg.IntOpt("max_workers", default=5, help="Threads of the parallel engine."),
    cfg.BoolOpt("persistence", default=False, help="Persist flow state in the database."),
    cfg.StrOpt("jobboard_backend_hosts", help="Redis host of the jobboard (clustered mode)."),
]

driver_agent_opts = [
    cfg.StrOpt("status_socket_path", default="", help="Status socket; default state_path/status.sock."),
    cfg.StrOpt("stats_socket_path", default="", help="Stats socket; default state_path/stats.sock."),
    cfg.StrOpt("get_socket_path", default="", help="Get socket; default state_path/get.sock."),
    cfg.ListOpt("enabled_provider_agents", default=[], help="Provider agents to start."),
]

local_network_opts = [
    cfg.StrOpt("management_cidr", default="198.18.0.0/24",
               help="netns mode: amphora management subnet (host bridge holds the first address). "
               "Another /24 of 198.18.0.0/15 is picked if this one overlaps a host route."),
    cfg.StrOpt("management_bridge", default="o-lb-mgmt", help="netns mode: host management bridge."),
    cfg.StrOpt("vip_cidr", default="198.19.0.0/24", help="netns mode: IPv4 subnet of lb-vip-network."),
    cfg.StrOpt("vip_ipv6_cidr", default="",
               help="netns mode: IPv6 subnet of lb-vip-network; default a random ULA /64."),
    cfg.StrOpt("loopback_management_cidr", default="127.128.0.0/16",
               help="loopback mode: range of amphora management addresses."),
    cfg.StrOpt("loopback_vip_cidr", default="127.64.0.0/16",
               help="loopback mode: IPv4 subnet of lb-vip-network."),
    cfg.StrOpt("default_vip_network_name", default="lb-vip-network",
               help="Name of the local network created on first use."),
]

nova_opts = [
    cfg.BoolOpt("enable_anti_affinity", default=False, help="Server group per ACTIVE_STANDBY LB."),
    cfg.StrOpt("anti_affinity_policy", default="anti-affinity",
               choices=["anti-affinity", "soft-anti-affinity"], help="Policy of those server groups."),
    cfg.StrOpt("availability_zone", help="Availability zone of amphorae unless one is requested."),
]

service_auth_opts = [
    cfg.StrOpt("cloud", help="clouds.yaml entry the Nova and Neutron drivers (openstacksdk) use."),
]

_GROUPS: Sequence[tuple[str | None, Iterable[cfg.Opt]]] = (
    (None, default_opts),
    ("api_settings", api_opts),
    ("database", database_opts),
    ("controller_worker", controller_worker_opts),
    ("health_manager", health_manager_opts),
    ("house_keeping", house_keeping_opts),
    ("haproxy_amphora", haproxy_amphora_opts),
    ("keepalived_vrrp", keepalived_vrrp_opts),
    ("certificates", certificates_opts),
    ("quotas", quota_opts),
    ("networking", networking_opts),
    ("task_flow", task_flow_opts),
    ("driver_agent", driver_agent_opts),
    ("local_network", local_network_opts),
    ("nova", nova_opts),
    ("service_auth", service_auth_opts),
)

for _group, _opts in _GROUPS:
    CONF.register_opts(list(_opts), group=_group)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return [(group, list(opts)) for group, opts in _GROUPS]


def init(args: Sequence[str] | None = None, default_config_files: list[str] | None = None) -> None:
    """Parse the command line (`--config-file` etc.) into CONF."""
    CONF(
        list(args or []),
        project="octavia",
        default_config_files=default_config_files if default_config_files is not None else [],
    )


def state_path(*parts: str) -> str:
    path = os.path.join(CONF.state_path, *parts)
    return path


def database_url() -> str:
    if CONF.database.connection:
        return str(CONF.database.connection)
    os.makedirs(CONF.state_path, exist_ok=True)
    return "sqlite:///" + state_path("octavia.sqlite")
