"""Where a local amphora lives on disk, shared by the compute driver, the agent and the
controller-side driver so they agree without passing paths around."""

from __future__ import annotations

import os

from octavia.common import config


def amphorae_root() -> str:
    return config.CONF.haproxy_amphora.base_path or config.state_path("amphorae")


def amphora_dir(amphora_id: str) -> str:
    """The amphora's own directory: config, certificates, sockets, logs."""
    return os.path.join(amphorae_root(), amphora_id)


def amphora_base_path(amphora_id: str) -> str:
    """The agent's base_path: one subdirectory per load balancer it serves."""
    return os.path.join(amphora_dir(amphora_id), "lbs")
