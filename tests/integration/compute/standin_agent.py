"""A stand-in for the amphora agent, used only while `octavia.cmd.amphora_agent` is absent.

It reads the agent.conf the local compute driver wrote and answers plain HTTP on the
management address and port, with its amphora id, so a test can tell that the process
runs where the driver said (inside the namespace, on lb_network_ip).
"""

from __future__ import annotations

import argparse
import configparser
import http.server
import socketserver


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config-file", required=True)
    args = parser.parse_args()
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(args.config_file)
    agent = conf["amphora_agent"]
    body = agent["amphora_id"].encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    # TCPServer, not HTTPServer: no reverse lookup of the bind address at start.
    server = socketserver.TCPServer((agent["bind_host"], int(agent["bind_port"])), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
