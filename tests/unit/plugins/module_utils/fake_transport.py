"""A scripted requests transport: the HTTP seam for unit tests (no sockets)."""

import json

import requests
from requests.adapters import BaseAdapter

JSON_HEADERS = {"Content-Type": "application/json"}


class ScriptedAdapter(BaseAdapter):
    """Answers each request with the next scripted (status, body, headers) and records the calls.

    For tests whose point is the exact conversation: which requests, in which order, with which headers,
    TLS and proxy settings (the HTTP client, sign-in, the modusCloud modules, one Graph call at a time).
    A test about what a Graph module ends up doing to the tenant uses FakeGraph
    (tests/unit/plugins/modules/fake_graph.py) instead: it keeps state and answers in any order.
    """

    def __init__(self, answers):
        super().__init__()
        self.answers = list(answers)
        self.calls = []

    def send(self, request, **kwargs):
        self.calls.append(
            {
                "method": request.method,
                "url": request.url,
                "body": request.body,
                "headers": dict(request.headers),
                "verify": kwargs.get("verify"),
                "timeout": kwargs.get("timeout"),
                "proxies": kwargs.get("proxies"),
            }
        )
        if not self.answers:
            raise AssertionError("unexpected request %s %s" % (request.method, request.url))
        status, body, headers = (self.answers.pop(0) + ({},))[:3]
        return make_response(request, status, body, headers)

    def close(self):
        pass


def make_response(request, status, body=None, headers=None):
    """The answer to `request`: `body` as JSON (bytes as they are), with `headers`."""
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response._content = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    response.url = request.url
    response.request = request
    return response


def attach(client, answers):
    adapter = ScriptedAdapter(answers)
    client.session.mount("https://", adapter)
    return adapter
