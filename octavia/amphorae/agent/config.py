"""Options of the amphora agent, in upstream's `[amphora_agent]` group.

Registered on the global CONF when imported: the agent reads them from its
`agent.conf`, and the controller's rest driver reads `bind_port` to reach agents.
"""

from __future__ import annotations

from oslo_config import cfg

from octavia.common.config import CONF

GROUP = "amphora_agent"

amphora_agent_opts = [
    cfg.StrOpt("agent_server_ca", default="/etc/octavia/certs/client_ca.pem",
               help="CA that must have signed the controller's client certificate."),
    cfg.StrOpt("agent_server_cert", default="/etc/octavia/certs/server.pem",
               help="PEM holding the agent's server certificate followed by its key; "
                    "PUT /1.0/certificate replaces it."),
    cfg.StrOpt("agent_server_network_dir",
               help="Directory where the agent records the interfaces it configured; "
                    "default: <base_path>/../network."),
    cfg.HostAddressOpt("bind_host", default="0.0.0.0", help="Address the agent listens on."),
    cfg.PortOpt("bind_port", default=9443, help="Port the agent listens on (the controller connects to it)."),
    cfg.StrOpt("amphora_id", help="Id of the amphora this agent runs in."),
    cfg.StrOpt("base_path", default="/var/lib/octavia",
               help="Directory holding one sub-directory per load balancer (haproxy.cfg, sockets, certs)."),
    cfg.StrOpt("haproxy_cmd", default="/usr/sbin/haproxy", help="HAProxy binary."),
    cfg.IntOpt("agent_request_read_timeout", default=180,
               help="Seconds a request body may take to arrive before the agent gives up on it."),
    cfg.FloatOpt("haproxy_check_interval", default=1.0,
                 help="Seconds between checks that each supervised HAProxy is still alive."),
    cfg.FloatOpt("haproxy_reload_timeout", default=30.0,
                 help="Seconds to wait for HAProxy to start or complete a reload."),
]

CONF.register_opts(amphora_agent_opts, group=GROUP)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """For oslo-config-generator."""
    return [(GROUP, list(amphora_agent_opts))]
