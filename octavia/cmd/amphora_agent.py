"""`octavia-amphora-agent --config-file <amp_dir>/agent.conf`: the agent inside an amphora."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from octavia.amphorae.agent import config as _agent_config  # noqa: F401  (registers [amphora_agent])
from octavia.amphorae.agent.app import create_app
from octavia.amphorae.agent.server_tls import build_server
from octavia.amphorae.agent.state import AgentState
from octavia.amphorae.agent.supervisor import HAProxySupervisor
from octavia.common import config

LOG = logging.getLogger("octavia.amphorae.agent")


def _network_dir(base_path: str) -> str:
    configured = config.CONF.amphora_agent.agent_server_network_dir
    # realpath: the base path may be a short link into the amphora's own directory
    return configured or os.path.join(os.path.dirname(os.path.realpath(base_path)), "network")


def build_state() -> AgentState:
    opts = config.CONF.amphora_agent
    base_path = os.path.abspath(opts.base_path)
    supervisor = HAProxySupervisor(
        base_path=base_path,
        haproxy_cmd=opts.haproxy_cmd,
        timeout=opts.haproxy_reload_timeout,
        check_interval=opts.haproxy_check_interval,
    )
    config_files = list(config.CONF.config_file or [])
    return AgentState(
        supervisor=supervisor,
        amphora_id=opts.amphora_id,
        haproxy_cmd=opts.haproxy_cmd,
        base_path=base_path,
        network_dir=_network_dir(base_path),
        topology=config.CONF.controller_worker.loadbalancer_topology,
        cert_file=opts.agent_server_cert,
        config_file=config_files[-1] if config_files else None,
        read_timeout=float(opts.agent_request_read_timeout),
        conf=config.CONF,
    )


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr,
        format="%(asctime)s %(process)d %(levelname)s %(name)s %(message)s",
    )
    config.init(list(sys.argv[1:] if argv is None else argv))
    opts = config.CONF.amphora_agent
    LOG.info("Starting amphora agent %s on %s:%s (base path %s)", opts.amphora_id, opts.bind_host,
             opts.bind_port, opts.base_path)
    state = build_state()
    app = create_app(state)
    server, ssl_context = build_server(
        app, host=opts.bind_host, port=opts.bind_port, cert_file=opts.agent_server_cert,
        ca_file=opts.agent_server_ca,
    )
    state.ssl_context = ssl_context
    server.run()



if __name__ == "__main__":
    main()
