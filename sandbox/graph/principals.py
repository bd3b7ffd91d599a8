"""Emulated Graph consent objects: /servicePrincipals (create, upsert by appId, update, delete), the
app role assignments they hold or are granted (application permissions) and
/oauth2PermissionGrants (delegated permissions).
"""

from __future__ import annotations

import copy
from functools import partial

from .. import shapes
from ..directory import new_id, opaque_id, utcnow
from ..shapes import new_assignment
from ..odata import GraphError, Schema, bad_request, not_found
from ..web import Response
from .access import Call
from .resource import DIRECTORY_PAGE_SIZE, GraphResource, get_field, graph_json, indexed, method_not_allowed, no_content, pick, prefers_create, unknown_segment
from .validate import GUID, boolean, check_properties, guid, invalid, required, string, strings, url_or_null

_SP_TEMPLATE = shapes.new_service_principal(new_id(), "template", owner_tenant_id=new_id(), sign_in_audience="AzureADMyOrg")
ASSIGNMENT_PROPERTIES = (
    "id",
    "deletedDateTime",
    "appRoleId",
    "createdDateTime",
    "principalDisplayName",
    "principalId",
    "principalType",
    "resourceDisplayName",
    "resourceId",
)
GRANT_PROPERTIES = ("clientId", "consentType", "id", "principalId", "resourceId", "scope")
SERVICE_PRINCIPAL_SCHEMA = Schema(
    "servicePrincipal",
    frozenset({"id", "appId", "displayName", "accountEnabled", "servicePrincipalType", "appOwnerOrganizationId", "appRoleAssignmentRequired"}),
    frozenset({"servicePrincipalNames", "tags"}),
    tuple(_SP_TEMPLATE),
)
ASSIGNMENT_SCHEMA = Schema("appRoleAssignment", frozenset({"principalId", "resourceId", "appRoleId", "principalType"}), frozenset(), ASSIGNMENT_PROPERTIES)
GRANT_SCHEMA = Schema("oAuth2PermissionGrant", frozenset({"id", "clientId", "consentType", "resourceId", "principalId"}), frozenset(), GRANT_PROPERTIES)


class ServicePrincipals(GraphResource):
    """/servicePrincipals (by id or appId) with their appRoleAssignments, appRoleAssignedTo and
    oauth2PermissionGrants, and /oauth2PermissionGrants."""

    SEGMENTS = {"servicePrincipals": "service_principals", "oauth2PermissionGrants": "grants"}

    def service_principals(self, call: Call, key, rest) -> Response:
        tenant, method = call.tenant, call.method
        if key is None:
            if method == "GET":
                self._require(call, "servicePrincipals.read")
                return self._list(
                    call,
                    SERVICE_PRINCIPAL_SCHEMA,
                    tenant.service_principals.entries,
                    get_field,
                    self._render_sp_for(tenant),
                    "servicePrincipals",
                    page_size=self.sandbox.page_size,
                    keep_extra=self._visible(tenant),
                )
            if method == "POST":
                self._require(call, "servicePrincipals.write")
                body = self._body(call)
                if "appId" not in body:
                    raise required("appId", "ServicePrincipal")
                return self._create_sp(call, body)
            raise method_not_allowed()
        if rest:
            return self._sp_navigation(call, key, rest)
        if method == "GET":
            self._require(call, "servicePrincipals.read")
            return self._entity(call, SERVICE_PRINCIPAL_SCHEMA, self._find_sp(tenant, key), self._render_sp_for(tenant), "servicePrincipals")
        if method == "PATCH":
            self._require(call, "servicePrincipals.write")
            body = self._body(call)
            if key[0] == "appId":
                existing = tenant.sp_by_app_id(key[1])
                if existing is None:
                    if not prefers_create(call):
                        raise not_found(key[1])
                    if body.get("appId", key[1]).lower() != key[1].lower():
                        raise invalid("appId", "ServicePrincipal", " It must match the key in the URL.")
                    return self._create_sp(call, {**body, "appId": key[1]})
                sp = existing
            else:
                sp = self._find_sp(tenant, key)
            if str(body.get("appId", "")).lower() == sp["appId"]:  # naming the key again is no change
                body = {k: v for k, v in body.items() if k != "appId"}
            sp.update(_sp_changes(body, creating=False))
            return no_content()
        if method == "DELETE":
            self._require(call, "servicePrincipals.write")
            tenant.remove_service_principal(self._find_sp(tenant, key))
            return no_content()
        raise method_not_allowed()

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
        app_id = guid(body["appId"], "appId", "ServicePrincipal")
        changes = _sp_changes({k: v for k, v in body.items() if k != "appId"}, creating=True)
        if tenant.sp_by_app_id(app_id) is not None:
            raise GraphError(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                f"The service principal cannot be created, updated, or restored because the service principal name {app_id} is already in use.",
            )
        app = tenant.app_by_app_id(app_id)
        if app is None or tenant.invisible(app["id"]):
            message = f"The appId '{app_id}' of the service principal does not reference a valid application object."
            raise bad_request(message, details=[{"code": "NoBackingApplicationObject", "message": message, "target": "appId"}])
        sp = shapes.service_principal_for(tenant, app)
        sp.update(changes)
        tenant.service_principals.add(sp["id"], sp)
        self._start_lag(tenant, sp["id"])
        return graph_json(
            201,
            {"@odata.context": self._context("servicePrincipals") + "/$entity", **self._render_sp_for(tenant)(sp)},
            {"Location": f"{self._base}/servicePrincipals/{sp['id']}"},
        )

    def _sp_navigation(self, call: Call, key, rest) -> Response:
        tenant, method = call.tenant, call.method
        relation = rest[0]
        if relation in ("appRoleAssignments", "appRoleAssignedTo"):
            if len(rest) > 2:
                raise unknown_segment(rest[2])
            self._require(call, "appRoleAssignments.read" if method == "GET" else "appRoleAssignments.write")
            sp = self._find_sp(tenant, key)
            return self._assignments(call, sp, relation, rest[1] if len(rest) == 2 else None)
        if relation == "oauth2PermissionGrants" and len(rest) == 1:
            if method != "GET":
                raise method_not_allowed()
            self._require(call, "grants.read")
            sp = self._find_sp(tenant, key)
            grants = [g for g in tenant.grants.values() if g["clientId"] == sp["id"]]
            return self._list(
                call, GRANT_SCHEMA, indexed(grants), get_field, pick, f"servicePrincipals('{sp['id']}')/oauth2PermissionGrants", page_size=DIRECTORY_PAGE_SIZE
            )
        raise unknown_segment(relation)

    def _assignments(self, call: Call, sp: dict, relation: str, assignment_id) -> Response:
        """appRoleAssignments: the roles `sp` holds (it is the principal); appRoleAssignedTo: the
        roles granted on `sp` (it is the resource)."""
        tenant, method = call.tenant, call.method
        side = "principalId" if relation == "appRoleAssignments" else "resourceId"
        context = f"servicePrincipals('{sp['id']}')/{relation}"
        if assignment_id is None:
            if method == "GET":
                items = [a for a in tenant.app_role_assignments.values() if a[side] == sp["id"]]
                return self._list(call, ASSIGNMENT_SCHEMA, indexed(items), get_field, pick, context, page_size=DIRECTORY_PAGE_SIZE)
            if method == "POST":
                return self._create_assignment(call, sp, side, context)
            raise method_not_allowed()
        assignment = tenant.app_role_assignments.get(assignment_id)
        if assignment is None or assignment[side] != sp["id"]:
            raise not_found(assignment_id)
        if method == "GET":
            return self._entity(call, ASSIGNMENT_SCHEMA, assignment, pick, context)
        if method == "DELETE":
            tenant.app_role_assignments.remove(assignment_id)
            return no_content()
        raise method_not_allowed()

    def _create_assignment(self, call: Call, sp: dict, side: str, context: str) -> Response:
        tenant, resource_name = call.tenant, "AppRoleAssignment"
        body = self._body(call)
        check_properties(body, ("principalId", "resourceId", "appRoleId"), "appRoleAssignment")
        for prop in ("principalId", "resourceId", "appRoleId"):
            if prop not in body:
                raise required(prop, resource_name)
        principal_id = guid(body["principalId"], "principalId", resource_name)
        resource_id = guid(body["resourceId"], "resourceId", resource_name)
        role_id = guid(body["appRoleId"], "appRoleId", resource_name)
        if {"principalId": principal_id, "resourceId": resource_id}[side] != sp["id"]:
            raise invalid(side, resource_name, f" It must be the service principal in the URL ({sp['id']}).")
        resource = tenant.service_principals.get(resource_id)
        if resource is None or tenant.invisible(resource_id):
            raise invalid("resourceId", resource_name, " No service principal has this id.")
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
        if not default_access and not any(
            role["id"] == role_id and role.get("isEnabled", True) and member_type in role["allowedMemberTypes"] for role in roles
        ):
            raise bad_request(f"Permission being assigned was not found on application '{resource['appId']}'.")
        if any(a["principalId"] == principal_id and a["resourceId"] == resource_id and a["appRoleId"] == role_id for a in tenant.app_role_assignments.values()):
            message = "Permission being assigned already exists on the object"
            raise bad_request(message, details=[{"code": "InvalidUpdate", "message": message, "target": "AppRoleId"}])
        assignment = new_assignment(principal, principal_type, resource, role_id, utcnow())
        tenant.app_role_assignments.add(assignment["id"], assignment)
        return graph_json(201, {"@odata.context": self._context(context) + "/$entity", **assignment})

    def grants(self, call: Call, key, rest) -> Response:
        tenant, method = call.tenant, call.method
        if rest:
            raise unknown_segment(rest[0])
        if key is None:
            if method == "GET":
                self._require(call, "grants.read")
                return self._list(call, GRANT_SCHEMA, tenant.grants.entries, get_field, pick, "oauth2PermissionGrants", page_size=DIRECTORY_PAGE_SIZE)
            if method == "POST":
                self._require(call, "grants.write")
                return self._create_grant(call, self._body(call))
            raise method_not_allowed()
        if key[0] != "id":
            raise bad_request("oauth2PermissionGrants have no alternate keys.")
        self._require(call, "grants.read" if method == "GET" else "grants.write")
        grant = tenant.grants.get(key[1])
        if grant is None:
            raise not_found(key[1])
        if method == "GET":
            return self._entity(call, GRANT_SCHEMA, grant, pick, "oauth2PermissionGrants")
        if method == "PATCH":
            body = self._body(call)
            check_properties(body, ("scope",), "oAuth2PermissionGrant", read_only=("id", "clientId", "consentType", "principalId", "resourceId"))
            if "scope" in body:
                grant["scope"] = self._grant_scope(tenant, tenant.service_principals.get(grant["resourceId"]), body["scope"])
            return no_content()
        if method == "DELETE":
            tenant.grants.remove(grant["id"])
            return no_content()
        raise method_not_allowed()

    def _create_grant(self, call: Call, body: dict) -> Response:
        tenant, resource_name = call.tenant, "OAuth2PermissionGrant"
        check_properties(body, ("clientId", "consentType", "principalId", "resourceId", "scope"), "oAuth2PermissionGrant", read_only=("id",))
        for prop in ("clientId", "consentType", "resourceId"):
            if body.get(prop) is None:
                raise required(prop, resource_name)
        client_id = guid(body["clientId"], "clientId", resource_name)
        resource_id = guid(body["resourceId"], "resourceId", resource_name)
        consent_type = body["consentType"]
        if consent_type not in ("AllPrincipals", "Principal"):
            raise invalid("consentType", resource_name, " Allowed: AllPrincipals, Principal.")
        principal_id = body.get("principalId")
        if consent_type == "AllPrincipals" and principal_id is not None:
            raise invalid("principalId", resource_name, " It must be null when consentType is AllPrincipals.")
        if consent_type == "Principal":
            if principal_id is None:
                raise required("principalId", resource_name)
            principal_id = guid(principal_id, "principalId", resource_name)
            if tenant.users.get(principal_id) is None:
                raise not_found(principal_id)
        for object_id in (client_id, resource_id):  # a just-created client is not found yet, like a missing one
            if tenant.service_principals.get(object_id) is None or tenant.invisible(object_id):
                raise not_found(object_id)
        resource = tenant.service_principals.get(resource_id)
        scope = self._grant_scope(tenant, resource, body.get("scope", ""))
        if any(
            g["clientId"] == client_id and g["resourceId"] == resource_id and g["consentType"] == consent_type and g["principalId"] == principal_id
            for g in tenant.grants.values()
        ):
            raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists.")
        grant = {"clientId": client_id, "consentType": consent_type, "id": opaque_id(), "principalId": principal_id, "resourceId": resource_id, "scope": scope}
        tenant.grants.add(grant["id"], grant)
        return graph_json(201, {"@odata.context": self._context("oauth2PermissionGrants") + "/$entity", **grant})

    @staticmethod
    def _grant_scope(tenant, resource: dict, scope) -> str:
        if scope is None:
            scope = ""
        if not isinstance(scope, str):
            raise invalid("scope", "OAuth2PermissionGrant")
        known = {item["value"] for item in tenant.sp_scopes(resource)}
        unknown = [name for name in scope.split() if name not in known]
        if unknown:
            raise invalid("scope", "OAuth2PermissionGrant", f" {', '.join(unknown)} is not a delegated permission of '{resource['displayName']}'.")
        return scope


def _sp_changes(body: dict, *, creating: bool) -> dict:
    resource = "ServicePrincipal"
    validators = {
        "accountEnabled": partial(boolean, nullable=False),
        "appRoleAssignmentRequired": partial(boolean, nullable=False),
        "tags": strings,
        "notes": string,
        "description": string,
        "displayName": partial(string, nullable=False, max_length=256),
        "homepage": url_or_null,
        "loginUrl": url_or_null,
        "logoutUrl": url_or_null,
        "notificationEmailAddresses": strings,
        "preferredSingleSignOnMode": string,
        "alternativeNames": strings,
        "appDescription": string,
    }
    read_only = set(_SP_TEMPLATE) - set(validators)
    if not creating:
        read_only.add("appId")
    check_properties(body, validators, "servicePrincipal", read_only=read_only)
    return {prop: validators[prop](value, prop, resource) for prop, value in body.items() if prop in validators}
