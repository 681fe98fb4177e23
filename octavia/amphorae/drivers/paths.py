"""Where an amphora keeps its per-load-balancer files.

The controller (rendering paths into HAProxy configs), the compute driver (writing
the agent's `base_path`) and the agent itself must agree on this directory, so it is
computed in one place.
"""

from __future__ import annotations

import os

from octavia.common import config
from octavia.common.config import CONF


def amphorae_root() -> str:
    """The directory holding one directory per local amphora."""
    return CONF.haproxy_amphora.base_path or config.state_path("amphorae")


def amphora_dir(amphora_id: str) -> str:
    """One local amphora's own directory: agent config, certificates, logs, `lbs/`."""
    return os.path.join(amphorae_root(), amphora_id)


def amphora_base_path(amphora_id: str) -> str:
    """Directory holding `{lb_id}/haproxy.cfg` etc. for one amphora."""
    return os.path.join(amphora_dir(amphora_id), "lbs")
