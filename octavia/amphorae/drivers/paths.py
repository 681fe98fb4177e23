"""Where an amphora keeps its per-load-balancer files.

The controller (rendering paths into HAProxy configs), the compute driver (writing
the agent's `base_path`) and the agent itself must agree on this directory, so it is
computed in one place.
"""

from __future__ import annotations

import os

from octavia.common import config
from octavia.common.config import CONF


def amphora_base_path(amphora_id: str) -> str:
    """Directory holding `{lb_id}/haproxy.cfg` etc. for one amphora."""
    root = CONF.haproxy_amphora.base_path or config.state_path("amphorae")
    return os.path.join(root, amphora_id, "lbs")
