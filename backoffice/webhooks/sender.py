"""One HTTP POST to an endpoint, connected to an address checked at send time.

The host is resolved and every address checked (backoffice.webhooks.addresses); the socket connects to
the first checked address while the request carries the URL's Host and, for https, its SNI and
certificate check. Redirects are never followed (http.client does not). The connect time, the total time
(a timer closes the socket, so a receiver dripping bytes cannot hold a worker) and the bytes read are capped."""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

from backoffice.webhooks import addresses

USER_AGENT = "Backoffice-Webhooks/1.0"


@dataclass
class Outcome:
    status: int | None
    latency_ms: float
    excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, *, address, connect_timeout, **kwargs):
        super().__init__(host, port, timeout=connect_timeout, **kwargs)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address, connect_timeout, context):
        super().__init__(host, port, timeout=connect_timeout, context=context)
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


_tls_context = None


def _context() -> ssl.SSLContext:
    global _tls_context
    if _tls_context is None:
        _tls_context = ssl.create_default_context()
    return _tls_context


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST ``body``; never raises for the receiver's faults: they are the Outcome's ``error``."""
    started = time.perf_counter()

    def failed(message: str, status=None) -> Outcome:
        return Outcome(status, (time.perf_counter() - started) * 1000, error=message[:300])

    try:
        parts = addresses.check_url(url)
        address = addresses.checked_addresses(parts)[0]
    except ValidationError as exc:
        return failed(" ".join(exc.messages))
    port = addresses.default_port(parts)
    connect_timeout = settings.WEBHOOK_CONNECT_TIMEOUT
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(
            parts.hostname, port, address=address, connect_timeout=connect_timeout, context=_context()
        )
    else:
        connection = _PinnedHTTPConnection(parts.hostname, port, address=address, connect_timeout=connect_timeout)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    expired = threading.Event()
    deadline = threading.Timer(settings.WEBHOOK_TOTAL_TIMEOUT, _abort, args=(connection, expired))
    deadline.daemon = True
    deadline.start()
    try:
        connection.connect()
        connection.sock.settimeout(settings.WEBHOOK_TOTAL_TIMEOUT)
        connection.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        response = connection.getresponse()
        read = response.read(settings.WEBHOOK_MAX_RESPONSE_BYTES)
        status = response.status
    except TimeoutError:
        return failed("timed out")
    except ConnectionRefusedError:
        return failed("connection refused")
    except ssl.SSLError as exc:
        return failed(f"TLS: {exc.reason or exc}")
    except (OSError, http.client.HTTPException) as exc:
        # The deadline set the flag before shutting the socket; the timer thread may still be running.
        if expired.is_set():
            return failed("timed out")
        return failed(f"{type(exc).__name__}: {exc}")
    finally:
        deadline.cancel()
        connection.close()
    latency = (time.perf_counter() - started) * 1000
    excerpt = read[: settings.WEBHOOK_RESPONSE_EXCERPT_BYTES].decode("utf-8", "replace")
    error = ""
    if 300 <= status < 400:
        error = f"redirect not followed ({response.getheader('Location', '')[:200]})"
    elif not 200 <= status < 300:
        error = f"HTTP {status}"
    return Outcome(status, latency, excerpt=excerpt, error=error)


def _abort(connection, expired: threading.Event) -> None:
    expired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
