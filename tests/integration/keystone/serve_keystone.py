"""Serve Keystone's WSGI application on a loopback port (run with Keystone's own Python).

Keystone reads its configuration from OS_KEYSTONE_CONFIG_FILES and parses sys.argv with
oslo.config, so the port is taken off the command line before Keystone is imported.
"""

from __future__ import annotations

import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keystone logs requests itself."""


def main() -> None:
    port = int(sys.argv[1])
    sys.argv = sys.argv[:1]
    from keystone.server import wsgi

    app = wsgi.initialize_public_application()
    server = make_server("127.0.0.1", port, app, server_class=_Server, handler_class=_QuietHandler)
    print("serving", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
