"""Read-only stand-ins for the OpenStack APIs the CLI consults before calling this one.

Mount points:
* Networking v2.0 under `/v2.0` (Neutron's own prefix) and `/v2`: openstacksdk
  discovers the network endpoint from the version document at `/`, which names `/v2`,
  so `OS_NETWORK_ENDPOINT_OVERRIDE=http://<host>:<port>` lands on `/v2/subnets`.
* Identity v3 projects under `/v3` and at the root: keystoneclient appends
  `/projects` to `OS_ENDPOINT` as given, with or without `/v3`.
No path clashes with the load-balancing API, which lives under `/v2[.0]/lbaas` and
`/v2[.0]/octavia`.
"""

from __future__ import annotations

from fastapi import FastAPI

from octavia.api.shims import identity, neutron

NETWORK_PREFIXES = ("/v2.0", "/v2")
IDENTITY_PREFIXES = ("/v3", "")


def include_shims(app: FastAPI) -> None:
    for prefix in NETWORK_PREFIXES:
        app.include_router(neutron.router, prefix=prefix)
    for prefix in IDENTITY_PREFIXES:
        app.include_router(identity.router, prefix=prefix)
