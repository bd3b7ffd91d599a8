"""The control API: reset, seed, faults, policy, extra tenants, the modusCloud clock, directory
edits, and read-outs (info, stats, state, journal) for tests and demos. JSON in, JSON out;
errors are {"error": "<what is wrong and what is allowed>"} with status 400, 404, 405 or 409.

GET    /info      the info document of the default tenant (as written to --info-file)
GET    /stats     {"requests", "writes", "batched", "by_service": {graph|login|moduscloud: {"requests", "writes",
                  "batched"}}, "faults_fired"}; requests/writes count Graph and modusCloud only, writes = non-GET;
                  a JSON batch is one request, its inner requests count as batched (and as writes if not GET)
                  (POST /reset also puts the latency model back as --latency-model set it)
GET    /state     {"tenants": {id: apps (no secrets), service principals, assignments, grants, policy,
                  directory sizes, lagging objects}, "faults", "moduscloud": its snapshot() or null}
GET    /journal   ?service=graph|login|moduscloud&since=<seq>&tenant=<id or domain>: {"entries": [{"seq",
                  "time", "ts", "service", "method", "path", "query", "status", "fault", "request_id", "peer",
                  "tenant"}]}; peer is the client's address (a forwarding proxy's when the request came through
                  one), tenant the id of the tenant the request was for (or null)
POST   /reset     {"users"?, "groups"?, "seed"?}: only the default tenant (same ids and credentials),
                  fresh directory and modusCloud, no faults, empty journal, zero counters
POST   /seed      {"users", "groups"?, "seed"?, "tenant"?}: generated directory for a tenant
GET|POST|DELETE /faults   {"rules": [{"service", "method", "path" (regex on the URL path), "status",
                  "retry_after"?, "times"? (default 1, null = always), "skip"?, "code"?, "message"?,
                  "tenant"? (only that tenant's requests), "kill"? (dispatch the request, answer the status,
                  then answer it to every request of the tenant: a client that died right after it)}],
                  "lag"?, "secret_delay_seconds"?, "token_lifetime_seconds"?}
PUT    /policy    {"tenant_id"?, "password_max_lifetime_days": N | null, "restrict_for_apps_created_after"?}
POST   /tenants   {"name"?, "users"?, "groups"?, "seed"?} -> 201 and the new tenant's info document
GET|PUT /latency  the latency and throttling model (sandbox/latency.py): {"enabled", "rtt_ms", "per_object_ms",
                  "inner_ms" (per service), "throttle": {"enabled", "window_seconds", "budgets": {S, M, L},
                  "size_limits": {S, M}}, "throttled"}; PUT takes any of them, or "preset": "default" | "off"
POST   /tenants   {"name"?, "users"?, "groups"?, "seed"?, "moduscloud_variants"?} -> 201 and the new tenant's
                  info document; moduscloud_variants: its organization's own variants (as PUT below)
GET    /moduscloud/variants   {"available": every variant, "service": the service's, "orgs": {org: in effect}}
PUT    /moduscloud/variants   {"variants": [names], "org"?}: the service's variants (unnamed questions back to
                  their defaults) or, with org (any of its domains), that organization's own; answers as GET
POST   /clock     {"hours": H} -> modusCloud's advance_clock(H): the scheduled syncs that ran
POST   /directory/users|groups, PATCH|DELETE /directory/users|groups/{id}   ?tenant=<id or domain>:
                  Graph-named fields (users: also "licensed"; groups: also "members", a list of ids)
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import unquote

from . import directory
from .directory import USER_FIELDS, GROUP_FIELDS, iso, new_id, utcnow
from .faults import FaultError
from .latency import LatencyError
from .seeding import generate_directory
from .web import Request, Response, json_response

TENANT_NAME = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
MAX_SEED_USERS = 500_000
MAX_SEED_GROUPS = 200_000


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class ControlService:
    def __init__(self, sandbox):
        self.sandbox = sandbox

    def handle(self, request: Request) -> Response:
        segments = [unquote(part) for part in request.path.strip("/").split("/") if part]
        routes = {
            ("GET", "info"): self._info,
            ("GET", "stats"): self._stats,
            ("GET", "state"): self._state,
            ("GET", "journal"): self._journal,
            ("POST", "reset"): self._reset,
            ("POST", "seed"): self._seed,
            ("GET", "faults"): self._get_faults,
            ("POST", "faults"): self._set_faults,
            ("DELETE", "faults"): self._clear_faults,
            ("PUT", "policy"): self._policy,
            ("POST", "tenants"): self._add_tenant,
            ("POST", "clock"): self._clock,
            ("GET", "latency"): self._get_latency,
            ("PUT", "latency"): self._set_latency,
            ("GET", "moduscloud/variants"): self._get_variants,
            ("PUT", "moduscloud/variants"): self._set_variants,
        }
        try:
            if len(segments) >= 2 and segments[0] == "directory":
                return self._directory(request, segments[1:])
            route = routes.get((request.method, "/".join(segments)))
            if route is None:
                known = sorted(f"{method} /{path}" for method, path in routes)
                raise ControlError(
                    f"no control endpoint {request.method} {request.path}; known: {', '.join(known)}, POST|PATCH|DELETE /directory/users|groups[/{{id}}]", 404
                )
            return route(request)
        except ControlError as error:
            return json_response(error.status, {"error": str(error)})

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _body(request: Request, *, required: bool = False) -> dict:
        if not request.body.strip():
            if required:
                raise ControlError("a JSON object body is required")
            return {}
        try:
            body = json.loads(request.body)
        except ValueError:
            raise ControlError("the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ControlError("the body must be a JSON object")
        return body

    @staticmethod
    def _only(body: dict, allowed) -> None:
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise ControlError(f"unknown keys {unknown}; allowed: {sorted(allowed)}")

    @staticmethod
    def _count(body: dict, name: str, maximum: int):
        value = body.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum):
            raise ControlError(f"{name} must be an integer from 0 to {maximum}")
        return value

    def _tenant(self, key):
        tenant = self.sandbox.tenant(key) if key else self.sandbox.default_tenant
        if tenant is None:
            raise ControlError(f"no tenant {key!r}; tenants: {sorted(self.sandbox.tenants)}", 404)
        return tenant

    def _directory_options(self, body: dict) -> dict:
        return {
            "users": self._count(body, "users", MAX_SEED_USERS),
            "groups": self._count(body, "groups", MAX_SEED_GROUPS),
            "seed": self._count(body, "seed", 2**31) or 0,
        }

    # ------------------------------------------------------------------ read-outs

    def _info(self, request):
        return json_response(200, self.sandbox.info())

    def _stats(self, request):
        return json_response(200, self.sandbox.stats.snapshot())

    def _journal(self, request):
        query = request.query
        service = query.get("service", [None])[0]
        since = query.get("since", ["0"])[0]
        if not since.isdigit():
            raise ControlError("since must be a journal sequence number (an integer)")
        tenant_key = query.get("tenant", [None])[0]
        tenant = self._tenant(tenant_key).id if tenant_key else None
        return json_response(200, {"entries": self.sandbox.journal.entries(service, int(since), tenant)})

    def _state(self, request):
        with self.sandbox.lock:
            tenants = {tenant.id: _tenant_state(tenant) for tenant in self.sandbox.tenants.values()}
        moduscloud = self.sandbox.moduscloud
        return json_response(
            200, {"tenants": tenants, "faults": self.sandbox.faults.describe(), "moduscloud": moduscloud.snapshot() if moduscloud is not None else None}
        )

    # ------------------------------------------------------------------ changes

    def _reset(self, request):
        body = self._body(request)
        self._only(body, ("users", "groups", "seed"))
        given = self._directory_options(body)
        options = {**self.sandbox.initial_directory, **{name: given[name] for name in body}}
        started = time.monotonic()
        self.sandbox.reset(**options)
        return json_response(200, {"reset": True, "seconds": round(time.monotonic() - started, 3), **self.sandbox.default_tenant.counts()})

    def _seed(self, request):
        body = self._body(request, required=True)
        self._only(body, ("users", "groups", "seed", "tenant"))
        if "users" not in body:
            raise ControlError("users is required (the number of users to generate; user 0 is the admin)")
        options = self._directory_options(body)
        started = time.monotonic()
        with self.sandbox.lock:
            tenant = self._tenant(body.get("tenant"))
            generate_directory(tenant, options["users"] or 0, options["groups"] or 0, options["seed"])
            counts = tenant.counts()
        return json_response(
            200, {"tenant_id": tenant.id, "users": counts["users"], "groups": counts["groups"], "seconds": round(time.monotonic() - started, 3)}
        )

    def _get_faults(self, request):
        return json_response(200, self.sandbox.faults.describe())

    def _set_faults(self, request):
        try:
            self.sandbox.faults.configure(self._body(request, required=True))
        except FaultError as error:
            raise ControlError(str(error)) from None
        return json_response(200, self.sandbox.faults.describe())

    def _clear_faults(self, request):
        self.sandbox.faults.clear()
        return json_response(200, self.sandbox.faults.describe())

    def _get_latency(self, request):
        return json_response(200, self.sandbox.latency.describe())

    def _set_latency(self, request):
        try:
            self.sandbox.latency.configure(self._body(request, required=True))
        except LatencyError as error:
            raise ControlError(str(error)) from None
        return json_response(200, self.sandbox.latency.describe())

    def _policy(self, request):
        body = self._body(request, required=True)
        self._only(body, ("tenant_id", "password_max_lifetime_days", "restrict_for_apps_created_after"))
        if "password_max_lifetime_days" not in body:
            raise ControlError("password_max_lifetime_days is required (a number of days, or null for no limit)")
        days = body["password_max_lifetime_days"]
        if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days < 1):
            raise ControlError("password_max_lifetime_days must be a positive integer or null")
        restrict_after = body.get("restrict_for_apps_created_after") or "2015-01-01T00:00:00Z"
        try:
            restrict_after = iso(directory.parse_time(restrict_after))
        except ValueError:
            raise ControlError("restrict_for_apps_created_after must be an ISO 8601 date-time") from None
        with self.sandbox.lock:
            tenant = self._tenant(body.get("tenant_id"))
            tenant.password_policy = None if days is None else {"max_lifetime_days": days, "restrict_after": restrict_after}
            return json_response(200, {"tenant_id": tenant.id, "policy": tenant.password_policy})

    def _add_tenant(self, request):
        body = self._body(request)
        self._only(body, ("name", "users", "groups", "seed", "moduscloud_variants"))
        options = self._directory_options(body)
        variants = self._variant_names(body.get("moduscloud_variants") or [])
        with self.sandbox.lock:
            name = body.get("name") or f"tenant{len(self.sandbox.tenants) + 1}"
            if not isinstance(name, str) or not TENANT_NAME.match(name):
                raise ControlError("name must be 2-31 lower-case letters, digits or '-', starting with a letter")
            if any(t.identity.name == name for t in self.sandbox.tenants.values()):
                raise ControlError(f"a tenant named {name!r} exists already", 409)
            return json_response(201, self.sandbox.add_tenant(name, moduscloud_variants=variants, **options))

    def _modus_service(self):
        service = self.sandbox.moduscloud
        if service is None:
            raise ControlError("the modusCloud emulator (sandbox/moduscloud/) is not installed", 503)
        return service

    def _variant_names(self, names):
        from .moduscloud import parse_variants  # the rest of the control API works without the emulator

        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ControlError("moduscloud variants must be a list of variant names (python -m sandbox variants)")
        try:
            parse_variants(names)
        except ValueError as error:
            raise ControlError(str(error)) from None
        return names

    def _get_variants(self, request):
        return json_response(200, self._modus_service().variants())

    def _set_variants(self, request):
        body = self._body(request, required=True)
        self._only(body, ("variants", "org"))
        names = self._variant_names(body.get("variants"))
        service = self._modus_service()
        try:
            return json_response(200, service.set_variants(names, org=body.get("org")))
        except ValueError as error:
            raise ControlError(str(error), 404) from None

    def _clock(self, request):
        body = self._body(request, required=True)
        self._only(body, ("hours",))
        hours = body.get("hours")
        if not isinstance(hours, (int, float)) or isinstance(hours, bool) or hours < 0:
            raise ControlError("hours must be a non-negative number")
        service = self.sandbox.moduscloud
        if service is None:
            raise ControlError("the modusCloud emulator (sandbox/moduscloud/) is not installed", 503)
        # No world lock here: the scheduled sync signs in and reads Graph over HTTP.
        return json_response(200, service.advance_clock(hours))

    # ------------------------------------------------------------------ directory edits

    def _directory(self, request: Request, segments: list) -> Response:
        kind = segments[0]
        if kind not in ("users", "groups") or len(segments) > 2:
            raise ControlError("directory edits: POST /directory/users|groups, PATCH|DELETE /directory/users|groups/{id}", 404)
        tenant_key = request.query.get("tenant", [None])[0]
        with self.sandbox.lock:
            tenant = self._tenant(tenant_key)
            if len(segments) == 1:
                if request.method != "POST":
                    raise ControlError(f"{request.method} is not allowed on /directory/{kind}; use POST", 405)
                obj = (
                    self._new_user(tenant, self._body(request, required=True))
                    if kind == "users"
                    else self._new_group(tenant, self._body(request, required=True))
                )
                return json_response(201, _render(obj))
            store = tenant.users if kind == "users" else tenant.groups
            obj = store.get(segments[1]) or (tenant.user(segments[1]) if kind == "users" else None)
            if obj is None:
                raise ControlError(f"no {kind[:-1]} {segments[1]!r} in tenant {tenant.id}", 404)
            if request.method == "DELETE":
                (tenant.remove_user if kind == "users" else tenant.remove_group)(obj)
                return Response(204)
            if request.method == "PATCH":
                self._edit(tenant, obj, self._body(request, required=True))
                return json_response(200, _render(obj))
            raise ControlError(f"{request.method} is not allowed on /directory/{kind}/{{id}}; use PATCH or DELETE", 405)

    def _new_user(self, tenant, body: dict):
        if not isinstance(body.get("userPrincipalName"), str) or "@" not in body["userPrincipalName"]:
            raise ControlError("userPrincipalName (an address) is required")
        if tenant.user(body["userPrincipalName"]) is not None:
            raise ControlError(f"a user {body['userPrincipalName']!r} exists already", 409)
        user = directory.User(
            id=new_id(),
            user_principal_name=body["userPrincipalName"],
            display_name=body.get("displayName") or body["userPrincipalName"],
            given_name=None,
            surname=None,
            mail=None,
            created=iso(utcnow()),
        )
        self._edit(tenant, user, {k: v for k, v in body.items() if k != "userPrincipalName"})
        tenant.add_user(user)
        return user

    def _new_group(self, tenant, body: dict):
        if not isinstance(body.get("displayName"), str) or not body["displayName"]:
            raise ControlError("displayName is required")
        group = directory.Group(id=new_id(), display_name=body["displayName"], mail=None, mail_enabled=False, security_enabled=True, created=iso(utcnow()))
        self._edit(tenant, group, {k: v for k, v in body.items() if k != "displayName"})
        tenant.groups.add(group.id, group)
        return group

    def _edit(self, tenant, obj, body: dict) -> None:
        """Set Graph-named fields (plus `licensed` for users, `members` ids for groups), all or nothing."""
        is_user = isinstance(obj, directory.User)
        fields = dict(USER_FIELDS if is_user else GROUP_FIELDS)
        extra = "licensed" if is_user else "members"
        self._only(body, list(fields) + [extra])
        changes = {}
        for name, value in body.items():
            if name in ("proxyAddresses", "groupTypes"):
                if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                    raise ControlError(f"{name} must be a list of strings")
                value = tuple(value)
            elif name in ("accountEnabled", "mailEnabled", "securityEnabled", "licensed"):
                if not isinstance(value, bool):
                    raise ControlError(f"{name} must be true or false")
            elif name == "members":
                if not isinstance(value, list) or any(tenant.users.get(i) is None and tenant.groups.get(i) is None for i in value):
                    raise ControlError("members must be a list of ids of users or groups in the tenant")
                value = list(dict.fromkeys(value))
            elif name == "userType":
                if value not in ("Member", "Guest"):
                    raise ControlError("userType must be Member or Guest")
            elif value is not None and not isinstance(value, str):
                raise ControlError(f"{name} must be a string or null")
            changes[fields.get(name, name)] = value
        if is_user and "user_principal_name" in changes:
            raise ControlError("userPrincipalName cannot be changed")
        for attribute, value in changes.items():
            setattr(obj, attribute, value)


def _render(obj) -> dict:
    if isinstance(obj, directory.User):
        return directory.render(obj, directory.USER_PROPERTIES, tuple(directory.USER_PROPERTIES), None)
    rendered = directory.render(obj, directory.GROUP_PROPERTIES, directory.GROUP_DEFAULT, None)
    return {**rendered, "members": list(obj.members)}


def _tenant_state(tenant) -> dict:
    """Everything a test may want to verify independently; secrets appear only as their hints."""
    applications = []
    for app in tenant.applications.values():
        data = json.loads(json.dumps(app))
        for credential in data["keyCredentials"]:
            credential["key"] = None
        applications.append(data)
    return {
        "id": tenant.id,
        "name": tenant.identity.name,
        "displayName": tenant.display_name,
        "domains": tenant.domains,
        "applications": applications,
        "servicePrincipals": [
            {key: sp[key] for key in ("id", "appId", "displayName", "appOwnerOrganizationId", "accountEnabled", "servicePrincipalNames", "tags")}
            for sp in tenant.service_principals.values()
        ],
        "appRoleAssignments": list(tenant.app_role_assignments.values()),
        "oauth2PermissionGrants": list(tenant.grants.values()),
        "passwordPolicy": tenant.password_policy,
        "directory": {"users": len(tenant.users), "groups": len(tenant.groups), "adminUserId": tenant.admin_user_id},
        "lagging": dict(tenant.lagging),
    }
