"""A minimal agent for spare-agent tests: `main(argv)` like the real one; it answers
plain HTTP on its management address with its amphora id and the inode of its network
namespace, so a test can tell where the spare went."""

from __future__ import annotations

import argparse
import configparser
import os
import socketserver
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config-file", required=True)
    args = parser.parse_args(list(argv))
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(args.config_file)
    agent = conf["amphora_agent"]
    body = f"{agent['amphora_id']} {os.stat('/proc/self/ns/net').st_ino} {os.getcwd()}".encode()
    print(f"echo agent {agent['amphora_id']} listening", flush=True)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.recv(4096)
            self.request.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    with socketserver.TCPServer((agent["bind_host"], int(agent["bind_port"])), Handler) as server:
        server.serve_forever()
    return 0
