"""Small member servers for data-plane tests: each answers with its own name.

HTTP members record the headers they receive; TCP members prefix the echoed bytes with
their name; PROXY-protocol members parse the v1 or v2 header and answer with the
client address it carried; holding members keep connections open to count concurrency.
"""

from __future__ import annotations

import http.server
import ipaddress
import socket
import socketserver
import ssl
import struct
import sys
import threading
from typing import Any


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: NamedHttpServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.requests.append({name.lower(): value for name, value in self.headers.items()})
        body = self.server.name.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if self.server.app_cookie:
            self.send_header("Set-Cookie", f"{self.server.app_cookie}={self.server.name}")
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: tests read what they need from `requests`."""


class NamedHttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        name: str,
        address: str,
        port: int,
        app_cookie: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self.app_cookie = app_cookie
        self.requests: list[dict[str, str]] = []
        super().__init__((address, port), _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)

    def handle_error(self, request: Any, client_address: Any) -> None:
        _quiet_if_peer_left(self, request, client_address)


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, name: str, address: str, port: int, handler: type[socketserver.BaseRequestHandler]
    ) -> None:
        self.name = name
        super().__init__((address, port), handler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)

    def handle_error(self, request: Any, client_address: Any) -> None:
        _quiet_if_peer_left(self, request, client_address)


def _quiet_if_peer_left(server: socketserver.BaseServer, request: Any, client_address: Any) -> None:
    """HAProxy closing a connection (check, reload) is normal; anything else is reported."""
    if not isinstance(sys.exc_info()[1], ConnectionError):
        socketserver.BaseServer.handle_error(server, request, client_address)


class _EchoHandler(socketserver.BaseRequestHandler):
    server: _TcpServer

    def handle(self) -> None:
        self.request.sendall(self.server.name.encode() + b":")
        while data := self.request.recv(65536):
            self.request.sendall(data)


def echo_server(name: str, address: str, port: int) -> _TcpServer:
    return _TcpServer(name, address, port, _EchoHandler)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed inside a PROXY header")
        data += chunk
    return data


_V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def read_proxy_header(sock: socket.socket) -> tuple[str, str, int]:
    """(version, client address, client port) from a PROXY protocol v1 or v2 header."""
    start = _recv_exact(sock, 12)
    if start == _V2_SIGNATURE:
        _ver_cmd, family, length = struct.unpack("!BBH", _recv_exact(sock, 4))
        body = _recv_exact(sock, length)
        if family >> 4 == 1:  # AF_INET
            return "v2", str(ipaddress.IPv4Address(body[:4])), struct.unpack("!H", body[8:10])[0]
        return "v2", str(ipaddress.IPv6Address(body[:16])), struct.unpack("!H", body[32:34])[0]
    line = start
    while not line.endswith(b"\r\n"):
        line += _recv_exact(sock, 1)
    _proxy, _family, source, _dest, source_port, _dest_port = line.decode().split()
    return "v1", source, int(source_port)


class _ProxyHandler(socketserver.BaseRequestHandler):
    server: _TcpServer

    def handle(self) -> None:
        try:
            version, source, port = read_proxy_header(self.request)
        except (ConnectionError, ValueError):
            return
        self.request.sendall(f"{self.server.name} {version} {source} {port}\n".encode())


def proxy_protocol_server(name: str, address: str, port: int) -> _TcpServer:
    return _TcpServer(name, address, port, _ProxyHandler)


class HoldingServer(_TcpServer):
    """Accepts connections and keeps them until `release`, recording peak concurrency."""

    def __init__(self, name: str, address: str, port: int) -> None:
        self.active = 0
        self.peak = 0
        self.served = 0
        self.lock = threading.Lock()
        self.released = threading.Event()
        super().__init__(name, address, port, _HoldingHandler)

    def release(self) -> None:
        self.released.set()


class _HoldingHandler(socketserver.BaseRequestHandler):
    server: HoldingServer

    def handle(self) -> None:
        if not self.request.recv(1):
            return  # a connection probe, not a client
        with self.server.lock:
            self.server.active += 1
            self.server.peak = max(self.server.peak, self.server.active)
        self.server.released.wait(10)
        with self.server.lock:
            self.server.active -= 1
            self.server.served += 1
        self.request.sendall(b"done")
