"""The real amphora agent in a local amphora: mutual TLS on the management address, and
heartbeats that reach a controller bound to 127.0.0.1 (through the management bridge's
redirect in netns mode)."""

from __future__ import annotations

import json
import socket
import ssl
import time
import uuid
from collections.abc import Iterator

import pytest

from octavia.certificates.generator.local import LocalCertGenerator
from octavia.common import config
from octavia.compute.local import LocalComputeDriver
from tests.integration.compute.harness import available_modes, wait_for

pytestmark = pytest.mark.slow
CONF = config.CONF


@pytest.fixture
def heartbeat_socket() -> Iterator[socket.socket]:
    """A UDP 'health manager' on 127.0.0.1 that the agent is told to report to."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    CONF.set_override("controller_ip_port_list", [f"127.0.0.1:{sock.getsockname()[1]}"],
                      group="health_manager")
    CONF.set_override("heartbeat_interval", 0.5, group="health_manager")
    yield sock
    CONF.clear_override("controller_ip_port_list", group="health_manager")
    CONF.clear_override("heartbeat_interval", group="health_manager")
    sock.close()


def _mtls_get(host: str, amphora_id: str, path: str, generator: LocalCertGenerator) -> tuple[int, bytes]:
    client = generator.get_client_cert()
    context = ssl.create_default_context(cafile=client.ca_file)
    context.load_cert_chain(client.cert_file)
    with socket.create_connection((host, CONF.haproxy_amphora.bind_port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=amphora_id) as tls:
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {amphora_id}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize("local_env", available_modes(), indirect=True)
def test_real_agent_answers_mtls_and_sends_heartbeats(
    local_env: str, heartbeat_socket: socket.socket
) -> None:
    generator = LocalCertGenerator()
    amphora_id = str(uuid.uuid4())
    bundle = generator.generate_cert_key_pair(amphora_id, 3600)
    driver = LocalComputeDriver()
    started = time.monotonic()
    driver.build(name=f"amphora-{amphora_id}", config_drive_files={
        "/etc/octavia/certs/server.pem": bundle.pem,
        "/etc/octavia/certs/client_ca.pem": generator.get_ca_certificate(),
    })
    built_ms = (time.monotonic() - started) * 1000
    ip = driver.get_amphora(amphora_id)[0].lb_network_ip or ""

    def answer() -> tuple[int, bytes] | None:
        try:
            return _mtls_get(ip, amphora_id, "/1.0/info", generator)
        except OSError:
            return None

    result = wait_for(answer, timeout=20, interval=0.01)
    assert result is not None, "agent never answered over mTLS"
    print(f"\nreal agent, {local_env}: build {built_ms:.0f} ms, first mTLS answer after "
          f"{(time.monotonic() - started) * 1000:.0f} ms")
    status, body = result
    assert status == 200 and json.loads(body)

    def heartbeat() -> bytes | None:
        try:
            return heartbeat_socket.recvfrom(65536)[0]
        except TimeoutError:
            return None

    assert wait_for(heartbeat, timeout=15, interval=0), "no heartbeat reached 127.0.0.1"
