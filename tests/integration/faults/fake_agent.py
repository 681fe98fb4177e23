"""A broken amphora agent that takes the real one's place on its address.

It speaks the real agent's TLS (the amphora's own server certificate, client
certificates from the service CA required), so the controller reaches it exactly as it
reaches the real agent; then every request gets `--mode 500` (an error status with an
upstream-shaped body) or `--mode garbage` (bytes that are not HTTP).

    python -m tests.integration.faults.fake_agent --host H --port P --cert PEM --ca PEM --mode 500
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import socketserver
import ssl
import sys
from collections.abc import Sequence

ERROR_BODY = b'{"message": "Internal Server Error", "details": "fault injected by the test"}'
MAX_REQUEST = 1 << 20


def _read_request(conn: ssl.SSLSocket) -> None:
    """Headers, then as much body as Content-Length says (bounded)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < MAX_REQUEST:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = min(int(value.strip() or b"0"), MAX_REQUEST)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk


def _answer(mode: str) -> bytes:
    if mode == "500":
        return (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(ERROR_BODY), ERROR_BODY))
    return b"\x00\xffNOT-HTTP " + os.urandom(64) + b"\r\n\r\n"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser()
    for name in ("--host", "--cert", "--ca"):
        parser.add_argument(name, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=["500", "garbage"], required=True)
    args = parser.parse_args(list(argv))

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert)
    context.load_verify_locations(args.ca)
    context.verify_mode = ssl.CERT_REQUIRED

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            with contextlib.suppress(OSError, ValueError):
                with context.wrap_socket(self.request, server_side=True) as conn:
                    conn.settimeout(10)
                    _read_request(conn)
                    conn.sendall(_answer(args.mode))

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True
        address_family = socket.AF_INET6 if ":" in args.host else socket.AF_INET

    with Server((args.host, args.port), Handler) as server:
        print(f"fake agent ({args.mode}) on {args.host}:{args.port}", flush=True)
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
