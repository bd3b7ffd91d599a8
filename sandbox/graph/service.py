"""Emulated Microsoft Graph v1.0, the router: signs the caller in from the bearer token, applies
the latency model and $batch, and hands each request to the resource that owns its first segment.

Resources: applications.py, credentials.py (password and key credentials, the lifetime policy),
principals.py (service principals, app role assignments, delegated grants), users.py (users,
groups, members), organization.py (organization, domains). Shapes, status codes and error bodies
follow Microsoft Graph v1.0 as Microsoft documents it.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import jwt

from .. import batch, directory
from ..directory import utcnow
from ..latency import resource_units
from ..odata import GraphError, bad_request
from ..web import Request, Response, json_response
from .access import Call, Caller
from .applications import Applications
from .credentials import Policies
from .organization import Organization
from .principals import ServicePrincipals
from .resource import graph_json, method_not_allowed, unknown_segment
from .users import Users

SEGMENT = re.compile(r"^([A-Za-z0-9_.]+)\((?:(\w+)=)?'((?:[^']|'')*)'\)$")
RESOURCES = (Applications, Policies, ServicePrincipals, Users, Organization)
# x-ms-throttle-limit-percentage is sent once the share of the budget spent is above this.
NEAR_LIMIT = 0.8


class GraphService:
    """The Graph server's handler: one instance of each resource, found by the first path segment."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self._handlers = {}
        for resource in RESOURCES:
            self._handlers.update(resource(sandbox).handlers())

    def handle(self, request: Request) -> Response:
        try:
            with self.sandbox.lock:
                caller, tenant = self._authenticate(request)
                if batch.is_batch(request.path):
                    if request.method != "POST":
                        raise method_not_allowed()
                    return self._batch(request, caller, tenant)
                return self._answer(request, caller, tenant)
        except GraphError as error:
            return self._error(error, request)

    def _answer(self, request: Request, caller: Caller, tenant: directory.Tenant) -> Response:
        """One request (on its own or inside a batch) past the throttling model and to its handler."""
        model = self.sandbox.latency
        try:
            units = None
            if model.enabled:
                units = resource_units(request.method, request.path[len("/v1.0") :], request.query)
                wait = model.admit(caller.app_id, tenant.id, len(tenant.users), units)
                if wait is not None:
                    raise GraphError(
                        429,
                        "TooManyRequests",
                        "Too many requests. Retry after the interval in the Retry-After header.",
                        headers={
                            "Retry-After": str(wait),
                            "x-ms-throttle-scope": f"Tenant_Application/ReadWrite/{caller.app_id}/{tenant.id}",
                            "x-ms-throttle-information": "ResourceUnitLimitExceeded",
                        },
                    )
            response = self._route(Call(request, tenant, caller))
            if units is not None:
                response.headers["x-ms-resource-unit"] = str(units)
                if model.settings["throttle"]["enabled"]:
                    # Graph's warning before it throttles: sent only above 0.8 of the budget (bench/README.md).
                    share = model.usage(caller.app_id, tenant.id, len(tenant.users))
                    if share > NEAR_LIMIT:
                        response.headers["x-ms-throttle-limit-percentage"] = "%.2f" % share
        except GraphError as error:
            response = self._error(error, request)
        return response

    def _batch(self, request: Request, caller: Caller, tenant: directory.Tenant) -> Response:
        """POST /v1.0/$batch (sandbox/batch.py): each inner request meets faults and throttling on its own."""
        items = batch.parse(request.body)
        date = utcnow().strftime("%Y-%m-%dT%H:%M:%S")
        answers, failed, objects = {}, set(), []
        for item in items:
            key = item["id"].lower()
            if any(dependency.lower() in failed for dependency in item.get("dependsOn") or ()):
                answers[key] = batch.failed_dependency(item, request.request_id, date)
                failed.add(key)
                continue
            inner = batch.inner_request(request, item)
            rule = self.sandbox.faults.match("graph", inner.method, inner.path, tenant.id)
            if rule is not None and self.sandbox.faults.kill_point(rule):
                self._answer(inner, caller, tenant)  # served, its answer lost (the client died)
                response = self.fault_response(rule, inner)
            elif rule is not None:
                response = self.fault_response(rule, inner)
            elif batch.is_batch(inner.path):
                response = self._error(bad_request("A batch cannot contain a batch.", code="BadRequest"), inner)
            else:
                response = self._answer(inner, caller, tenant)
            self.sandbox.stats.count_inner("graph", inner.method, rule is not None)
            self.sandbox.journal.record(
                "graph",
                inner.method,
                inner.path,
                inner.query_string,
                response.status,
                rule is not None,
                inner.request_id,
                peer=inner.peer,
                batch=request.request_id,
                tenant=tenant.id,
            )
            if response.status >= 400:
                failed.add(key)
            objects.append(response.objects)
            answers[key] = batch.entry(item, response)
        body = {"responses": [answers[item["id"].lower()] for item in json.loads(request.body)["requests"]]}
        response = json_response(200, body, content_type="application/json; charset=utf-8")
        response.inner = objects
        response.sequential = any(item.get("dependsOn") for item in items)
        return response

    def fault_response(self, rule, request: Request) -> Response:
        codes = {
            429: ("TooManyRequests", "Too many requests. Retry after the interval in the Retry-After header."),
            500: ("InternalServerError", "An internal server error occurred."),
            502: ("BadGateway", "The gateway received an invalid response."),
            503: ("ServiceUnavailable", "The service is temporarily unavailable."),
            504: ("GatewayTimeout", "The gateway timed out."),
            409: ("Directory_ConcurrencyViolation", "Another operation is modifying the object; try again."),
        }
        code, message = codes.get(rule.status, ("UnknownError", f"HTTP {rule.status}"))
        headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
        return self._error(GraphError(rule.status, rule.code or code, rule.message or message, headers=headers), request)

    def _error(self, error: GraphError, request: Request) -> Response:
        date = utcnow().strftime("%Y-%m-%dT%H:%M:%S")
        return graph_json(error.status, error.body(date, request.request_id, request.client_request_id), error.headers)

    def _authenticate(self, request: Request):
        unauthenticated = {
            "WWW-Authenticate": f'Bearer realm="", authorization_uri="{self.sandbox.authority_host}'
            f'/common/oauth2/authorize", client_id="00000003-0000-0000-c000-'
            f'000000000000"'
        }

        def reject(message):
            return GraphError(401, "InvalidAuthenticationToken", message, headers=unauthenticated)

        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        if not token.strip():
            raise reject("Access token is empty.")
        if scheme.lower() != "bearer":
            raise reject("Access token validation failure: the Authorization header must be 'Bearer <token>'.")
        try:
            claims = self.sandbox.services["login"].decode(token.strip())
        except jwt.ExpiredSignatureError:
            raise reject("Lifetime validation failed, the token is expired.") from None
        except jwt.InvalidAudienceError:
            raise reject("Access token validation failure. Invalid audience.") from None
        except jwt.PyJWTError:
            raise reject("Access token validation failure.") from None
        tenant = self.sandbox.tenants.get(claims["tid"])
        if tenant is None:
            raise reject("Access token validation failure. Invalid tenant.")
        delegated = "scp" in claims
        permissions = frozenset(claims.get("scp", "").split()) if delegated else frozenset(claims.get("roles", ()))
        return Caller(claims.get("appid"), permissions, delegated, claims.get("oid") if delegated else None), tenant

    def _route(self, call: Call) -> Response:
        path = call.request.path
        if not path.startswith("/v1.0/"):
            version = path.strip("/").split("/")[0]
            raise bad_request(f"Invalid version: '{version}'. This sandbox serves /v1.0 only.", code="BadRequest")
        raw = [unquote(part) for part in path[len("/v1.0/") :].strip("/").split("/")]
        first = SEGMENT.match(raw[0])
        if first:
            name, key = first.group(1), (first.group(2) or "id", first.group(3).replace("''", "'"))
            rest = raw[1:]
        else:
            name, key, rest = raw[0], None, raw[1:]
            if rest and name not in ("policies",):
                key, rest = ("id", rest[0]), rest[1:]
        handler = self._handlers.get(name)
        if handler is None:
            raise unknown_segment(name)
        return handler(call, key, rest)
