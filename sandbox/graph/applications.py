"""Emulated Graph /applications: app registrations (create, read, upsert by uniqueName, update,
delete), the validation of every property a client may set, and the addPassword/removePassword
actions (their credentials are in credentials.py).
"""

from __future__ import annotations

import copy
from functools import partial
from urllib.parse import urlsplit

from .. import directory, shapes
from ..directory import utcnow
from ..odata import GraphError, Schema, bad_request, not_found
from ..web import Response
from .access import Call
from .credentials import add_password, key_credentials, new_password, remove_password, store_secrets
from .resource import GraphResource, get_field, graph_json, method_not_allowed, no_content, prefers_create, unknown_segment
from .validate import (
    GUID,
    any_list,
    boolean,
    check_properties,
    guid,
    guid_or_null,
    invalid,
    merge,
    object_or_null,
    one_of,
    redirect_uris,
    required,
    string,
    strings,
    url_or_null,
)

SIGN_IN_AUDIENCES = ("AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount")
_APP_TEMPLATE = shapes.new_application("example.onmicrosoft.com", "template", utcnow())
APPLICATION_SCHEMA = Schema(
    "application",
    frozenset({"id", "appId", "displayName", "uniqueName", "publisherDomain", "signInAudience"}),
    frozenset({"identifierUris", "tags"}),
    tuple(_APP_TEMPLATE),
)


class Applications(GraphResource):
    """/applications, by object id or the alternate keys appId and uniqueName."""

    SEGMENTS = {"applications": "applications"}

    def applications(self, call: Call, key, rest) -> Response:
        tenant, method = call.tenant, call.method
        if key is None:
            if method == "GET":
                self._require(call, "applications.read")
                return self._list(
                    call,
                    APPLICATION_SCHEMA,
                    tenant.applications.entries,
                    get_field,
                    self._render_app,
                    "applications",
                    page_size=self.sandbox.page_size,
                    keep_extra=self._visible(tenant),
                )
            if method == "POST":
                self._require(call, "applications.write")
                return self._create_application(call, self._body(call))
            raise method_not_allowed()
        if rest:
            action = rest[0]
            if len(rest) > 1 or action not in ("addPassword", "removePassword"):
                raise unknown_segment(rest[-1] if action in ("addPassword", "removePassword") else action)
            if method != "POST":
                raise method_not_allowed()
            self._require(call, "applications.write")
            app = self._find_app(tenant, key)
            return add_password(self, call, app) if action == "addPassword" else remove_password(self, call, app)
        if method == "GET":
            self._require(call, "applications.read")
            return self._entity(call, APPLICATION_SCHEMA, self._find_app(tenant, key), self._render_app, "applications")
        if method == "PATCH":
            self._require(call, "applications.write")
            body = self._body(call)
            if key[0] == "uniqueName":
                existing = tenant.app_by_unique_name(key[1])  # the alternate key is strongly consistent
                if existing is None:
                    if not prefers_create(call):
                        raise not_found(key[1])
                    if body.get("uniqueName", key[1]) != key[1]:
                        raise invalid("uniqueName", "Application", " It must match the key in the URL.")
                    return self._create_application(call, {**body, "uniqueName": key[1]})
                app = existing
            else:
                app = self._find_app(tenant, key)
            updated, _ = self._apply_application(tenant, app, body, creating=False)
            app.clear()
            app.update(updated)
            tenant.sync_service_principal(app)
            return no_content()
        if method == "DELETE":
            self._require(call, "applications.write")
            tenant.remove_application(self._find_app(tenant, key))
            return no_content()
        raise method_not_allowed()

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
            raise required("displayName", "Application")
        app = shapes.new_application(tenant.identity.initial_domain, body["displayName"], utcnow())
        app, new_secrets = self._apply_application(tenant, app, body, creating=True)
        tenant.applications.add(app["id"], app)
        store_secrets(tenant, new_secrets)
        self._start_lag(tenant, app["id"])
        rendered = self._render_app(app)
        revealed = {credential["keyId"]: secret for credential, secret in new_secrets}
        for credential in rendered["passwordCredentials"]:  # the create response is the only place to read them
            credential["secretText"] = revealed.get(credential["keyId"])
        return graph_json(
            201, {"@odata.context": self._context("applications") + "/$entity", **rendered}, {"Location": f"{self._base}/applications/{app['id']}"}
        )

    def _apply_application(self, tenant, app: dict, body: dict, *, creating: bool):
        """Validate every change first, then return the changed copy and any new (credential, secret)."""
        resource = "Application"
        read_only = (
            "id",
            "appId",
            "createdDateTime",
            "publisherDomain",
            "deletedDateTime",
            "verifiedPublisher",
            "applicationTemplateId",
            "disabledByMicrosoftStatus",
            "certification",
        )
        simple = {
            "displayName": partial(string, nullable=False, max_length=256),
            "description": partial(string, max_length=1024),
            "notes": partial(string, max_length=1024),
            "serviceManagementReference": string,
            "tokenEncryptionKeyId": guid_or_null,
            "defaultRedirectUri": string,
            "groupMembershipClaims": string,
            "isFallbackPublicClient": boolean,
            "isDeviceOnlyAuthSupported": boolean,
            "tags": strings,
            "signInAudience": one_of(SIGN_IN_AUDIENCES),
            "optionalClaims": object_or_null,
        }
        url_fields = {
            "homePageUrl": url_or_null,
            "logoutUrl": url_or_null,
            "redirectUris": redirect_uris,
            "implicitGrantSettings": lambda v, p, r: merge(
                updated["web"]["implicitGrantSettings"],
                v,
                p,
                r,
                {"enableAccessTokenIssuance": partial(boolean, nullable=False), "enableIdTokenIssuance": partial(boolean, nullable=False)},
            ),
            "redirectUriSettings": any_list,
        }
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
                updated["web"] = merge(updated["web"], value, prop, resource, url_fields)
            elif prop == "spa":
                updated["spa"] = merge(updated["spa"], value, prop, resource, {"redirectUris": redirect_uris})
            elif prop == "publicClient":
                updated["publicClient"] = merge(
                    updated["publicClient"], value, prop, resource, {"redirectUris": lambda v, p, r: redirect_uris(v, p, r, any_scheme=True)}
                )
            elif prop == "info":
                updated["info"] = merge(updated["info"], value, prop, resource, {name: url_or_null for name in updated["info"]})
            elif prop == "parentalControlSettings":
                updated[prop] = merge(
                    updated[prop], value, prop, resource, {"countriesBlockedForMinors": strings, "legalAgeGroupRule": partial(string, nullable=False)}
                )
            elif prop == "api":
                updated["api"] = merge(
                    updated["api"],
                    value,
                    prop,
                    resource,
                    {
                        "acceptMappedClaims": boolean,
                        "knownClientApplications": strings,
                        "requestedAccessTokenVersion": one_of((None, 1, 2)),
                        "oauth2PermissionScopes": partial(_permission_definitions, kind_field="type"),
                        "preAuthorizedApplications": any_list,
                    },
                )
            elif prop == "appRoles":
                updated["appRoles"] = _permission_definitions(value, prop, resource, kind_field="allowedMemberTypes")
            elif prop == "identifierUris":
                updated["identifierUris"] = self._identifier_uris(tenant, app, value)
            elif prop == "requiredResourceAccess":
                updated["requiredResourceAccess"] = _required_resource_access(value)
            elif prop == "keyCredentials":
                updated["keyCredentials"] = key_credentials(app, value)
            elif prop == "uniqueName":
                updated["uniqueName"] = self._unique_name(tenant, app, value, creating)
            elif prop == "passwordCredentials":
                if not creating:
                    raise bad_request(
                        "Property 'passwordCredentials' cannot be updated with PATCH: new password "
                        "credentials must be generated using service actions (addPassword, "
                        "removePassword)."
                    )
                if not isinstance(value, list):
                    raise invalid(prop, resource)
                new_secrets = [new_password(tenant, updated, spec) for spec in value]
                updated["passwordCredentials"] = [credential for credential, _ in new_secrets]
            else:
                raise bad_request(f"Property '{prop}' does not exist on type 'microsoft.graph.application'.")
        updated["web"]["redirectUriSettings"] = _redirect_uri_settings(updated["web"])
        return updated, new_secrets

    def _identifier_uris(self, tenant, app: dict, value) -> list:
        uris = strings(value, "identifierUris", "Application")
        for uri in uris:
            parts = urlsplit(uri)
            if parts.scheme == "api" and parts.netloc:
                continue
            if parts.scheme in ("http", "https") and parts.hostname and tenant.is_verified_host(parts.hostname):
                continue
            message = f"Values of identifierUris property must use a verified domain of the organization or its subdomain: '{uri}'"
            raise GraphError(
                400, "HostNameNotOnVerifiedDomain", message, details=[{"code": "HostNameNotOnVerifiedDomain", "message": message, "target": "identifierUris"}]
            )
        taken = {uri.lower() for other in tenant.applications.values() if other["id"] != app["id"] for uri in other["identifierUris"]}
        if any(uri.lower() in taken for uri in uris):
            message = "Another object with the same value for property identifierUris already exists."
            raise bad_request(message, details=[{"code": "ObjectConflict", "message": message, "target": "identifierUris"}])
        return uris

    def _unique_name(self, tenant, app: dict, value, creating: bool):
        if not creating:
            if value == app["uniqueName"]:
                return value
            raise bad_request("Property 'uniqueName' is read-only and cannot be set: it can only be set when the application is created.")
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > 120:
            raise invalid("uniqueName", "Application")
        if tenant.app_by_unique_name(value) is not None:
            raise GraphError(
                409, "Request_MultipleObjectsWithSameKeyValue", f"Another object with the same value for property uniqueName '{value}' already exists."
            )
        return value


def _redirect_uri_settings(web: dict) -> list:
    """Graph derives web.redirectUriSettings from web.redirectUris: one {"uri", "index"} per URI, in order.

    An index set earlier for a URI that stays is kept; settings of URIs no longer listed go.
    """
    index = {entry.get("uri"): entry.get("index") for entry in web.get("redirectUriSettings") or [] if isinstance(entry, dict)}
    return [{"uri": uri, "index": index.get(uri)} for uri in web.get("redirectUris") or []]


def _permission_definitions(value, prop, resource, *, kind_field: str) -> list:
    """appRoles and oauth2PermissionScopes an app defines: each needs an id and a value."""
    if not isinstance(value, list):
        raise invalid(prop, resource)
    seen = set()
    for item in value:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("id"), str)
            or not GUID.match(item["id"])
            or kind_field not in item
            or item["id"].lower() in seen
        ):
            raise invalid(prop, resource, f" Each entry needs a unique id (GUID), a value and {kind_field}.")
        seen.add(item["id"].lower())
        item.setdefault("isEnabled", True)
    return copy.deepcopy(value)


def _required_resource_access(value) -> list:
    resource = "Application"
    if not isinstance(value, list):
        raise invalid("requiredResourceAccess", resource)
    result = []
    for entry in value:
        if not isinstance(entry, dict):
            raise invalid("requiredResourceAccess", resource)
        check_properties(entry, ("resourceAppId", "resourceAccess"), "requiredResourceAccess")
        app_id = guid(entry.get("resourceAppId"), "resourceAppId", resource)
        accesses = entry.get("resourceAccess")
        if not isinstance(accesses, list):
            raise invalid("resourceAccess", resource)
        items = []
        for access in accesses:
            if not isinstance(access, dict):
                raise invalid("resourceAccess", resource)
            check_properties(access, ("id", "type"), "resourceAccess")
            if access.get("type") not in ("Role", "Scope"):
                raise invalid("resourceAccess.type", resource, " Allowed: Role (application), Scope (delegated).")
            items.append({"id": guid(access.get("id"), "resourceAccess.id", resource), "type": access["type"]})
        result.append({"resourceAppId": app_id, "resourceAccess": items})
    return result
