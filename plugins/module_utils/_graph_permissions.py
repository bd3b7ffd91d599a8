# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The permissions catalogue: API names and permission names resolved to ids from the tenant's resource
service principals, and named back for what an application requests.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import GraphError, options_error
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import (
    GUID,
    PERMISSION_KINDS,
    SERVICE_PRINCIPAL_FIELDS,
    odata_literal,
    permission_kind,
)

# The api_permissions option of azure_app_registration and azure_app_consent: permissions by API and name.
API_PERMISSIONS_SPEC = dict(
    type="list",
    elements="dict",
    options=dict(
        api=dict(type="str", required=True),
        application=dict(type="list", elements="str", default=[]),
        delegated=dict(type="list", elements="str", default=[]),
    ),
)


MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Azure AD Graph ("Windows Azure Active Directory"), retired in 2025; old runbooks still name it.
AAD_GRAPH_APP_ID = "00000002-0000-0000-c000-000000000000"
WELL_KNOWN_APIS = {
    "microsoft graph": MICROSOFT_GRAPH_APP_ID,
    "windows azure active directory": AAD_GRAPH_APP_ID,
    "azure active directory graph": AAD_GRAPH_APP_ID,
}


class ResourceApi(object):
    """The permissions a resource service principal (an API such as Microsoft Graph) offers."""

    def __init__(self, service_principal):
        self.app_id = service_principal["appId"]
        self.object_id = service_principal["id"]
        self.display_name = service_principal.get("displayName") or self.app_id
        roles = service_principal.get("appRoles") or []
        scopes = service_principal.get("oauth2PermissionScopes") or []
        # Name -> id for what may be requested; id -> name for naming whatever is already there.
        self.ids = {
            "application": dict(
                (role["value"], role["id"])
                for role in roles
                if role.get("value") and "Application" in (role.get("allowedMemberTypes") or []) and role.get("isEnabled", True)
            ),
            "delegated": dict((scope["value"], scope["id"]) for scope in scopes if scope.get("value") and scope.get("isEnabled", True)),
        }
        self.names = {
            "application": dict((role["id"], role.get("value") or role["id"]) for role in roles),
            "delegated": dict((scope["id"], scope.get("value") or scope["id"]) for scope in scopes),
        }

    def name(self, kind, permission_id):
        return self.names[kind].get(permission_id, permission_id)


class UnknownApi(ResourceApi):
    """An API whose service principal is not in the tenant: ids cannot be named."""

    def __init__(self, app_id):
        super(UnknownApi, self).__init__({"appId": app_id, "id": None})


class PermissionCatalogue(object):
    """GraphClient's permission names: which API a name means, and permission names <-> ids (needs
    self.http, self._first and the self._apis cache of GraphClient)."""

    def resource_api(self, app_id):
        """The permissions an API offers, from its service principal in this tenant (cached)."""
        if app_id not in self._apis:
            found = self._first("/servicePrincipals", "read API", app_id, "appId eq %s" % odata_literal(app_id), select=SERVICE_PRINCIPAL_FIELDS)
            self._apis[app_id] = ResourceApi(found) if found else UnknownApi(app_id)
        return self._apis[app_id]

    def resource_api_by_object_id(self, object_id):
        """The API a consent object points at (resourceId = its service principal's object id)."""
        for api in self._apis.values():
            if api.object_id == object_id:
                return api
        found = self.http.json("GET", "/servicePrincipals/%s" % object_id, "read API", object_id, params={"$select": SERVICE_PRINCIPAL_FIELDS})
        api = ResourceApi(found)
        self._apis[api.app_id] = api
        return api

    def find_api(self, api):
        """The app id an `api` value designates: a well-known name, an app id, or a service principal's name."""
        if GUID.match(api):
            return api.lower()
        if api.lower() in WELL_KNOWN_APIS:
            return WELL_KNOWN_APIS[api.lower()]
        matches = list(
            self.http.paged(
                "/servicePrincipals", "find API", repr(api), params={"$filter": "displayName eq %s" % odata_literal(api), "$select": "id,appId,displayName"}
            )
        )
        app_ids = sorted(set(match["appId"] for match in matches))
        if len(app_ids) != 1:
            raise GraphError(
                "api %r: %s; use the API's app id (for example %s for Microsoft Graph)"
                % (
                    api,
                    "%d APIs have this name (app ids: %s)" % (len(app_ids), ", ".join(app_ids))
                    if app_ids
                    else "no service principal in the tenant has this name",
                    MICROSOFT_GRAPH_APP_ID,
                ),
                options=("api_permissions",),
            )
        return app_ids[0]

    def resolve_permissions(self, api_permissions):
        """Permission names -> ids, per API, from the tenant's resource service principals.

        `api_permissions` is the modules' option: a list of {api, application: [names],
        delegated: [names]}. Returns {resource app id: {"application": {name: id},
        "delegated": {name: id}}} and a list of warnings. Every unknown name is reported at
        once, with the closest valid names, before anything is written, naming the option of its kind
        (api_permissions.application or api_permissions.delegated).
        """
        resolved, problems, warnings = {}, [], []
        for entry in api_permissions:
            app_id = self.find_api(entry["api"])
            api = self.resource_api(app_id)
            if isinstance(api, UnknownApi):
                raise GraphError(
                    "api %r: the tenant has no service principal for app id %s, so its permission names cannot be resolved" % (entry["api"], app_id),
                    options=("api_permissions",),
                )
            wanted = resolved.setdefault(app_id, {"application": {}, "delegated": {}})
            for kind, _type in PERMISSION_KINDS:
                for name in entry.get(kind) or []:
                    if name in api.ids[kind]:
                        wanted[kind][name] = api.ids[kind][name]
                    else:
                        problems.append(("api_permissions." + kind, _unknown_permission(api, kind, name)))
            if app_id == AAD_GRAPH_APP_ID:
                warnings.append(self._legacy_api_warning(entry))
        if problems:
            raise options_error(problems, prefix="Unknown API permission%s: " % ("s" if len(problems) > 1 else ""), error=GraphError)
        return resolved, warnings

    def _legacy_api_warning(self, entry):
        graph = self.resource_api(MICROSOFT_GRAPH_APP_ID)
        equivalents, missing = [], []
        for kind, _type in PERMISSION_KINDS:
            names = entry.get(kind) or []
            available = [name for name in names if name in graph.ids[kind]]
            missing.extend("%s %s" % (kind, name) for name in names if name not in graph.ids[kind])
            if available:
                equivalents.append("%s: [%s]" % (kind, ", ".join(available)))
        text = (
            "api %r is Azure AD Graph (%s), which Microsoft retired in 2025: it no longer serves tokens for "
            "apps. Request the Microsoft Graph permissions instead" % (entry["api"], AAD_GRAPH_APP_ID)
        )
        if equivalents:
            text += ": {api: Microsoft Graph, %s}" % ", ".join(equivalents)
        if missing:
            text += " (no Microsoft Graph permission of the same name for %s)" % ", ".join(missing)
        return text

    def requested_permissions(self, application):
        """What an application requests (its requiredResourceAccess), in resolve_permissions()' shape."""
        requested = {}
        for entry in application.get("requiredResourceAccess") or []:
            api = self.resource_api(entry["resourceAppId"])
            wanted = requested.setdefault(api.app_id, {"application": {}, "delegated": {}})
            for access in entry.get("resourceAccess") or []:
                kind = permission_kind(access.get("type"))
                wanted[kind][api.name(kind, access["id"])] = access["id"]
        return requested

    def permission_view(self, permissions):
        """Permissions by name, comparable and readable: [{api, resource_app_id, application, delegated}],
        one entry per API, names sorted, APIs without any permission left out."""
        view = []
        for app_id in sorted(permissions):
            entry = {"api": self.resource_api(app_id).display_name, "resource_app_id": app_id}
            for kind, _type in PERMISSION_KINDS:
                entry[kind] = sorted(permissions[app_id].get(kind) or [])
            if entry["application"] or entry["delegated"]:
                view.append(entry)
        return view


def _unknown_permission(api, kind, name):
    valid = sorted(api.ids[kind])
    close = difflib.get_close_matches(name, valid, n=5, cutoff=0.6)
    if not close:  # Case slips and typos in the middle of long names score low: try case-insensitively too.
        lowered = dict((value.lower(), value) for value in valid)
        close = [lowered[match] for match in difflib.get_close_matches(name.lower(), list(lowered), n=5, cutoff=0.5)]
    text = "%s permission %r does not exist on %s" % (kind, name, api.display_name)
    if close:
        text += " (closest: %s)" % ", ".join(close)
    return text
