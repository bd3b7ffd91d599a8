"""Emulated Microsoft Graph v1.0: app registrations, service principals, consent objects, the
tenant app-management policy and a read-only directory (users, groups, members, domains).

Shapes, status codes and error bodies follow shared/reference/microsoft-graph.md (section A).
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime
import json
import re
from dataclasses import dataclass
from functools import partial
from urllib.parse import unquote, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from . import batch, directory
from .directory import (GROUP_DEFAULT, GROUP_PROPERTIES, USER_DEFAULT, USER_PROPERTIES, add_years, iso,
                        new_assignment, new_id, opaque_id, parse_time, render, utcnow)
from .latency import resource_units
from .odata import (GraphError, Schema, bad_request, matches, next_link, not_found, paginate, parse_query)
from .web import Request, Response, json_response
from .tls import thumbprint

CONTENT_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
DIRECTORY_PAGE_SIZE = 100  # Graph's default page for users, groups, members, grants, assignments
DEFAULT_POLICY_ID = "00000000-0000-0000-0000-000000000000"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SEGMENT = re.compile(r"^([A-Za-z0-9_.]+)\((?:(\w+)=)?'((?:[^']|'')*)'\)$")
SIGN_IN_AUDIENCES = ("AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount",
                     "PersonalMicrosoftAccount")
GENERATED_PASSWORD_FIELDS = ("keyId", "secretText", "customKeyIdentifier", "hint")
PRINCIPAL_TYPES = {"ServicePrincipal": "#microsoft.graph.servicePrincipal", "User": "#microsoft.graph.user",
                   "Group": "#microsoft.graph.group"}

# ----------------------------------------------------------------------------------- permissions
#
# Which permission lets a call through. Each operation lists requirement groups; the token needs
# one permission out of every group. Application tokens are checked against `roles` (the app roles
# assigned to the client's service principal on Microsoft Graph), delegated tokens against `scp`.
#
#   operation                 application permissions (any one of each group)
#   applications.read         Application.Read.All | Application.ReadWrite.All | Directory.Read.All |
#                             Directory.ReadWrite.All
#   applications.write        Application.ReadWrite.All
#   servicePrincipals.read    as applications.read
#   servicePrincipals.write   Application.ReadWrite.All
#   appRoleAssignments.read   as applications.read
#   appRoleAssignments.write  AppRoleAssignment.ReadWrite.All, and also one of applications.read
#                             (Graph answers 403 without the second [REF A.6, MSG-12833])
#   grants.read               DelegatedPermissionGrant.Read.All | DelegatedPermissionGrant.ReadWrite.All |
#                             Directory.Read.All | Directory.ReadWrite.All
#   grants.write              DelegatedPermissionGrant.ReadWrite.All
#   policies.read             Policy.Read.All | Policy.ReadWrite.ApplicationConfiguration
#   users.read                User.Read.All | User.ReadWrite.All | Directory.Read.All | Directory.ReadWrite.All
#                             (not User.ReadBasic.All: as an app role it gives 403 on /users [REF A.5])
#   groups.read               Group.Read.All | Group.ReadWrite.All | Directory.Read.All | Directory.ReadWrite.All
#   members.read              groups.read | GroupMember.Read.All
#   domains.read              Domain.Read.All | Directory.Read.All | Directory.ReadWrite.All
#   organization.read         Organization.Read.All | Directory.Read.All | Directory.ReadWrite.All
#
# Delegated tokens use the same names; in addition Directory.AccessAsUser.All satisfies every
# group, User.ReadBasic.All reads users, and /me needs User.Read (or any users.read scope).

_APPLICATION_READ = ("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All",
                     "Directory.ReadWrite.All")
_DIRECTORY_READ = ("Directory.Read.All", "Directory.ReadWrite.All")
PERMISSIONS = {
    "applications.read": (_APPLICATION_READ,),
    "applications.write": (("Application.ReadWrite.All",),),
    "servicePrincipals.read": (_APPLICATION_READ,),
    "servicePrincipals.write": (("Application.ReadWrite.All",),),
    "appRoleAssignments.read": (_APPLICATION_READ,),
    "appRoleAssignments.write": (("AppRoleAssignment.ReadWrite.All",), _APPLICATION_READ),
    "grants.read": (("DelegatedPermissionGrant.Read.All", "DelegatedPermissionGrant.ReadWrite.All",
                     *_DIRECTORY_READ),),
    "grants.write": (("DelegatedPermissionGrant.ReadWrite.All",),),
    "policies.read": (("Policy.Read.All", "Policy.ReadWrite.ApplicationConfiguration"),),
    "users.read": (("User.Read.All", "User.ReadWrite.All", *_DIRECTORY_READ),),
    "groups.read": (("Group.Read.All", "Group.ReadWrite.All", *_DIRECTORY_READ),),
    "members.read": (("GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", *_DIRECTORY_READ),),
    "domains.read": (("Domain.Read.All", *_DIRECTORY_READ),),
    "organization.read": (("Organization.Read.All", *_DIRECTORY_READ),),
}
DELEGATED_EXTRA = {"users.read": ("User.ReadBasic.All",)}
DELEGATED_ALL = "Directory.AccessAsUser.All"


@dataclass
class Caller:
    app_id: str
    permissions: frozenset
    delegated: bool
    user_id: str | None


@dataclass
class Call:
    request: Request
    tenant: directory.Tenant
    caller: Caller

    @property
    def method(self) -> str:
        return self.request.method


# ----------------------------------------------------------------------------------- schemas

def _keys(template: dict) -> tuple:
    return tuple(template)


_APP_TEMPLATE = directory.new_application("example.onmicrosoft.com", "template", utcnow())
_SP_TEMPLATE = directory.new_service_principal(new_id(), "template", owner_tenant_id=new_id(),
                                               sign_in_audience="AzureADMyOrg")
ASSIGNMENT_PROPERTIES = ("id", "deletedDateTime", "appRoleId", "createdDateTime", "principalDisplayName",
                         "principalId", "principalType", "resourceDisplayName", "resourceId")
GRANT_PROPERTIES = ("clientId", "consentType", "id", "principalId", "resourceId", "scope")
DOMAIN_PROPERTIES = ("authenticationType", "availabilityStatus", "id", "isAdminManaged", "isDefault", "isInitial",
                     "isRoot", "isVerified", "passwordNotificationWindowInDays", "passwordValidityPeriodInDays",
                     "supportedServices", "state")

APPLICATION_SCHEMA = Schema("application", frozenset({"id", "appId", "displayName", "uniqueName", "publisherDomain",
                                                      "signInAudience"}),
                            frozenset({"identifierUris", "tags"}), _keys(_APP_TEMPLATE))
SERVICE_PRINCIPAL_SCHEMA = Schema("servicePrincipal",
                                  frozenset({"id", "appId", "displayName", "accountEnabled", "servicePrincipalType",
                                             "appOwnerOrganizationId", "appRoleAssignmentRequired"}),
                                  frozenset({"servicePrincipalNames", "tags"}), _keys(_SP_TEMPLATE))
ASSIGNMENT_SCHEMA = Schema("appRoleAssignment", frozenset({"principalId", "resourceId", "appRoleId", "principalType"}),
                           frozenset(), ASSIGNMENT_PROPERTIES)
GRANT_SCHEMA = Schema("oAuth2PermissionGrant", frozenset({"id", "clientId", "consentType", "resourceId",
                                                          "principalId"}), frozenset(), GRANT_PROPERTIES)
USER_SCHEMA = Schema("user", frozenset({"id", "userPrincipalName", "mail", "displayName", "givenName", "surname",
                                        "accountEnabled", "userType", "mailNickname"}),
                     frozenset({"proxyAddresses", "otherMails"}), tuple(USER_PROPERTIES))
GROUP_SCHEMA = Schema("group", frozenset({"id", "displayName", "mail", "mailEnabled", "securityEnabled",
                                          "mailNickname"}),
                      frozenset({"groupTypes", "proxyAddresses"}), tuple(GROUP_PROPERTIES))
MEMBER_SCHEMA = Schema("directoryObject", frozenset(), frozenset(),
                       tuple(dict.fromkeys(tuple(USER_PROPERTIES) + tuple(GROUP_PROPERTIES))))
DOMAIN_SCHEMA = Schema("domain", frozenset(), frozenset(), DOMAIN_PROPERTIES)


def _get_field(obj: dict, name: str):
    return obj.get(name)


def _get_user_field(user, name: str):
    return USER_PROPERTIES[name](user)


def _get_group_field(group, name: str):
    return GROUP_PROPERTIES[name](group)


# ----------------------------------------------------------------------------------- small validators

def _invalid(prop: str, resource: str, detail: str = "") -> GraphError:
    return bad_request(f"Invalid value specified for property '{prop}' of resource '{resource}'.{detail}")


def _required(prop: str, resource: str) -> GraphError:
    return bad_request(f"A value is required for property '{prop}' of resource '{resource}'.")


def _check_properties(body: dict, allowed, type_name: str, read_only=()) -> None:
    for key in body:
        if key.startswith("@odata.") and "@odata.bind" not in key:
            continue
        if key in read_only:
            raise bad_request(f"Property '{key}' is read-only and cannot be set.")
        if key not in allowed:
            raise bad_request(f"Property '{key}' does not exist on type 'microsoft.graph.{type_name}'.")


def _string(value, prop, resource, *, nullable=True, max_length=None):
    if value is None and nullable:
        return None
    if not isinstance(value, str) or (max_length and len(value) > max_length):
        raise _invalid(prop, resource)
    return value


def _boolean(value, prop, resource, *, nullable=True):
    if value is None and nullable:
        return None
    if not isinstance(value, bool):
        raise _invalid(prop, resource)
    return value


def _strings(value, prop, resource):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid(prop, resource)
    return list(value)


def _guid(value, prop, resource) -> str:
    if not isinstance(value, str) or not GUID.match(value):
        raise _invalid(prop, resource)
    return value.lower()


def _guid_or_null(value, prop, resource):
    return None if value is None else _guid(value, prop, resource)


def _one_of(allowed: tuple):
    def check(value, prop, resource):
        if value not in allowed:
            raise _invalid(prop, resource, f" Allowed: {', '.join(str(item) for item in allowed)}.")
        return value
    return check


def _object_or_null(value, prop, resource):
    if value is not None and not isinstance(value, dict):
        raise _invalid(prop, resource)
    return copy.deepcopy(value)


def _redirect_uri_settings(web: dict) -> list:
    """Graph derives web.redirectUriSettings from web.redirectUris: one {"uri", "index"} per URI, in order.

    An index set earlier for a URI that stays is kept; settings of URIs no longer listed go.
    """
    index = {entry.get("uri"): entry.get("index") for entry in web.get("redirectUriSettings") or []
             if isinstance(entry, dict)}
    return [{"uri": uri, "index": index.get(uri)} for uri in web.get("redirectUris") or []]


def _list(value, prop, resource):
    if not isinstance(value, list):
        raise _invalid(prop, resource)
    return copy.deepcopy(value)


def _merge(current: dict, value, prop, resource, validators: dict) -> dict:
    """Complex properties merge one level deep: sent keys replace, others stay."""
    if not isinstance(value, dict):
        raise _invalid(prop, resource)
    merged = dict(current or {})
    for key, item in value.items():
        if key.startswith("@odata."):
            continue
        if key not in validators:
            raise bad_request(f"Property '{key}' does not exist on the complex type of property '{prop}'.")
        merged[key] = validators[key](item, f"{prop}.{key}", resource)
    return merged


def _redirect_uris(value, prop, resource, *, any_scheme=False):
    uris = _strings(value, prop, resource)
    for uri in uris:
        parts = urlsplit(uri)
        if any_scheme and parts.scheme and (parts.netloc or parts.path):
            continue
        if len(uri) <= 256 and parts.netloc and (
                parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1"))):
            continue
        allowed = "an absolute URI" if any_scheme else "an absolute https:// URI or http://localhost"
        raise _invalid(prop, resource, f" '{uri}' is not {allowed}.")
    return uris


def _url_or_null(value, prop, resource):
    if value is None:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise _invalid(prop, resource)
    return value


def _graph_json(status: int, payload, headers: dict | None = None) -> Response:
    return json_response(status, payload, headers, content_type=CONTENT_TYPE)


def _no_content() -> Response:
    return Response(204)


# ----------------------------------------------------------------------------------- the service

class GraphService:
    def __init__(self, sandbox):
        self.sandbox = sandbox

    @property
    def _base(self) -> str:
        return f"{self.sandbox.graph_url}/v1.0"

    def _context(self, fragment: str, select=None) -> str:
        return f"{self._base}/$metadata#{fragment}" + (f"({','.join(select)})" if select else "")

    # ------------------------------------------------------------------ HTTP

    def handle(self, request: Request) -> Response:
        try:
            with self.sandbox.lock:
                caller, tenant = self._authenticate(request)
                if batch.is_batch(request.path):
                    if request.method != "POST":
                        raise _method_not_allowed()
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
                units = resource_units(request.method, request.path[len("/v1.0"):], request.query)
                wait = model.admit(caller.app_id, tenant.id, len(tenant.users), units)
                if wait is not None:
                    raise GraphError(429, "TooManyRequests", "Too many requests. Retry after the interval in the "
                                     "Retry-After header.", headers={
                                         "Retry-After": str(wait),
                                         "x-ms-throttle-scope": f"Tenant_Application/ReadWrite/{caller.app_id}/"
                                                                f"{tenant.id}",
                                         "x-ms-throttle-information": "ResourceUnitLimitExceeded"})
            response = self._route(Call(request, tenant, caller))
            if units is not None:
                response.headers["x-ms-resource-unit"] = str(units)
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
            self.sandbox.journal.record("graph", inner.method, inner.path, inner.query_string, response.status,
                                        rule is not None, inner.request_id, peer=inner.peer,
                                        batch=request.request_id, tenant=tenant.id)
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
        codes = {429: ("TooManyRequests", "Too many requests. Retry after the interval in the Retry-After header."),
                 500: ("InternalServerError", "An internal server error occurred."),
                 502: ("BadGateway", "The gateway received an invalid response."),
                 503: ("ServiceUnavailable", "The service is temporarily unavailable."),
                 504: ("GatewayTimeout", "The gateway timed out."),
                 409: ("Directory_ConcurrencyViolation", "Another operation is modifying the object; try again.")}
        code, message = codes.get(rule.status, ("UnknownError", f"HTTP {rule.status}"))
        headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
        return self._error(GraphError(rule.status, rule.code or code, rule.message or message, headers=headers),
                           request)

    def _error(self, error: GraphError, request: Request) -> Response:
        date = utcnow().strftime("%Y-%m-%dT%H:%M:%S")
        return _graph_json(error.status, error.body(date, request.request_id, request.client_request_id),
                           error.headers)

    def _authenticate(self, request: Request):
        unauthenticated = {"WWW-Authenticate": f'Bearer realm="", authorization_uri="{self.sandbox.authority_host}'
                                               f'/common/oauth2/authorize", client_id="00000003-0000-0000-c000-'
                                               f'000000000000"'}

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

    def _require(self, call: Call, operation: str) -> None:
        caller = call.caller
        for group in PERMISSIONS[operation]:
            allowed = set(group)
            if caller.delegated:
                allowed |= {DELEGATED_ALL, *DELEGATED_EXTRA.get(operation, ())}
            if not allowed & caller.permissions:
                raise _insufficient_privileges()

    # ------------------------------------------------------------------ routing

    def _route(self, call: Call) -> Response:
        path = call.request.path
        if not path.startswith("/v1.0/"):
            version = path.strip("/").split("/")[0]
            raise bad_request(f"Invalid version: '{version}'. This sandbox serves /v1.0 only.", code="BadRequest")
        raw = [unquote(part) for part in path[len("/v1.0/"):].strip("/").split("/")]
        first = SEGMENT.match(raw[0])
        if first:
            name, key = first.group(1), (first.group(2) or "id", first.group(3).replace("''", "'"))
            rest = raw[1:]
        else:
            name, key, rest = raw[0], None, raw[1:]
            if rest and name not in ("policies",):
                key, rest = ("id", rest[0]), rest[1:]
        handlers = {"applications": self._applications, "servicePrincipals": self._service_principals,
                    "oauth2PermissionGrants": self._grants, "policies": self._policies, "users": self._users,
                    "groups": self._groups, "domains": self._domains, "organization": self._organization,
                    "me": self._me}
        handler = handlers.get(name)
        if handler is None:
            raise _unknown_segment(name)
        return handler(call, key, rest)

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
            raise bad_request("Unable to read JSON request payload. Please ensure Content-Type header is set and "
                              "payload is of valid JSON format.", code="BadRequest")
        return body

    def _list(self, call: Call, schema: Schema, entries, get, render_one, context: str, *, page_size: int,
              keep_extra=None) -> Response:
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
        response = _graph_json(200, body)
        response.objects = len(body["value"])
        return response

    def _entity(self, call: Call, schema: Schema, obj, render_one, context: str) -> Response:
        query = self._query(call, schema, collection=False)
        response = _graph_json(200, {"@odata.context": self._context(context, query.select) + "/$entity",
                                     **render_one(obj, query.select)})
        response.objects = 1
        return response

    def _visible(self, tenant: directory.Tenant):
        return lambda obj: not tenant.invisible(obj["id"])

    # ------------------------------------------------------------------ applications

    def _applications(self, call: Call, key, rest) -> Response:
        tenant, method = call.tenant, call.method
        if key is None:
            if method == "GET":
                self._require(call, "applications.read")
                return self._list(call, APPLICATION_SCHEMA, tenant.applications.entries, _get_field,
                                  self._render_app, "applications", page_size=self.sandbox.page_size,
                                  keep_extra=self._visible(tenant))
            if method == "POST":
                self._require(call, "applications.write")
                return self._create_application(call, self._body(call))
            raise _method_not_allowed()
        if rest:
            action = rest[0]
            if len(rest) > 1 or action not in ("addPassword", "removePassword"):
                raise _unknown_segment(rest[-1] if action in ("addPassword", "removePassword") else action)
            if method != "POST":
                raise _method_not_allowed()
            self._require(call, "applications.write")
            app = self._find_app(tenant, key)
            return self._add_password(call, app) if action == "addPassword" else self._remove_password(call, app)
        if method == "GET":
            self._require(call, "applications.read")
            return self._entity(call, APPLICATION_SCHEMA, self._find_app(tenant, key), self._render_app,
                                "applications")
        if method == "PATCH":
            self._require(call, "applications.write")
            body = self._body(call)
            if key[0] == "uniqueName":
                existing = tenant.app_by_unique_name(key[1])  # the alternate key is strongly consistent
                if existing is None:
                    if not _prefers_create(call):
                        raise not_found(key[1])
                    if body.get("uniqueName", key[1]) != key[1]:
                        raise _invalid("uniqueName", "Application", " It must match the key in the URL.")
                    return self._create_application(call, {**body, "uniqueName": key[1]})
                app = existing
            else:
                app = self._find_app(tenant, key)
            updated, _ = self._apply_application(tenant, app, body, creating=False)
            app.clear()
            app.update(updated)
            tenant.sync_service_principal(app)
            return _no_content()
        if method == "DELETE":
            self._require(call, "applications.write")
            tenant.remove_application(self._find_app(tenant, key))
            return _no_content()
        raise _method_not_allowed()

    def _find_app(self, tenant: directory.Tenant, key) -> dict:
        name, value = key
        if name == "id":
            if not GUID.match(value):
                raise bad_request(f"Invalid object identifier '{value}'.")
            app = tenant.applications.get(value.lower())
        elif name == "appId":
            app = tenant.app_by_app_id(value)
        elif name == "uniqueName":
            app = tenant.app_by_unique_name(value)
        else:
            raise bad_request(f"'{name}' is not an alternate key of applications; use appId or uniqueName.")
        if app is None or tenant.invisible(app["id"]):
            raise not_found(value)
        return app

    def _render_app(self, app: dict, select=None) -> dict:
        data = copy.deepcopy(app)
        if not select or "keyCredentials" not in select:  # like Graph: the key only when asked for
            for credential in data["keyCredentials"]:
                credential["key"] = None
        return {name: data[name] for name in select} if select else data

    def _create_application(self, call: Call, body: dict) -> Response:
        tenant = call.tenant
        if not isinstance(body.get("displayName"), str) or not body["displayName"].strip():
            raise _required("displayName", "Application")
        app = directory.new_application(tenant.identity.initial_domain, body["displayName"], utcnow())
        app, new_secrets = self._apply_application(tenant, app, body, creating=True)
        tenant.applications.add(app["id"], app)
        self._store_secrets(tenant, new_secrets)
        self._start_lag(tenant, app["id"])
        rendered = self._render_app(app)
        revealed = {credential["keyId"]: secret for credential, secret in new_secrets}
        for credential in rendered["passwordCredentials"]:  # the create response is the only place to read them
            credential["secretText"] = revealed.get(credential["keyId"])
        return _graph_json(201, {"@odata.context": self._context("applications") + "/$entity", **rendered},
                           {"Location": f"{self._base}/applications/{app['id']}"})

    def _start_lag(self, tenant: directory.Tenant, object_id: str) -> None:
        if self.sandbox.faults.lag:
            tenant.lagging[object_id] = self.sandbox.faults.lag

    @staticmethod
    def _store_secrets(tenant: directory.Tenant, new_secrets) -> None:
        added = utcnow()
        for credential, secret in new_secrets:
            tenant.secrets[credential["keyId"]] = (directory.secret_digest(secret), added)

    def _apply_application(self, tenant, app: dict, body: dict, *, creating: bool):
        """Validate every change first, then return the changed copy and any new (credential, secret)."""
        resource = "Application"
        read_only = ("id", "appId", "createdDateTime", "publisherDomain", "deletedDateTime", "verifiedPublisher",
                     "applicationTemplateId", "disabledByMicrosoftStatus", "certification")
        simple = {
            "displayName": partial(_string, nullable=False, max_length=256),
            "description": partial(_string, max_length=1024),
            "notes": partial(_string, max_length=1024),
            "serviceManagementReference": _string,
            "tokenEncryptionKeyId": _guid_or_null,
            "defaultRedirectUri": _string,
            "groupMembershipClaims": _string,
            "isFallbackPublicClient": _boolean,
            "isDeviceOnlyAuthSupported": _boolean,
            "tags": _strings,
            "signInAudience": _one_of(SIGN_IN_AUDIENCES),
            "optionalClaims": _object_or_null,
        }
        url_fields = {"homePageUrl": _url_or_null, "logoutUrl": _url_or_null, "redirectUris": _redirect_uris,
                      "implicitGrantSettings": lambda v, p, r: _merge(
                          updated["web"]["implicitGrantSettings"], v, p, r,
                          {"enableAccessTokenIssuance": partial(_boolean, nullable=False),
                           "enableIdTokenIssuance": partial(_boolean, nullable=False)}),
                      "redirectUriSettings": _list}
        updated = copy.deepcopy(app)
        new_secrets = []
        for prop, value in body.items():
            if prop.startswith("@odata.") and "@odata.bind" not in prop:
                continue
            if prop in read_only:
                raise bad_request(f"Property '{prop}' is read-only and cannot be set.")
            if prop in simple:
                updated[prop] = simple[prop](value, prop, resource)
            elif prop == "web":
                updated["web"] = _merge(updated["web"], value, prop, resource, url_fields)
            elif prop == "spa":
                updated["spa"] = _merge(updated["spa"], value, prop, resource, {"redirectUris": _redirect_uris})
            elif prop == "publicClient":
                updated["publicClient"] = _merge(updated["publicClient"], value, prop, resource, {
                    "redirectUris": lambda v, p, r: _redirect_uris(v, p, r, any_scheme=True)})
            elif prop == "info":
                updated["info"] = _merge(updated["info"], value, prop, resource,
                                         {name: _url_or_null for name in updated["info"]})
            elif prop == "parentalControlSettings":
                updated[prop] = _merge(updated[prop], value, prop, resource, {
                    "countriesBlockedForMinors": _strings,
                    "legalAgeGroupRule": partial(_string, nullable=False)})
            elif prop == "api":
                updated["api"] = _merge(updated["api"], value, prop, resource, {
                    "acceptMappedClaims": _boolean, "knownClientApplications": _strings,
                    "requestedAccessTokenVersion": _one_of((None, 1, 2)),
                    "oauth2PermissionScopes": partial(_permission_definitions, kind_field="type"),
                    "preAuthorizedApplications": _list})
            elif prop == "appRoles":
                updated["appRoles"] = _permission_definitions(value, prop, resource, kind_field="allowedMemberTypes")
            elif prop == "identifierUris":
                updated["identifierUris"] = self._identifier_uris(tenant, app, value)
            elif prop == "requiredResourceAccess":
                updated["requiredResourceAccess"] = _required_resource_access(value)
            elif prop == "keyCredentials":
                updated["keyCredentials"] = _key_credentials(app, value)
            elif prop == "uniqueName":
                updated["uniqueName"] = self._unique_name(tenant, app, value, creating)
            elif prop == "passwordCredentials":
                if not creating:
                    raise bad_request("Property 'passwordCredentials' cannot be updated with PATCH: new password "
                                      "credentials must be generated using service actions (addPassword, "
                                      "removePassword).")
                if not isinstance(value, list):
                    raise _invalid(prop, resource)
                new_secrets = [self._new_password(tenant, updated, spec) for spec in value]
                updated["passwordCredentials"] = [credential for credential, _ in new_secrets]
            else:
                raise bad_request(f"Property '{prop}' does not exist on type 'microsoft.graph.application'.")
        updated["web"]["redirectUriSettings"] = _redirect_uri_settings(updated["web"])
        return updated, new_secrets

    def _identifier_uris(self, tenant, app: dict, value) -> list:
        uris = _strings(value, "identifierUris", "Application")
        for uri in uris:
            parts = urlsplit(uri)
            if parts.scheme == "api" and parts.netloc:
                continue
            if parts.scheme in ("http", "https") and parts.hostname and tenant.is_verified_host(parts.hostname):
                continue
            message = ("Values of identifierUris property must use a verified domain of the organization or its "
                       f"subdomain: '{uri}'")
            raise GraphError(400, "HostNameNotOnVerifiedDomain", message, details=[
                {"code": "HostNameNotOnVerifiedDomain", "message": message, "target": "identifierUris"}])
        taken = {uri.lower() for other in tenant.applications.values() if other["id"] != app["id"]
                 for uri in other["identifierUris"]}
        if any(uri.lower() in taken for uri in uris):
            message = "Another object with the same value for property identifierUris already exists."
            raise bad_request(message, details=[{"code": "ObjectConflict", "message": message,
                                                 "target": "identifierUris"}])
        return uris

    def _unique_name(self, tenant, app: dict, value, creating: bool):
        if not creating:
            if value == app["uniqueName"]:
                return value
            raise bad_request("Property 'uniqueName' is read-only and cannot be set: it can only be set when the "
                              "application is created.")
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > 120:
            raise _invalid("uniqueName", "Application")
        if tenant.app_by_unique_name(value) is not None:
            raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue",
                             f"Another object with the same value for property uniqueName '{value}' already exists.")
        return value

    def _new_password(self, tenant, app: dict, spec):
        """A server-generated password credential from what the client may choose: displayName and dates."""
        resource = "PasswordCredential"
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            raise _invalid("passwordCredential", resource)
        for prop in spec:
            if prop in GENERATED_PASSWORD_FIELDS:
                raise bad_request(f"Property '{prop}' cannot be supplied for a new password credential: Graph "
                                  "generates keyId, secretText and hint; send only displayName, startDateTime and "
                                  "endDateTime.")
        _check_properties(spec, ("displayName", "startDateTime", "endDateTime"), "passwordCredential")
        try:
            start = parse_time(spec["startDateTime"]) if spec.get("startDateTime") is not None else utcnow()
            end = parse_time(spec["endDateTime"]) if spec.get("endDateTime") is not None else add_years(start, 2)
        except ValueError:
            raise _invalid("startDateTime/endDateTime", resource, " Use ISO 8601, e.g. 2027-01-01T00:00:00Z.") \
                from None
        if end <= start:
            raise _invalid("endDateTime", resource, " It must be later than startDateTime.")
        self._check_lifetime(tenant, app, start, end)
        secret = directory.new_secret_text()
        display_name = _string(spec.get("displayName"), "displayName", resource)
        return directory.password_credential(display_name, start, end, secret), secret

    def _check_lifetime(self, tenant, app: dict, start, end) -> None:
        policy = tenant.password_policy
        if policy is None or parse_time(app["createdDateTime"]) <= parse_time(policy["restrict_after"]):
            return
        if end - start > datetime.timedelta(days=policy["max_lifetime_days"]):
            message = f"Credential lifetime exceeds the max value allowed as per assigned policy '{DEFAULT_POLICY_ID}'."
            raise GraphError(400, "CredentialInvalidLifetimeAsPerAppPolicy", message,
                             details=[{"code": "InvalidKeyEndDate", "message": message, "target": "EndDate"}])

    def _add_password(self, call: Call, app: dict) -> Response:
        body = self._body(call) if call.request.body.strip() else {}
        _check_properties(body, ("passwordCredential",), "addPassword")
        credential, secret = self._new_password(call.tenant, app, body.get("passwordCredential"))
        app["passwordCredentials"].append(credential)
        self._store_secrets(call.tenant, [(credential, secret)])
        return _graph_json(200, {"@odata.context": self._context("microsoft.graph.passwordCredential"),
                                 **credential, "secretText": secret})

    def _remove_password(self, call: Call, app: dict) -> Response:
        body = self._body(call)
        _check_properties(body, ("keyId",), "removePassword")
        if "keyId" not in body:
            raise _required("keyId", "PasswordCredential")
        key_id = _guid(body["keyId"], "keyId", "PasswordCredential")
        credential = next((c for c in app["passwordCredentials"] if c["keyId"].lower() == key_id), None)
        if credential is None:
            raise GraphError(404, "Request_ResourceNotFound",
                             f"No password credential with keyId '{key_id}' exists on application '{app['id']}'.")
        app["passwordCredentials"].remove(credential)
        call.tenant.secrets.pop(credential["keyId"], None)
        return _no_content()

    # ------------------------------------------------------------------ service principals

    def _service_principals(self, call: Call, key, rest) -> Response:
        tenant, method = call.tenant, call.method
        if key is None:
            if method == "GET":
                self._require(call, "servicePrincipals.read")
                return self._list(call, SERVICE_PRINCIPAL_SCHEMA, tenant.service_principals.entries, _get_field,
                                  self._render_sp_for(tenant), "servicePrincipals", page_size=self.sandbox.page_size,
                                  keep_extra=self._visible(tenant))
            if method == "POST":
                self._require(call, "servicePrincipals.write")
                body = self._body(call)
                if "appId" not in body:
                    raise _required("appId", "ServicePrincipal")
                return self._create_sp(call, body)
            raise _method_not_allowed()
        if rest:
            return self._sp_navigation(call, key, rest)
        if method == "GET":
            self._require(call, "servicePrincipals.read")
            return self._entity(call, SERVICE_PRINCIPAL_SCHEMA, self._find_sp(tenant, key),
                                self._render_sp_for(tenant), "servicePrincipals")
        if method == "PATCH":
            self._require(call, "servicePrincipals.write")
            body = self._body(call)
            if key[0] == "appId":
                existing = tenant.sp_by_app_id(key[1])
                if existing is None:
                    if not _prefers_create(call):
                        raise not_found(key[1])
                    if body.get("appId", key[1]).lower() != key[1].lower():
                        raise _invalid("appId", "ServicePrincipal", " It must match the key in the URL.")
                    return self._create_sp(call, {**body, "appId": key[1]})
                sp = existing
            else:
                sp = self._find_sp(tenant, key)
            if str(body.get("appId", "")).lower() == sp["appId"]:  # naming the key again is no change
                body = {k: v for k, v in body.items() if k != "appId"}
            sp.update(_sp_changes(body, creating=False))
            return _no_content()
        if method == "DELETE":
            self._require(call, "servicePrincipals.write")
            tenant.remove_service_principal(self._find_sp(tenant, key))
            return _no_content()
        raise _method_not_allowed()

    def _find_sp(self, tenant, key) -> dict:
        name, value = key
        if name == "id":
            if not GUID.match(value):
                raise bad_request(f"Invalid object identifier '{value}'.")
            sp = tenant.service_principals.get(value.lower())
        elif name == "appId":
            sp = tenant.sp_by_app_id(value)
        else:
            raise bad_request(f"'{name}' is not an alternate key of servicePrincipals; use appId.")
        if sp is None or tenant.invisible(sp["id"]):
            raise not_found(value)
        return sp

    def _render_sp_for(self, tenant):
        def render_sp(sp: dict, select=None) -> dict:
            data = copy.deepcopy(sp)
            data["appRoles"] = copy.deepcopy(tenant.sp_app_roles(sp))
            data["oauth2PermissionScopes"] = copy.deepcopy(tenant.sp_scopes(sp))
            return {name: data[name] for name in select} if select else data
        return render_sp

    def _create_sp(self, call: Call, body: dict) -> Response:
        tenant = call.tenant
        app_id = _guid(body["appId"], "appId", "ServicePrincipal")
        changes = _sp_changes({k: v for k, v in body.items() if k != "appId"}, creating=True)
        if tenant.sp_by_app_id(app_id) is not None:
            raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue",
                             "The service principal cannot be created, updated, or restored because the service "
                             f"principal name {app_id} is already in use.")
        app = tenant.app_by_app_id(app_id)
        if app is None or tenant.invisible(app["id"]):
            message = f"The appId '{app_id}' of the service principal does not reference a valid application object."
            raise bad_request(message, details=[{"code": "NoBackingApplicationObject", "message": message,
                                                 "target": "appId"}])
        sp = directory.service_principal_for(tenant, app)
        sp.update(changes)
        tenant.service_principals.add(sp["id"], sp)
        self._start_lag(tenant, sp["id"])
        return _graph_json(201, {"@odata.context": self._context("servicePrincipals") + "/$entity",
                                 **self._render_sp_for(tenant)(sp)},
                           {"Location": f"{self._base}/servicePrincipals/{sp['id']}"})

    def _sp_navigation(self, call: Call, key, rest) -> Response:
        tenant, method = call.tenant, call.method
        relation = rest[0]
        if relation in ("appRoleAssignments", "appRoleAssignedTo"):
            if len(rest) > 2:
                raise _unknown_segment(rest[2])
            self._require(call, "appRoleAssignments.read" if method == "GET" else "appRoleAssignments.write")
            sp = self._find_sp(tenant, key)
            return self._assignments(call, sp, relation, rest[1] if len(rest) == 2 else None)
        if relation == "oauth2PermissionGrants" and len(rest) == 1:
            if method != "GET":
                raise _method_not_allowed()
            self._require(call, "grants.read")
            sp = self._find_sp(tenant, key)
            grants = [g for g in tenant.grants.values() if g["clientId"] == sp["id"]]
            return self._list(call, GRANT_SCHEMA, _indexed(grants), _get_field, _pick,
                              f"servicePrincipals('{sp['id']}')/oauth2PermissionGrants", page_size=DIRECTORY_PAGE_SIZE)
        raise _unknown_segment(relation)

    # ------------------------------------------------------------------ app role assignments

    def _assignments(self, call: Call, sp: dict, relation: str, assignment_id) -> Response:
        """appRoleAssignments: the roles `sp` holds (it is the principal); appRoleAssignedTo: the
        roles granted on `sp` (it is the resource)."""
        tenant, method = call.tenant, call.method
        side = "principalId" if relation == "appRoleAssignments" else "resourceId"
        context = f"servicePrincipals('{sp['id']}')/{relation}"
        if assignment_id is None:
            if method == "GET":
                items = [a for a in tenant.app_role_assignments.values() if a[side] == sp["id"]]
                return self._list(call, ASSIGNMENT_SCHEMA, _indexed(items), _get_field, _pick, context,
                                  page_size=DIRECTORY_PAGE_SIZE)
            if method == "POST":
                return self._create_assignment(call, sp, side, context)
            raise _method_not_allowed()
        assignment = tenant.app_role_assignments.get(assignment_id)
        if assignment is None or assignment[side] != sp["id"]:
            raise not_found(assignment_id)
        if method == "GET":
            return self._entity(call, ASSIGNMENT_SCHEMA, assignment, _pick, context)
        if method == "DELETE":
            tenant.app_role_assignments.remove(assignment_id)
            return _no_content()
        raise _method_not_allowed()

    def _create_assignment(self, call: Call, sp: dict, side: str, context: str) -> Response:
        tenant, resource_name = call.tenant, "AppRoleAssignment"
        body = self._body(call)
        _check_properties(body, ("principalId", "resourceId", "appRoleId"), "appRoleAssignment")
        for prop in ("principalId", "resourceId", "appRoleId"):
            if prop not in body:
                raise _required(prop, resource_name)
        principal_id = _guid(body["principalId"], "principalId", resource_name)
        resource_id = _guid(body["resourceId"], "resourceId", resource_name)
        role_id = _guid(body["appRoleId"], "appRoleId", resource_name)
        if {"principalId": principal_id, "resourceId": resource_id}[side] != sp["id"]:
            raise _invalid(side, resource_name, f" It must be the service principal in the URL ({sp['id']}).")
        resource = tenant.service_principals.get(resource_id)
        if resource is None or tenant.invisible(resource_id):
            raise _invalid("resourceId", resource_name, " No service principal has this id.")
        principal, principal_type = tenant.service_principals.get(principal_id), "ServicePrincipal"
        if principal is None:
            principal, principal_type = tenant.users.get(principal_id), "User"
        if principal is None:
            principal, principal_type = tenant.groups.get(principal_id), "Group"
        if principal is None or (principal_type == "ServicePrincipal" and tenant.invisible(principal_id)):
            raise bad_request("Not a valid reference update.")
        member_type = "Application" if principal_type == "ServicePrincipal" else "User"
        roles = tenant.sp_app_roles(resource)
        default_access = role_id == "00000000-0000-0000-0000-000000000000" and member_type == "User"
        if not default_access and not any(role["id"] == role_id and role.get("isEnabled", True)
                                          and member_type in role["allowedMemberTypes"] for role in roles):
            raise bad_request(f"Permission being assigned was not found on application '{resource['appId']}'.")
        if any(a["principalId"] == principal_id and a["resourceId"] == resource_id and a["appRoleId"] == role_id
               for a in tenant.app_role_assignments.values()):
            message = "Permission being assigned already exists on the object"
            raise bad_request(message, details=[{"code": "InvalidUpdate", "message": message, "target": "AppRoleId"}])
        assignment = new_assignment(principal, principal_type, resource, role_id, utcnow())
        tenant.app_role_assignments.add(assignment["id"], assignment)
        return _graph_json(201, {"@odata.context": self._context(context) + "/$entity", **assignment})

    # ------------------------------------------------------------------ delegated permission grants

    def _grants(self, call: Call, key, rest) -> Response:
        tenant, method = call.tenant, call.method
        if rest:
            raise _unknown_segment(rest[0])
        if key is None:
            if method == "GET":
                self._require(call, "grants.read")
                return self._list(call, GRANT_SCHEMA, tenant.grants.entries, _get_field, _pick,
                                  "oauth2PermissionGrants", page_size=DIRECTORY_PAGE_SIZE)
            if method == "POST":
                self._require(call, "grants.write")
                return self._create_grant(call, self._body(call))
            raise _method_not_allowed()
        if key[0] != "id":
            raise bad_request("oauth2PermissionGrants have no alternate keys.")
        self._require(call, "grants.read" if method == "GET" else "grants.write")
        grant = tenant.grants.get(key[1])
        if grant is None:
            raise not_found(key[1])
        if method == "GET":
            return self._entity(call, GRANT_SCHEMA, grant, _pick, "oauth2PermissionGrants")
        if method == "PATCH":
            body = self._body(call)
            _check_properties(body, ("scope",), "oAuth2PermissionGrant",
                              read_only=("id", "clientId", "consentType", "principalId", "resourceId"))
            if "scope" in body:
                grant["scope"] = self._grant_scope(tenant, tenant.service_principals.get(grant["resourceId"]),
                                                   body["scope"])
            return _no_content()
        if method == "DELETE":
            tenant.grants.remove(grant["id"])
            return _no_content()
        raise _method_not_allowed()

    def _create_grant(self, call: Call, body: dict) -> Response:
        tenant, resource_name = call.tenant, "OAuth2PermissionGrant"
        _check_properties(body, ("clientId", "consentType", "principalId", "resourceId", "scope"),
                          "oAuth2PermissionGrant", read_only=("id",))
        for prop in ("clientId", "consentType", "resourceId"):
            if body.get(prop) is None:
                raise _required(prop, resource_name)
        client_id = _guid(body["clientId"], "clientId", resource_name)
        resource_id = _guid(body["resourceId"], "resourceId", resource_name)
        consent_type = body["consentType"]
        if consent_type not in ("AllPrincipals", "Principal"):
            raise _invalid("consentType", resource_name, " Allowed: AllPrincipals, Principal.")
        principal_id = body.get("principalId")
        if consent_type == "AllPrincipals" and principal_id is not None:
            raise _invalid("principalId", resource_name, " It must be null when consentType is AllPrincipals.")
        if consent_type == "Principal":
            if principal_id is None:
                raise _required("principalId", resource_name)
            principal_id = _guid(principal_id, "principalId", resource_name)
            if tenant.users.get(principal_id) is None:
                raise not_found(principal_id)
        for object_id in (client_id, resource_id):  # a just-created client is not found yet, like a missing one
            if tenant.service_principals.get(object_id) is None or tenant.invisible(object_id):
                raise not_found(object_id)
        resource = tenant.service_principals.get(resource_id)
        scope = self._grant_scope(tenant, resource, body.get("scope", ""))
        if any(g["clientId"] == client_id and g["resourceId"] == resource_id and g["consentType"] == consent_type
               and g["principalId"] == principal_id for g in tenant.grants.values()):
            raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists.")
        grant = {"clientId": client_id, "consentType": consent_type, "id": opaque_id(), "principalId": principal_id,
                 "resourceId": resource_id, "scope": scope}
        tenant.grants.add(grant["id"], grant)
        return _graph_json(201, {"@odata.context": self._context("oauth2PermissionGrants") + "/$entity", **grant})

    @staticmethod
    def _grant_scope(tenant, resource: dict, scope) -> str:
        if scope is None:
            scope = ""
        if not isinstance(scope, str):
            raise _invalid("scope", "OAuth2PermissionGrant")
        known = {item["value"] for item in tenant.sp_scopes(resource)}
        unknown = [name for name in scope.split() if name not in known]
        if unknown:
            raise _invalid("scope", "OAuth2PermissionGrant",
                           f" {', '.join(unknown)} is not a delegated permission of '{resource['displayName']}'.")
        return scope

    # ------------------------------------------------------------------ policy

    def _policies(self, call: Call, key, rest) -> Response:
        if key is not None or rest != ["defaultAppManagementPolicy"]:
            raise _unknown_segment(rest[0] if rest else "policies")
        if call.method != "GET":
            raise _method_not_allowed()
        self._require(call, "policies.read")
        self._query(call, None, collection=False)
        policy = call.tenant.password_policy
        restrictions = [] if policy is None else [{
            "restrictionType": "passwordLifetime", "maxLifetime": f"P{policy['max_lifetime_days']}D",
            "restrictForAppsCreatedAfterDateTime": policy["restrict_after"], "state": "enabled"}]
        return _graph_json(200, {
            "@odata.context": self._context("policies/defaultAppManagementPolicy/$entity"),
            "id": DEFAULT_POLICY_ID, "deletedDateTime": None,
            "description": "Default tenant policy for app management restrictions on applications and service "
                           "principals.",
            "displayName": "Default app management tenant policy", "isEnabled": bool(restrictions),
            "applicationRestrictions": {"passwordCredentials": restrictions, "keyCredentials": []},
            "servicePrincipalRestrictions": {"passwordCredentials": [], "keyCredentials": []}})

    # ------------------------------------------------------------------ directory (read-only)

    def _users(self, call: Call, key, rest) -> Response:
        if call.method != "GET":
            raise _method_not_allowed()
        self._require(call, "users.read")
        tenant = call.tenant
        if key is None:
            return self._list(call, USER_SCHEMA, tenant.users.entries, _get_user_field, _render_user, "users",
                              page_size=DIRECTORY_PAGE_SIZE)
        if rest:
            raise _unknown_segment(rest[0])
        user = tenant.user(key[1]) if key[0] in ("id", "userPrincipalName") else None
        if user is None:
            raise not_found(key[1])
        return self._entity(call, USER_SCHEMA, user, _render_user, "users")

    def _me(self, call: Call, key, rest) -> Response:
        if not call.caller.delegated:
            raise bad_request("/me request is only valid with delegated authentication flow.", code="BadRequest")
        if key is not None or rest:
            raise _unknown_segment(rest[0] if rest else "me")
        if call.method != "GET":
            raise _method_not_allowed()
        if not {"User.Read", "User.ReadBasic.All", DELEGATED_ALL, *PERMISSIONS["users.read"][0]} & \
                call.caller.permissions:
            raise _insufficient_privileges()
        user = call.tenant.users.get(call.caller.user_id)
        if user is None:
            raise not_found(call.caller.user_id or "me")
        return self._entity(call, USER_SCHEMA, user, _render_user, "users")

    def _groups(self, call: Call, key, rest) -> Response:
        if call.method != "GET":
            raise _method_not_allowed()
        tenant = call.tenant
        if key is None:
            self._require(call, "groups.read")
            return self._list(call, GROUP_SCHEMA, tenant.groups.entries, _get_group_field, _render_group, "groups",
                              page_size=DIRECTORY_PAGE_SIZE)
        if rest and (rest[0] != "members" or len(rest) > 1):
            raise _unknown_segment(rest[-1] if rest[0] == "members" else rest[0])
        self._require(call, "members.read" if rest else "groups.read")
        if key[0] != "id" or not GUID.match(key[1]):
            raise bad_request(f"Invalid object identifier '{key[1]}'.")
        group = tenant.groups.get(key[1].lower())
        if group is None:
            raise not_found(key[1])
        if not rest:
            return self._entity(call, GROUP_SCHEMA, group, _render_group, "groups")
        members = [m for m in (tenant.users.get(i) or tenant.groups.get(i) for i in group.members) if m is not None]
        return self._list(call, MEMBER_SCHEMA, _indexed(members), _get_field, _render_member, "directoryObjects",
                          page_size=DIRECTORY_PAGE_SIZE)

    def _domains(self, call: Call, key, rest) -> Response:
        if call.method != "GET":
            raise _method_not_allowed()
        self._require(call, "domains.read")
        domains = [_render_domain(d) for d in call.tenant.domains]
        if key is None:
            return self._list(call, DOMAIN_SCHEMA, _indexed(domains), _get_field, _pick, "domains",
                              page_size=DIRECTORY_PAGE_SIZE)
        if rest:
            raise _unknown_segment(rest[0])
        domain = next((d for d in domains if d["id"].lower() == key[1].lower()), None)
        if domain is None:
            raise not_found(key[1])
        return self._entity(call, DOMAIN_SCHEMA, domain, _pick, "domains")

    def _organization(self, call: Call, key, rest) -> Response:
        if call.method != "GET":
            raise _method_not_allowed()
        self._require(call, "organization.read")
        tenant = call.tenant
        organization = {
            "id": tenant.id, "deletedDateTime": None, "businessPhones": [], "city": None, "country": None,
            "countryLetterCode": "US", "createdDateTime": iso(tenant.created), "displayName": tenant.display_name,
            "tenantType": "AAD",
            "verifiedDomains": [{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": d["isDefault"],
                                 "isInitial": d["isInitial"], "name": d["id"], "type": "Managed"}
                                for d in tenant.domains]}
        if key is not None:
            if rest or key[1] != tenant.id:
                raise not_found(key[1])
            return _graph_json(200, {"@odata.context": self._context("organization") + "/$entity", **organization})
        self._query(call, None, collection=True)
        return _graph_json(200, {"@odata.context": self._context("organization"), "value": [organization]})


# ----------------------------------------------------------------------------------- helpers

def _unknown_segment(segment: str) -> GraphError:
    return bad_request(f"Resource not found for the segment '{segment}'.", code="BadRequest")


def _insufficient_privileges() -> GraphError:
    return GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def _method_not_allowed() -> GraphError:
    return GraphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request uri.")


def _prefers_create(call: Call) -> bool:
    preferences = (call.request.headers.get("Prefer") or "").lower().replace(" ", "").split(",")
    return "create-if-missing" in preferences


def _indexed(items: list):
    """entries() for a plain list: positions are 1-based indexes."""
    def entries(after: int):
        return enumerate(items[after:], after + 1)
    return entries


def _pick(obj: dict, select=None) -> dict:
    return {name: obj.get(name) for name in select} if select else dict(obj)


def _render_user(user, select=None) -> dict:
    return render(user, USER_PROPERTIES, USER_DEFAULT, select)


def _render_group(group, select=None) -> dict:
    return render(group, GROUP_PROPERTIES, GROUP_DEFAULT, select)


def _render_member(member, select=None) -> dict:
    if isinstance(member, directory.User):
        properties, default, odata_type = USER_PROPERTIES, USER_DEFAULT, "#microsoft.graph.user"
    else:
        properties, default, odata_type = GROUP_PROPERTIES, GROUP_DEFAULT, "#microsoft.graph.group"
    names = [name for name in select if name in properties] if select else default
    return {"@odata.type": odata_type, **{name: properties[name](member) for name in names}}


def _render_domain(domain: dict) -> dict:
    return {"authenticationType": "Managed", "availabilityStatus": None, "id": domain["id"], "isAdminManaged": True,
            "isDefault": domain["isDefault"], "isInitial": domain["isInitial"], "isRoot": True, "isVerified": True,
            "passwordNotificationWindowInDays": 14, "passwordValidityPeriodInDays": 2147483647,
            "supportedServices": ["Email", "OfficeCommunicationsOnline"], "state": None}


def _sp_changes(body: dict, *, creating: bool) -> dict:
    resource = "ServicePrincipal"
    validators = {
        "accountEnabled": partial(_boolean, nullable=False),
        "appRoleAssignmentRequired": partial(_boolean, nullable=False),
        "tags": _strings,
        "notes": _string,
        "description": _string,
        "displayName": partial(_string, nullable=False, max_length=256),
        "homepage": _url_or_null,
        "loginUrl": _url_or_null,
        "logoutUrl": _url_or_null,
        "notificationEmailAddresses": _strings,
        "preferredSingleSignOnMode": _string,
        "alternativeNames": _strings,
        "appDescription": _string,
    }
    read_only = set(_SP_TEMPLATE) - set(validators)
    if not creating:
        read_only.add("appId")
    _check_properties(body, validators, "servicePrincipal", read_only=read_only)
    return {prop: validators[prop](value, prop, resource) for prop, value in body.items() if prop in validators}


def _permission_definitions(value, prop, resource, *, kind_field: str) -> list:
    """appRoles and oauth2PermissionScopes an app defines: each needs an id and a value."""
    if not isinstance(value, list):
        raise _invalid(prop, resource)
    seen = set()
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not GUID.match(item["id"]) \
                or kind_field not in item or item["id"].lower() in seen:
            raise _invalid(prop, resource, f" Each entry needs a unique id (GUID), a value and {kind_field}.")
        seen.add(item["id"].lower())
        item.setdefault("isEnabled", True)
    return copy.deepcopy(value)


def _required_resource_access(value) -> list:
    resource = "Application"
    if not isinstance(value, list):
        raise _invalid("requiredResourceAccess", resource)
    result = []
    for entry in value:
        if not isinstance(entry, dict):
            raise _invalid("requiredResourceAccess", resource)
        _check_properties(entry, ("resourceAppId", "resourceAccess"), "requiredResourceAccess")
        app_id = _guid(entry.get("resourceAppId"), "resourceAppId", resource)
        accesses = entry.get("resourceAccess")
        if not isinstance(accesses, list):
            raise _invalid("resourceAccess", resource)
        items = []
        for access in accesses:
            if not isinstance(access, dict):
                raise _invalid("resourceAccess", resource)
            _check_properties(access, ("id", "type"), "resourceAccess")
            if access.get("type") not in ("Role", "Scope"):
                raise _invalid("resourceAccess.type", resource, " Allowed: Role (application), Scope (delegated).")
            items.append({"id": _guid(access.get("id"), "resourceAccess.id", resource), "type": access["type"]})
        result.append({"resourceAppId": app_id, "resourceAccess": items})
    return result


def _key_credentials(app: dict, value) -> list:
    """Certificates, replaced wholesale. A credential re-sent by keyId without its key keeps the stored one."""
    resource = "Application"
    if not isinstance(value, list):
        raise _invalid("keyCredentials", resource)
    existing = {c["keyId"].lower(): c for c in app["keyCredentials"]}
    result, seen = [], set()
    allowed = ("customKeyIdentifier", "displayName", "endDateTime", "key", "keyId", "startDateTime", "type", "usage")
    for item in value:
        if not isinstance(item, dict):
            raise _invalid("keyCredentials", resource)
        _check_properties(item, allowed, "keyCredential")
        if item.get("type") != "AsymmetricX509Cert" or item.get("usage") != "Verify":
            raise _invalid("keyCredentials", resource, " Supported: type AsymmetricX509Cert with usage Verify.")
        key_id = _guid(item["keyId"], "keyId", "KeyCredential") if item.get("keyId") else new_id()
        encoded = item.get("key") or (existing.get(key_id) or {}).get("key")
        try:
            der = base64.b64decode(encoded or "", validate=True)
            certificate = x509.load_der_x509_certificate(der)
        except (ValueError, binascii.Error):
            raise _invalid("keyCredentials.key", resource, " It must be a base64 DER X.509 certificate.") from None
        if key_id in seen:
            raise _invalid("keyCredentials.keyId", resource, " Key ids must be unique.")
        seen.add(key_id)
        start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
        try:
            if item.get("startDateTime"):
                start = parse_time(item["startDateTime"])
            if item.get("endDateTime"):
                end = parse_time(item["endDateTime"])
        except ValueError:
            raise _invalid("keyCredentials.endDateTime", resource) from None
        if end > certificate.not_valid_after_utc:
            raise _invalid("keyCredentials.endDateTime", resource, " It cannot be later than the certificate's expiry.")
        result.append({"customKeyIdentifier": thumbprint(der, hashes.SHA1()),
                       "displayName": _string(item.get("displayName"), "displayName", "KeyCredential"),
                       "endDateTime": iso(end), "key": base64.b64encode(der).decode(), "keyId": key_id,
                       "startDateTime": iso(start), "type": "AsymmetricX509Cert", "usage": "Verify"})
    return result
