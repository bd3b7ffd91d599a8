"""The sandbox's HTTPS servers: one per service on 127.0.0.1, a thread per connection, each request handed to
the Sandbox's dispatch (server.py) and answered after the latency model's wait."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .web import Request, Response

LOG = logging.getLogger("sandbox")
HOST = "127.0.0.1"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sandbox"
    sys_version = ""
    timeout = 60

    def setup(self):
        # The TLS handshake runs here, in the connection's own thread, so a slow or failing client
        # never holds up the accept loop.
        self.request.settimeout(self.timeout)
        # Headers and body go out as separate writes; without NODELAY, Nagle's algorithm meets the
        # client's delayed ACK and every response waits ~40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request = self.server.tls_context.wrap_socket(self.request, server_side=True)
        super().setup()

    def _serve(self):
        started = time.monotonic()
        parts = urlsplit(self.path)
        request = Request(self.command, parts.path, parts.query, self.headers, self._read_body(), peer=self.client_address[0])
        sandbox = self.server.sandbox
        response = sandbox.dispatch(self.server.service, request)
        if sandbox.latency.enabled:
            # The model's time is the whole answer's: what the sandbox itself spent counts towards it. The wait
            # is outside the world's lock, so slow answers do not hold up others.
            delay = sandbox.latency.delay(self.server.service, response.objects or _objects(response), response.inner, response.sequential) - (
                time.monotonic() - started
            )
            if delay > 0:
                time.sleep(delay)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format, *args):  # the journal records requests; keep stderr for problems
        LOG.debug("%s %s", self.server.service, format % args)


def _objects(response: Response) -> int:
    """The objects a JSON answer returns (for the latency model): a list's length, else 1."""
    if response.inner is not None or not response.body or not response.body.lstrip().startswith((b"[", b"{")):
        return 0
    try:
        payload = json.loads(response.body)
    except ValueError:
        return 0
    if isinstance(payload, dict):
        payload = next((value for value in payload.values() if isinstance(value, list)), payload)
    return len(payload) if isinstance(payload, list) else 1


class ServiceServer(ThreadingHTTPServer):
    """One service's HTTPS server on 127.0.0.1 (a free port), answering through sandbox.dispatch(service, request)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, service: str, sandbox, tls_context: ssl.SSLContext):
        self.service = service
        self.sandbox = sandbox
        self.tls_context = tls_context
        super().__init__((HOST, 0), _Handler)

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.server_address[1]}"

    def handle_error(self, request, client_address):
        # Clients that drop connections or refuse the certificate are not server errors.
        if isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError, TimeoutError)):
            return
        LOG.error("%s: error serving %s\n%s", self.service, client_address, traceback.format_exc())
