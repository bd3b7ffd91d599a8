"""What every emulated Graph resource shares: the base class of the resource handlers (permission
check, request body, collection pages with $filter/$select/$top/$count/$skiptoken, single entities)
and the small answers and errors they all give.
"""

from __future__ import annotations

import json

from .. import directory
from ..odata import GraphError, Schema, bad_request, matches, next_link, paginate, parse_query
from ..web import Response, json_response
from .access import Call, require

CONTENT_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
DIRECTORY_PAGE_SIZE = 100  # Graph's default page for users, groups, members, grants, assignments


class GraphResource:
    """One top-level Graph segment (or a few related ones). SEGMENTS maps each segment this
    resource answers to the name of its handler method, called as handler(call, key, rest)."""

    SEGMENTS: dict = {}

    def __init__(self, sandbox):
        self.sandbox = sandbox

    def handlers(self) -> dict:
        return {segment: getattr(self, method) for segment, method in self.SEGMENTS.items()}

    @property
    def _base(self) -> str:
        return f"{self.sandbox.graph_url}/v1.0"

    def _context(self, fragment: str, select=None) -> str:
        return f"{self._base}/$metadata#{fragment}" + (f"({','.join(select)})" if select else "")

    @staticmethod
    def _require(call: Call, operation: str) -> None:
        require(call, operation)

    def _query(self, call: Call, schema: Schema | None, collection: bool):
        return parse_query(call.request.query, schema, call.request.headers, collection)

    def _body(self, call: Call) -> dict:
        if not call.request.body.strip():
            raise bad_request("Empty Payload. JSON content expected.", code="BadRequest")
        try:
            body = json.loads(call.request.body)
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise bad_request(
                "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.", code="BadRequest"
            )
        return body

    def _list(self, call: Call, schema: Schema, entries, get, render_one, context: str, *, page_size: int, keep_extra=None) -> Response:
        """A collection page: filter, $select, $top, $count and signed $skiptoken paging."""
        query = self._query(call, schema, collection=True)
        scope = f"{call.tenant.id}:{call.request.path}"
        start = self.sandbox.page_tokens.position(query.skiptoken, scope, query) if query.skiptoken else 0

        def selected(obj):
            return matches(query.conditions, get, obj)

        def keep(obj):
            return selected(obj) and (keep_extra is None or keep_extra(obj))

        count = (lambda: sum(1 for _, obj in entries(0) if selected(obj))) if query.count else None
        page = paginate(entries, keep, start, query.top or page_size, count)
        body = {"@odata.context": self._context(context, query.select)}
        if page.count is not None:
            body["@odata.count"] = page.count
        body["value"] = [render_one(obj, query.select) for obj in page.items]
        if page.next_position is not None:
            token = self.sandbox.page_tokens.issue(scope, query, page.next_position)
            body["@odata.nextLink"] = next_link(f"{self.sandbox.graph_url}{call.request.path}", query, token)
        response = graph_json(200, body)
        response.objects = len(body["value"])
        return response

    def _entity(self, call: Call, schema: Schema, obj, render_one, context: str) -> Response:
        query = self._query(call, schema, collection=False)
        response = graph_json(200, {"@odata.context": self._context(context, query.select) + "/$entity", **render_one(obj, query.select)})
        response.objects = 1
        return response

    def _visible(self, tenant: directory.Tenant):
        return lambda obj: not tenant.invisible(obj["id"])

    def _start_lag(self, tenant: directory.Tenant, object_id: str) -> None:
        if self.sandbox.faults.lag:
            tenant.lagging[object_id] = self.sandbox.faults.lag


def graph_json(status: int, payload, headers: dict | None = None) -> Response:
    return json_response(status, payload, headers, content_type=CONTENT_TYPE)


def no_content() -> Response:
    return Response(204)


def unknown_segment(segment: str) -> GraphError:
    return bad_request(f"Resource not found for the segment '{segment}'.", code="BadRequest")


def method_not_allowed() -> GraphError:
    return GraphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request uri.")


def prefers_create(call: Call) -> bool:
    preferences = (call.request.headers.get("Prefer") or "").lower().replace(" ", "").split(",")
    return "create-if-missing" in preferences


def indexed(items: list):
    """entries() for a plain list: positions are 1-based indexes."""

    def entries(after: int):
        return enumerate(items[after:], after + 1)

    return entries


def pick(obj: dict, select=None) -> dict:
    return {name: obj.get(name) for name in select} if select else dict(obj)


def get_field(obj: dict, name: str):
    return obj.get(name)
