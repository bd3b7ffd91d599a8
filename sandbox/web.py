"""Plain request and response values passed between the HTTP servers and the services."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs


@dataclass
class Request:
    method: str
    path: str  # without the query string, still percent-encoded
    query_string: str
    headers: object  # email.message.Message: case-insensitive get()
    body: bytes
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    peer: str = ""  # the address the request came from (a proxy's, when it came through one)

    @property
    def query(self) -> dict:
        return parse_qs(self.query_string, keep_blank_values=True)

    @property
    def client_request_id(self) -> str:
        return self.headers.get("client-request-id") or self.request_id


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    # For the latency model: the objects the answer returns; for a JSON batch, the objects of each inner
    # request (None: not a batch) and whether they ran one after the other (dependsOn).
    objects: int = 0
    inner: list | None = None
    sequential: bool = False


def json_response(status: int, payload, headers: dict | None = None, content_type: str = "application/json; charset=utf-8") -> Response:
    return Response(status, json.dumps(payload).encode(), {"Content-Type": content_type, **(headers or {})})
