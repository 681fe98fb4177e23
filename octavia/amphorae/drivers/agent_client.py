"""HTTPS client of amphora agents: mutual TLS, identity check, bounded retries.

The controller presents its client certificate and verifies the agent's against the
service CA. It connects by IP (`lb_network_ip`) but names the amphora id as the TLS
server name, so the handshake fails unless the agent's certificate was issued for
that amphora: an address reused by another amphora is never mistaken for this one.
Only failures to connect are retried; a request the agent may have received is not.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from octavia.amphorae.drivers.errors import AgentIdentityError, AgentRequestError, AgentUnreachable
from octavia.certificates import loader
from octavia.common.config import CONF
from octavia.db import models

LOG = logging.getLogger(__name__)

API_PREFIX = "/1.0"
CLIENT_CERT_RECHECK = 300.0


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float
    max_retries: int
    retry_interval: float


def timeouts(timeout_dict: Mapping[str, float] | None, active: bool = False) -> Timeouts:
    """`[haproxy_amphora]` values (the `active_*` retry pair for an amphora already up),
    overridden by upstream's `timeout_dict` keys."""
    conf = CONF.haproxy_amphora
    values = {
        "req_conn_timeout": conf.rest_request_conn_timeout,
        "req_read_timeout": conf.rest_request_read_timeout,
        "conn_max_retries": conf.active_connection_max_retries if active else conf.connection_max_retries,
        "conn_retry_interval": (
            conf.active_connection_retry_interval if active else conf.connection_retry_interval
        ),
    }
    values.update(timeout_dict or {})
    return Timeouts(
        connect=float(values["req_conn_timeout"]),
        read=float(values["req_read_timeout"]),
        max_retries=max(1, int(values["conn_max_retries"])),
        retry_interval=float(values["conn_retry_interval"]),
    )


def _identity_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class AgentClient:
    """Requests to the agents; one TLS context shared by every call, renewed with the certificate."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._context: ssl.SSLContext | None = None
        self._context_key: tuple[object, ...] | None = None
        self._checked_at = 0.0

    def _cert_files(self) -> tuple[str, str]:
        conf = CONF.haproxy_amphora
        if conf.client_cert and conf.server_ca:
            return conf.client_cert, conf.server_ca
        paths = loader.get_cert_generator().get_client_cert()
        return conf.client_cert or paths.cert_file, conf.server_ca or paths.ca_file

    def ssl_context(self) -> ssl.SSLContext:
        with self._lock:
            now = time.monotonic()
            if self._context is not None and now - self._checked_at < CLIENT_CERT_RECHECK:
                return self._context
            cert_file, ca_file = self._cert_files()
            key = (cert_file, ca_file, os.stat(cert_file).st_mtime_ns, os.stat(ca_file).st_mtime_ns)
            if self._context is None or key != self._context_key:
                context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
                context.minimum_version = ssl.TLSVersion.TLSv1_2
                context.load_cert_chain(cert_file)
                self._context, self._context_key = context, key
            self._checked_at = now
            return self._context

    @staticmethod
    def base_url(amphora: models.Amphora) -> str:
        if not amphora.lb_network_ip:
            raise AgentUnreachable(f"amphora {amphora.id} has no management address")
        host = amphora.lb_network_ip
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
        return f"https://{host}:{CONF.haproxy_amphora.bind_port}{API_PREFIX}"

    def request(
        self,
        amphora: models.Amphora,
        method: str,
        path: str,
        *,
        timeout_dict: Mapping[str, float] | None = None,
        active: bool = False,
        content: bytes | None = None,
        json: Any = None,
        tolerate: tuple[int, ...] = (),
    ) -> httpx.Response:
        """One call to the agent; raises AgentRequestError on a status >= 400 not in `tolerate`."""
        limits = timeouts(timeout_dict, active)
        url = self.base_url(amphora) + path
        timeout = httpx.Timeout(limits.read, connect=limits.connect)
        last_error: Exception | None = None
        for attempt in range(limits.max_retries):
            if attempt:
                time.sleep(limits.retry_interval)
            try:
                with httpx.Client(verify=self.ssl_context(), timeout=timeout) as client:
                    response = client.request(
                        method, url, content=content, json=json, extensions={"sni_hostname": amphora.id}
                    )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                identity = _identity_failure(exc)
                if identity is not None:
                    raise AgentIdentityError(
                        f"{url} is not amphora {amphora.id}: {identity.verify_message}"
                    ) from exc
                last_error = exc
                continue
            except httpx.TransportError as exc:
                raise AgentUnreachable(f"{method} {url}: {exc!r}") from exc
            if response.status_code >= 400 and response.status_code not in tolerate:
                raise _request_error(response)
            return response
        message = f"amphora {amphora.id} agent at {url} unreachable after {limits.max_retries} attempts"
        LOG.warning("%s: %r", message, last_error)
        raise AgentUnreachable(f"{message}: {last_error!r}")


def _request_error(response: httpx.Response) -> AgentRequestError:
    try:
        body = response.json()
        message, details = str(body.get("message", "")), body.get("details")
    except ValueError:
        message, details = response.text[:200], None
    return AgentRequestError(response.status_code, message, details)
