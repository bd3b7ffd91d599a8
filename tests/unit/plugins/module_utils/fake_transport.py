"""A scripted requests transport: the HTTP seam for unit tests (no sockets)."""

import json
import re

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


class Faults(object):
    """Answers a stateful fake gives to the next matching requests instead of its own (faults, odd answers):
    add() scripts one, take() hands out the next that matches a request, counting its uses down."""

    def __init__(self):
        self._scripted = []

    def add(self, method, path_pattern, times, answer):
        self._scripted.append([method, re.compile(path_pattern), times, answer])

    def take(self, method, path):
        for fault in self._scripted:
            if fault[0] == method and fault[1].search(path) and fault[2] > 0:
                fault[2] -= 1
                return fault[3]
        return None
