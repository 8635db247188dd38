"""Sending a webhook: only to public addresses, unless listed, and to the address checked.

A webhook URL is chosen by whoever registers it, and the service POSTs to it from inside the
network: pointed at 169.254.169.254, localhost or a private range it would reach the cloud
metadata service or internal systems (server-side request forgery). So the host is resolved
and every address it resolves to must be public, at registration and again at each send,
unless the host (or address, or network) is in `webhook_allowed_internal_hosts` (an
on-premise ERP). The send then connects to the very address that was checked, with the
name kept for the Host header and TLS, so a name that resolves differently a moment later
(DNS rebinding) cannot steer it elsewhere.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

# NAT64 addresses carry an IPv4 address in their last 32 bits (RFC 6052).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Response:
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class RefusedEndpoint(ValueError):
    """The URL's host does not resolve, or resolves to an internal address not allowed."""


@dataclass(frozen=True)
class AddressPolicy:
    """Which internal hosts webhooks may reach: names, addresses or networks (CIDR)."""

    allowed_internal_hosts: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings) -> AddressPolicy:
        return cls(tuple(settings.webhook_allowed_internal_hosts))

    @cached_property
    def _names(self) -> frozenset[str]:
        return frozenset(h.lower().rstrip(".") for h in self.allowed_internal_hosts
                         if _network(h) is None)

    @cached_property
    def _networks(self) -> tuple:
        return tuple(n for n in map(_network, self.allowed_internal_hosts) if n is not None)

    def refusal(self, host: str, address: str) -> str | None:
        """Why `host`, resolved to `address`, may not be sent to (None: it may)."""
        ip = _unwrapped(ipaddress.ip_address(address.split("%", 1)[0]))
        if ip.is_global and not ip.is_multicast:
            return None
        if host.lower().rstrip(".") in self._names or any(
                ip.version == n.version and ip in n for n in self._networks):
            return None
        return (f"{host} resolves to {ip}, an internal address (loopback, private, "
                "link-local, reserved or multicast) not in webhook_allowed_internal_hosts")

    def resolve(self, host: str, port: int) -> list[str]:
        """The addresses to connect to, all allowed; RefusedEndpoint otherwise."""
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise RefusedEndpoint(f"{host} does not resolve ({exc})") from exc
        addresses = list(dict.fromkeys(info[4][0] for info in found))
        if not addresses:
            raise RefusedEndpoint(f"{host} does not resolve")
        # Every one, not just the first: the connection may fall through to any of them.
        for address in addresses:
            if (why := self.refusal(host, address)) is not None:
                raise RefusedEndpoint(why)
        return addresses


def check_url(url: str, policy: AddressPolicy) -> None:
    """RefusedEndpoint unless the URL's host resolves to addresses it may be sent to."""
    host, port = _host_port(url)
    policy.resolve(host, port)


def post_json(url: str, body: bytes, headers: dict, timeout: int, *,
              addresses: AddressPolicy | None = None) -> Response:
    """POST once; every failure (refused address, connection, time-out) is an answer too."""
    try:
        host, port = _host_port(url)
        targets = (addresses or AddressPolicy()).resolve(host, port)
    except RefusedEndpoint as exc:
        return Response(None, f"refused: {exc}")
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(host, port, timeout=timeout)
    # Connect to an address checked above; Host header and TLS name stay the URL's host.
    connection._create_connection = lambda _address, *args: _connect(targets, port, *args)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        answer = connection.getresponse()
        status, moved = answer.status, answer.getheader("Location")
    except Exception as exc:  # noqa: BLE001 - any failure to send is one failed attempt
        # Connection trouble, time-outs, TLS errors alike: the delivery is retried and ends
        # as failed, the batch goes on.
        return Response(None, f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()
    if 200 <= status < 300:
        return Response(status)
    # A redirect is the endpoint's answer, not a place to go (it could point anywhere).
    moved = moved if 300 <= status < 400 else None
    return Response(status, f"HTTP {status}" + (f" to {moved}" if moved else ""))


# What a send on a kept connection the endpoint has meanwhile closed fails with.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class KeptConnection:
    """One HTTP/1.1 connection to an endpoint, kept open between sends (one thread at a time).

    The host's addresses are checked whenever it (re)connects, as post_json checks them on
    every send: a connection once made stays with the address that was checked. Any failure
    closes it; the next send connects afresh."""

    def __init__(self, url: str, addresses: AddressPolicy | None = None):
        self.url, self.addresses = url, addresses or AddressPolicy()
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._connection: http.client.HTTPConnection | None = None

    def _open(self, timeout: int) -> http.client.HTTPConnection:
        host, port = _host_port(self.url)
        targets = self.addresses.resolve(host, port)
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = kind(host, port, timeout=timeout)
        connection._create_connection = lambda _address, *args: _connect(targets, port, *args)
        return connection

    def post(self, body: bytes, headers: dict, timeout: int) -> Response:
        try:
            reused = self._connection is not None
            try:
                status, moved = self._exchange(body, headers, timeout)
            except _STALE:
                if not reused:
                    raise
                # The endpoint closed the idle connection since the last send (servers do,
                # after a few seconds): this is no answer from it, so try once on a new one.
                self.close()
                status, moved = self._exchange(body, headers, timeout)
        except RefusedEndpoint as exc:
            self.close()
            return Response(None, f"refused: {exc}")
        except Exception as exc:  # noqa: BLE001 - any failure to send is one failed attempt
            self.close()
            return Response(None, f"{type(exc).__name__}: {exc}")
        if 200 <= status < 300:
            return Response(status)
        moved = moved if 300 <= status < 400 else None
        return Response(status, f"HTTP {status}" + (f" to {moved}" if moved else ""))

    def _exchange(self, body: bytes, headers: dict, timeout: int) -> tuple[int, str | None]:
        if self._connection is None:
            self._connection = self._open(timeout)
        self._connection.timeout = timeout
        self._connection.request("POST", self._target, body=body, headers=headers)
        answer = self._connection.getresponse()
        status, moved = answer.status, answer.getheader("Location")
        answer.read()  # the connection is reusable only once the answer is read
        if answer.will_close:
            self.close()
        return status, moved

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _connect(targets: list[str], port: int, timeout, source_address=None) -> socket.socket:
    error: OSError | None = None
    for address in targets:
        try:
            return socket.create_connection((address, port), timeout, source_address)
        except OSError as exc:
            error = exc
    raise error or OSError("no address to connect to")


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise RefusedEndpoint("not an http(s) URL with a host")
    if parts.username is not None or parts.password is not None:
        raise RefusedEndpoint("credentials in the URL")
    try:
        port = parts.port
    except ValueError as exc:
        raise RefusedEndpoint(f"a bad port ({exc})") from exc
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _network(entry: str):
    try:
        return ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        return None


def _unwrapped(ip):
    """The IPv4 address an IPv6 one stands for, where it stands for one."""
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip
