"""Any requests adapter served over plain HTTP on 127.0.0.1, for code under test that makes its own requests.

Each request becomes a requests.PreparedRequest for the adapter (the unit tests' FakeSignIn in front of FakeGraph),
and its answer is written back: the fakes of the requests seam, reached through a real socket.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class AdapterServer(ThreadingHTTPServer):
    """`with AdapterServer() as server:` serves `server.adapter` (set it any time) at `server.url`."""

    daemon_threads = True

    def __init__(self, adapter=None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = "http://127.0.0.1:%d" % self.server_address[1]
        self.adapter = adapter
        self.lock = threading.Lock()  # the fakes keep state and records: one request at a time
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {name: value for name, value in self.headers.items() if name.lower() not in ("host", "content-length")}
        request = requests.Request(self.command, self.server.url + self.path, headers=headers, data=body).prepare()
        with self.server.lock:
            response = self.server.adapter.send(request)
        content = response.content
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    def log_message(self, *args):
        pass
