"""For webhook tests: a pretend DNS, a guard so no test connects beyond loopback, and an
ERP stand-in listening on loopback."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

# Stands for an ERP on the internet: a public address nothing here ever connects to.
PUBLIC = "93.184.215.14"


class FakeDNS:
    """socket.getaddrinfo answering from `names` (a list of answers is used up in turn, the
    last one staying); an address is its own answer; any other name does not resolve."""

    def __init__(self, names: dict[str, list[str] | list[list[str]]]):
        self.names = {k: v if isinstance(v[0], list) else [v] for k, v in names.items()}
        self.lookups: list[str] = []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        self.lookups.append(host)
        try:
            answers = [str(ipaddress.ip_address(host))]
        except ValueError:
            if host not in self.names:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            queue = self.names[host]
            answers = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in answers]


class LoopbackOnly:
    """socket.create_connection that refuses, and records, any address but loopback."""

    def __init__(self, real):
        self.real = real
        self.refused: list = []

    def __call__(self, address, *args, **kwargs):
        host = address[0]
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:  # a name: it would be resolved here, after any check
            loopback = False
        if not loopback:
            self.refused.append(address)
            raise ConnectionRefusedError(f"test guard: no connection to {address}")
        return self.real(address, *args, **kwargs)


def install(monkeypatch, names: dict | None = None) -> tuple[FakeDNS, LoopbackOnly]:
    dns = FakeDNS({"erp.example": [PUBLIC], **(names or {})})
    guard = LoopbackOnly(socket.create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    monkeypatch.setattr(socket, "create_connection", guard)
    return dns, guard


class Receiver:
    """An ERP stand-in on loopback that records what it was sent and answers `status`."""

    def __init__(self):
        self.received: list = []
        self.fetched: list = []  # GET requests: what a followed redirect turns a POST into
        self.status = 204
        self.location: str | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((self.headers, body))  # case-insensitive
                self.send_response(outer.status)
                if outer.location:
                    self.send_header("Location", outer.location)
                self.end_headers()

            def do_GET(self):  # noqa: N802
                outer.fetched.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/erp/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


class KeepAliveReceiver:
    """An ERP stand-in that keeps connections alive (HTTP/1.1) and answers several requests at
    once, each after `delay` seconds; it records the connections it saw, how many requests
    were in flight at most, and can fail chosen events' first tries."""

    def __init__(self, delay: float = 0.0):
        self.received: list[tuple[str, dict]] = []  # (path, body)
        self.connections: set = set()
        self.in_flight = self.most_in_flight = 0
        self.fail_first: set[int] = set()  # event ids answered 500 the first time
        self.delay = delay
        # Close each connection after answering, without saying so, as a server does with
        # connections left idle too long.
        self.drop_connections = False
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    outer.connections.add(self.client_address)
                    outer.in_flight += 1
                    outer.most_in_flight = max(outer.most_in_flight, outer.in_flight)
                    failing = body["event_id"] in outer.fail_first
                    outer.fail_first.discard(body["event_id"])
                time.sleep(outer.delay)
                with lock:
                    outer.in_flight -= 1
                    if not failing:
                        outer.received.append((self.path, body))
                self.send_response(500 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if outer.drop_connections:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, path: str) -> list[int]:
        return [body["event_id"] for p, body in self.received if p == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
