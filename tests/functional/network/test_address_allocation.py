"""Ports created at once by several writers (the API and each worker, in separate
processes on PostgreSQL) never get the same address."""

from __future__ import annotations

import threading
from typing import Any

from octavia.db.api import session_scope
from octavia.network import local_registry as reg

WRITERS = 12


def test_concurrent_port_creates_get_distinct_addresses(db: Any) -> None:
    with session_scope(write=True) as session:
        network = reg.create_network(session, "alloc")
        reg.create_subnet(session, network.id, "192.0.2.0/24")
        network_id = network.id
    addresses: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def create() -> None:
        try:
            start.wait(timeout=10)
            with session_scope(write=True) as session:
                port = reg.create_port(session, network_id, name="concurrent")
                addresses.append(port.fixed_ips[0]["ip_address"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(addresses) == WRITERS
    assert len(set(addresses)) == WRITERS, sorted(addresses)
