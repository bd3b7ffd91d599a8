"""Graph JSON batching: POST /v1.0/$batch, as Microsoft documents it (graph/json-batching).

- The body is {"requests": [...]}, 1 to 20 requests, each with a unique (case-insensitive) string
  `id`, a `method`, a `url` relative to the version root ("/users" or "users"), optional `headers`
  (required with a `body`, and then with a Content-Type) and optional `dependsOn` (ids of other
  requests of the batch). A malformed batch is answered 400 as a whole, in Graph's error envelope.
- A parseable batch is answered 200 with {"responses": [{"id", "status", "headers", "body"?}]};
  each inner request is authorised with the batch's token, meets the fault script and the
  throttling model on its own (a throttled inner request gets its 429 and Retry-After inside the
  200), and a request whose dependency failed gets 424 Failed Dependency.
- Requests without dependsOn run in any order; the sandbox runs them in the order given and
  answers in that order, which the documentation allows ("might appear in a different order").

What Microsoft does not document (the exact message texts of the 400s and of the 424) is written
here in Graph's style and marked as assumed in bench/README.md.
"""

from __future__ import annotations

import email.message
import json
from urllib.parse import urlsplit

from .odata import GraphError
from .web import Request, Response

MAX_REQUESTS = 20
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")


def is_batch(path: str) -> bool:
    return path.rstrip("/") in ("/v1.0/$batch", "/v1.0/%24batch")


def _malformed(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)


def parse(body: bytes) -> list:
    """The batch's requests, checked; GraphError 400 when the batch itself is malformed."""
    try:
        payload = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("requests"), list):
        raise _malformed("Invalid batch payload format.")
    requests = payload["requests"]
    if not requests:
        raise _malformed("Invalid batch payload format: the batch has no requests.")
    if len(requests) > MAX_REQUESTS:
        raise _malformed(f"The number of requests in the batch ({len(requests)}) exceeds the limit of {MAX_REQUESTS}.")
    seen = set()
    for item in requests:
        if not isinstance(item, dict):
            raise _malformed("Invalid batch payload format: each request must be a JSON object.")
        for name in ("id", "method", "url"):
            if not isinstance(item.get(name), str) or not item[name].strip():
                raise _malformed(f"Invalid batch payload format: each request needs a string '{name}'.")
        key = item["id"].lower()
        if key in seen:
            raise _malformed(f"Batch request contains duplicate id '{item['id']}'.")
        seen.add(key)
        if item["method"].upper() not in METHODS:
            raise _malformed(f"Invalid method '{item['method']}' in request '{item['id']}'.")
        headers = item.get("headers")
        if headers is not None and (not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values())):
            raise _malformed(f"Invalid headers in request '{item['id']}': an object of string values is expected.")
        if "body" in item and not any(name.lower() == "content-type" for name in (headers or {})):
            raise _malformed(f"Write request id : {item['id']}, does not contain Content-Type header or body.")
        depends = item.get("dependsOn")
        if depends is not None and (not isinstance(depends, list) or not all(isinstance(d, str) for d in depends)):
            raise _malformed(f"Invalid dependsOn in request '{item['id']}': a list of request ids is expected.")
    for item in requests:
        for dependency in item.get("dependsOn") or ():
            if dependency.lower() not in seen:
                raise _malformed(f"Request '{item['id']}' depends on '{dependency}', which is not in the batch.")
    return _ordered(requests)


def _ordered(requests: list) -> list:
    """The requests in an order that runs each after its dependencies; a cycle is a malformed batch."""
    by_id = {item["id"].lower(): item for item in requests}
    done, order, visiting = set(), [], set()

    def visit(item):
        key = item["id"].lower()
        if key in done:
            return
        if key in visiting:
            raise _malformed(f"The dependsOn of request '{item['id']}' forms a cycle.")
        visiting.add(key)
        for dependency in item.get("dependsOn") or ():
            visit(by_id[dependency.lower()])
        visiting.discard(key)
        done.add(key)
        order.append(item)

    for item in requests:
        visit(item)
    return order


def inner_request(outer: Request, item: dict) -> Request:
    """The inner request as the Graph service sees it: the batch's Authorization, the item's own headers."""
    parts = urlsplit(item["url"].strip())
    path = "/v1.0/" + parts.path.lstrip("/")
    headers = email.message.Message()
    for name in ("Authorization", "client-request-id"):
        if outer.headers.get(name):
            headers[name] = outer.headers.get(name)
    for name, value in (item.get("headers") or {}).items():
        del headers[name]
        headers[name] = value
    body = item.get("body")
    raw = b"" if body is None else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
    # An inner request came from where its batch came from (a proxy's address, when the batch came through one).
    return Request(item["method"].upper(), path, parts.query, headers, raw, peer=outer.peer)


def failed_dependency(item: dict, request_id: str, date: str) -> dict:
    error = GraphError(424, "FailedDependency", f"The request '{item['id']}' was not run: a request it depends on failed.")
    return {"id": item["id"], "status": 424, "headers": {"Content-Type": "application/json"}, "body": error.body(date, request_id, request_id)}


def entry(item: dict, response: Response) -> dict:
    """One element of `responses`: the inner answer's status, headers and parsed body."""
    headers = {name: value for name, value in response.headers.items() if name.lower() not in ("content-length", "request-id", "client-request-id")}
    result = {"id": item["id"], "status": response.status, "headers": headers}
    if response.body:
        try:
            result["body"] = json.loads(response.body)
        except ValueError:
            result["body"] = response.body.decode("utf-8", "replace")
    return result
