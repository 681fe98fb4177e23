"""Secrets stay where they must be and nowhere else.

An all-in-one runs with a distinctive heartbeat key, CA key passphrase and (when a
PostgreSQL server is available) database password, and serves a TERMINATED_HTTPS
listener whose private key is encrypted with a distinctive passphrase. After real flows
(create, member change, agent config push, failover, error responses), every file under
its directory and every API and agent answer is searched: each secret appears only in
the files that must hold it (the config file; the agent's config drive; the amphora's
HAProxy certificate, for the TLS key) and never in a log, an error body or an answer.

Related guarantees tested elsewhere: the agent refuses clients without a certificate
from the service CA (tests/integration/agent/test_agent_api.py), heartbeats signed with
another key are dropped (tests/functional/health/test_heartbeat_receiver.py).
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import ssl
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from octavia.certificates.manager.local import LocalCertManager
from octavia.common.config import CONF
from tests.integration.e2e.harness import PROJECT, populated_lb_body
from tests.integration.e2e.traffic import NamedBackend
from tests.integration.faults import harness
from tests.integration.faults.harness import FaultAllInOne
from tests.integration.faults.test_db_outage import PG_ADMIN_URL, postgres_available
from tests.unit.certificates import helpers as certs

pytestmark = pytest.mark.slow
LBS = "/v2/lbaas/loadbalancers"
OK = (200, 201, 202, 204)


class Secrets:
    def __init__(self) -> None:
        tag = uuid.uuid4().hex
        self.heartbeat_key = f"hbkey{tag[:12]}"
        self.ca_passphrase = f"capass{tag[12:24]}"
        self.db_password = f"dbpass{tag[:12]}"
        self.tls_passphrase = f"tlspass{tag[12:24]}"
        self.tls_key = certs.make_key()
        # Base64 of the private scalar in the unencrypted PEM (the first line is mostly the
        # PKCS#8 header every P-256 key shares; the second starts 12 bytes into the 32-byte
        # scalar, and 27 characters cover its last 20 bytes): what a leaked key looks like.
        self.tls_key_text = certs.key_pem(self.tls_key).splitlines()[2][:27].decode()

    def forms(self, secret: str) -> list[bytes]:
        """The raw text and its base64 form (stores and JSON encode passphrases so)."""
        raw = secret.encode()
        return [raw, base64.b64encode(raw)]


@contextlib.contextmanager
def _postgres_with_password(password: str) -> Iterator[str | None]:
    """A role with `password` owning a fresh database, as a URL; None without PostgreSQL."""
    if not postgres_available():
        yield None
        return
    name = f"octavia_secrets_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'"))
        conn.execute(text(f"CREATE DATABASE {name} OWNER {name}"))
    try:
        url = create_engine(PG_ADMIN_URL).url.set(username=name, password=password, database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"DROP ROLE IF EXISTS {name}"))
        admin.dispose()


@pytest.fixture(scope="module")
def secrets() -> Secrets:
    return Secrets()


@pytest.fixture(scope="module")
def secret_aio(secrets: Secrets) -> Iterator[tuple[FaultAllInOne, bool]]:
    if shutil.which(CONF.haproxy_amphora.haproxy_cmd) is None:
        pytest.skip("haproxy is not installed")
    root = Path(tempfile.mkdtemp(prefix="faults-secrets-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, root, True)
        db_url = stack.enter_context(_postgres_with_password(secrets.db_password))
        extra = (f"[health_manager]\nheartbeat_key = {secrets.heartbeat_key}\n"
                 f"[certificates]\nca_private_key_passphrase = {secrets.ca_passphrase}\n")
        if db_url:
            extra += f"[database]\nconnection = {db_url}\n"
        service = FaultAllInOne(root, "loopback", extra=extra)
        stack.callback(service.close)
        service.start()
        yield service, db_url is not None


def _store_tls_cert(aio: FaultAllInOne, secrets: Secrets) -> str:
    """The listener's certificate and encrypted key, in the all-in-one's certificate store."""
    cert = certs.cert_pem(certs.make_cert(secrets.tls_key, cn="secrets.example.com"))
    key = certs.key_pem(secrets.tls_key, secrets.tls_passphrase.encode())
    CONF.set_override("state_path", str(aio.state_path))
    try:
        return LocalCertManager().store_cert(PROJECT, cert, key, passphrase=secrets.tls_passphrase.encode())
    finally:
        CONF.clear_override("state_path")


def _agent_answers(aio: FaultAllInOne, amphora: harness.LocalAmphora, lb_id: str) -> list[bytes]:
    ca_dir = aio.state_path / "ca"
    context = ssl.create_default_context(cafile=str(ca_dir / "ca.pem"))
    context.load_cert_chain(str(ca_dir / "client.pem"))
    base = f"https://{amphora.lb_network_ip}:{amphora.agent_conf()['bind_port']}/1.0"
    with httpx.Client(base_url=base, verify=context, timeout=30, trust_env=False) as agent:
        paths = ["/info", "/details", "/listeners", f"/loadbalancer/{lb_id}/haproxy"]
        return [agent.get(path, extensions={"sni_hostname": amphora.id}).content for path in paths]


def test_secrets_appear_only_where_they_must(
    secret_aio: tuple[FaultAllInOne, bool], secrets: Secrets
) -> None:
    aio, on_postgres = secret_aio
    gateway = aio.vip_subnet()["gateway_ip"]
    backends = [NamedBackend(f"b{i}", gateway) for i in range(1, 4)]
    answers: list[bytes] = []

    def call(method: str, path: str, expect: int | tuple[int, ...] = OK, **kw: Any) -> httpx.Response:
        response = aio.call(method, path, expect=expect, **kw)
        answers.append(response.content)
        return response

    try:
        ref = _store_tls_cert(aio, secrets)
        members = [(str(b.address), b.port) for b in backends[:2]]
        body = populated_lb_body(aio.vip_subnet()["id"], members, name="sec")
        listener = body["loadbalancer"]["listeners"][0]
        listener.update(protocol="TERMINATED_HTTPS", protocol_port=443, default_tls_container_ref=ref)
        lb = call("POST", LBS, json=body, expect=201).json()["loadbalancer"]
        lb_id, pool_id = lb["id"], lb["pools"][0]["id"]
        aio.wait_lb(lb_id)
        served = ssl.get_server_certificate((lb["vip_address"], 443), timeout=10)
        assert "BEGIN CERTIFICATE" in served

        call("POST", f"/v2/lbaas/pools/{pool_id}/members", expect=201,
             json={"member": {"address": backends[2].address, "protocol_port": backends[2].port}})
        aio.wait_lb(lb_id)
        amphora_id = aio.amphorae(lb_id)[0]["id"]
        call("PUT", f"/v2/octavia/amphorae/{amphora_id}/config", expect=202)
        for path in (LBS, f"{LBS}/{lb_id}", f"{LBS}/{lb_id}/status", "/v2/lbaas/listeners",
                     f"/v2/octavia/amphorae/{amphora_id}", "/v2/octavia/amphorae"):
            call("GET", path)
        # Error bodies: bad input, unknown object, locked object, bad certificate reference.
        call("POST", LBS, json={"loadbalancer": {"vip_subnet_id": "nope"}}, expect=400)
        call("GET", f"{LBS}/{uuid.uuid4()}", expect=404)
        call("POST", "/v2/lbaas/listeners", expect=400, json={"listener": {
            "loadbalancer_id": lb_id, "protocol": "TERMINATED_HTTPS", "protocol_port": 8443,
            "default_tls_container_ref": str(uuid.uuid4())}})
        call("PUT", f"{LBS}/{lb_id}/failover", expect=202)
        call("PUT", f"{LBS}/{lb_id}", json={"loadbalancer": {"name": "x"}}, expect=(200, 409))
        aio.wait_lb(lb_id, timeout=60)
        amphora = harness.local_amphora(aio, lb_id)
        answers += _agent_answers(aio, amphora, lb_id)
        assert ssl.get_server_certificate((lb["vip_address"], 443), timeout=10) == served

        allowed = {
            "heartbeat key": (secrets.heartbeat_key, ["octavia.conf", "agent.conf"]),
            "CA passphrase": (secrets.ca_passphrase, ["octavia.conf"]),
            "TLS key passphrase": (secrets.tls_passphrase, [f"certs/{ref}.json"]),
            "TLS private key": (secrets.tls_key_text, [f"lbs/{lb_id}/certs/"]),
        }
        if on_postgres:
            allowed["database password"] = (secrets.db_password, ["octavia.conf"])
        found = _files_holding(aio.root, {name: secrets.forms(value) for name, (value, _) in allowed.items()})
        misplaced = {name: [path for path in found[name] if not any(ok in path for ok in allowed[name][1])]
                     for name in allowed}
        database = "PostgreSQL" if on_postgres else "SQLite"
        print(f"\nsecrets found only in: { {name: sorted(set(found[name])) for name in found} }"
              f" ({len(answers)} API and agent answers searched; database {database})")
        assert misplaced == {name: [] for name in allowed}
        for name, (value, _) in allowed.items():
            leaks = [answer[:200] for answer in answers for form in secrets.forms(value) if form in answer]
            assert leaks == [], name
        # The places that must hold them do (the search works).
        assert any("agent.conf" in path for path in found["heartbeat key"])
        assert any(f"lbs/{lb_id}/certs/" in path for path in found["TLS private key"])
        call("DELETE", f"{LBS}/{lb_id}", params={"cascade": "true"}, expect=204)
        aio.wait_lb_gone(lb_id)
    finally:
        for server in backends:
            server.stop()


def _files_holding(root: Path, needles: dict[str, list[bytes]]) -> dict[str, list[str]]:
    """For each secret, the files under `root` (relative paths) holding any of its forms."""
    found: dict[str, list[str]] = {name: [] for name in needles}
    for directory, _, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            try:
                with open(path, "rb") as f:
                    content = f.read()
            except OSError:
                continue
            for secret, forms in needles.items():
                if any(form in content for form in forms):
                    found[secret].append(os.path.relpath(path, root))
    return found
