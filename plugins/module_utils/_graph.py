# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Microsoft Graph for the collection: the Graph client and the Graph resources the modules share
(applications, service principals, permission names, admin consent objects, the directory).
The connection (options, endpoints, transport, sign-in) is _connection.GraphConnection.

Private to this collection: no compatibility promise outside it.

Modules never talk HTTP themselves: they call GraphClient methods. Errors are ApiError
(an HTTP call failed, from _http) or GraphError (anything else worth telling the user, such
as an ambiguous name); GraphModule.run() turns both into fail_json without a traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import difflib
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

# The connection (options, endpoints, sign-in) lives in _connection; these names stay importable from here.
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._connection import (  # noqa: F401 pylint: disable=unused-import
    CLOUDS,
    GRAPH_CONNECTION_SPEC,
    MSAL_IMPORT_ERROR,
    GraphConnection,
    GraphError,
    TokenError,
    acquire_token,
    connection_options,
    endpoints,
    sign_in_host_unknown,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import (
    REQUESTS_IMPORT_ERROR,
    ApiError,
    HttpClient,
    backoff,
    parse_error_body,
)

MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Azure AD Graph ("Windows Azure Active Directory"), retired in 2025; old runbooks still name it.
AAD_GRAPH_APP_ID = "00000002-0000-0000-c000-000000000000"
WELL_KNOWN_APIS = {
    "microsoft graph": MICROSOFT_GRAPH_APP_ID,
    "windows azure active directory": AAD_GRAPH_APP_ID,
    "azure active directory graph": AAD_GRAPH_APP_ID,
}

# Option names for the two kinds of permission, and the Graph resourceAccess type of each.
PERMISSION_KINDS = (("application", "Role"), ("delegated", "Scope"))

APPLICATION_FIELDS = ("id,appId,displayName,uniqueName,signInAudience,web,requiredResourceAccess,"
                      "passwordCredentials,tags")
SERVICE_PRINCIPAL_FIELDS = "id,appId,displayName,appRoles,oauth2PermissionScopes"

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Graph's largest page for directory lists: fewer round trips in a large tenant.
LARGEST_PAGE = 999
# Graph's JSON batching ($batch) takes at most 20 requests per call.
BATCH_LIMIT = 20
# Concurrent batches of group member reads: 4 x 20 inner requests in flight hide Graph's round trips, while a
# members read costs 2 of the documented resource units, so a large tenant's 8,000 per 10 s last ~4,000 reads.
MEMBER_READERS = 4

# Waits (seconds) before re-reading an object that a previous task just created but that Graph
# does not show yet (eventual consistency); 15 s in total.
VISIBILITY_WAITS = (1, 2, 4, 8)


def token_client_id(access_token):
    """The client (application) id an access token was issued to: its `appid` claim (v1 tokens) or `azp`
    (v2), read without checking the signature (it only tells who this run is, it grants nothing); None
    when the token is not a JWT that says."""
    try:
        payload = str(access_token).split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8"))
    except (IndexError, ValueError, TypeError):  # binascii.Error and UnicodeDecodeError are ValueErrors
        return None
    client_id = (claims.get("appid") or claims.get("azp")) if isinstance(claims, dict) else None
    return client_id if isinstance(client_id, str) and client_id else None


def odata_literal(value):
    """An OData string literal: quoted, with embedded single quotes doubled."""
    return "'%s'" % value.replace("'", "''")


def connection_params(params):
    """The Graph connection options out of a module's params."""
    return connection_options(params)


# Eventual consistency: answers Graph gives right after a create, retried (bounded by _http's budget).

def _error_text(response):
    code, message = parse_error_body(response)[:2]
    return "%s %s" % (code or "", message or "")


def object_not_yet_visible(response):
    """404 for an object a previous call just created or read."""
    return response.status_code == 404


def application_not_yet_consistent(response):
    """An application write right after its creation: 404, or a 409 concurrency answer."""
    return response.status_code in (404, 409)


def backing_application_not_yet_visible(response):
    """Creating a service principal before Graph shows its application."""
    text = _error_text(response)
    return ((response.status_code == 400 and ("NoBackingApplicationObject" in text
                                              or "does not reference a valid application object" in text))
            or (response.status_code == 403 and "backing application of the service principal" in text))


def reference_not_yet_visible(response):
    """Assigning an app role or granting scopes to a service principal Graph does not show yet."""
    if response.status_code == 404:
        return True
    return response.status_code == 400 and "Not a valid reference update" in _error_text(response)


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
            "application": dict((role["value"], role["id"]) for role in roles
                                if role.get("value") and "Application" in (role.get("allowedMemberTypes") or [])
                                and role.get("isEnabled", True)),
            "delegated": dict((scope["value"], scope["id"]) for scope in scopes
                              if scope.get("value") and scope.get("isEnabled", True)),
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


class GraphClient(object):
    """Microsoft Graph v1.0 with one access token: the resources this collection manages."""

    def __init__(self, access_token, graph_url, ca_path=None, validate_certs=True, sleep=None, transport=None):
        self.graph_url = graph_url.rstrip("/")
        self._sleep = sleep or time.sleep
        # The application (client) id this client signs in as, when the token says (token_client_id).
        self.signed_in_client_id = token_client_id(access_token)
        self.http = HttpClient(self.graph_url + "/v1.0", headers={"Authorization": "Bearer " + access_token},
                               ca_path=ca_path, validate_certs=validate_certs, sleep=self._sleep, transport=transport)
        self._apis = {}

    @classmethod
    def connect(cls, sleep=None, **options):
        """A client for the connection options given (see _connection.GraphConnection)."""
        return GraphConnection(options, sleep=sleep).client(sleep=sleep)

    # Applications

    def find_application(self, app_id=None, unique_name=None, display_name=None):
        """The one application identified by app_id, else unique_name, else display_name; None if none.

        Display names are not unique in Entra: several matches fail, listing their app ids.
        """
        if app_id:
            return self._first("/applications", "find application", "with app_id %s" % app_id,
                               "appId eq %s" % odata_literal(app_id))
        if unique_name:
            return self.get_application_by_unique_name(unique_name)
        if display_name:
            matches = self.list_applications(display_name=display_name)
            if len(matches) > 1:
                raise GraphError("%d applications are named %r (app ids: %s); set app_id or unique_name to choose one"
                                 % (len(matches), display_name, ", ".join(sorted(app["appId"] for app in matches))),
                                 app_ids=sorted(app["appId"] for app in matches))
            return matches[0] if matches else None
        raise GraphError("one of app_id, unique_name or display_name is required to identify the application")

    def wait_for_application(self, **identity):
        """find_application for an app that should exist (created by an earlier task): Graph may not
        show it for a few seconds, so look again before answering None."""
        for wait in VISIBILITY_WAITS + (None,):
            found = self.find_application(**identity)
            if found is not None or wait is None:
                return found
            self._sleep(wait)

    def get_application_by_unique_name(self, unique_name):
        path = "/applications(uniqueName=%s)" % quote(odata_literal(unique_name), safe="'")
        try:
            return self.http.json("GET", path, "read application", "with unique_name %r" % unique_name)
        except ApiError as err:
            if err.status == 404:
                return None
            raise

    def list_applications(self, display_name=None):
        """Every application (paged), or those with exactly this display name."""
        params = {"$select": APPLICATION_FIELDS}
        resource = None
        if display_name is not None:
            params["$filter"] = "displayName eq %s" % odata_literal(display_name)
            resource = "named %r" % display_name
        return list(self.http.paged("/applications", "list applications", resource, params=params))

    def create_application(self, body):
        return self.http.json("POST", "/applications", "create application", repr(body.get("displayName")),
                              json=body, expected=(201,))

    def upsert_application(self, unique_name, body):
        """Create the application with this uniqueName, or update it if it exists (idempotent to repeat)."""
        path = "/applications(uniqueName=%s)" % quote(odata_literal(unique_name), safe="'")
        resource = "with unique_name %r" % unique_name
        response = self.http.request("PATCH", path, "create or update application", resource, json=body,
                                     headers={"Prefer": "create-if-missing"}, expected=(200, 201, 204))
        if response.status_code == 204 or not response.content:
            # It already existed and Graph answers without a body: read it back for its ids.
            return self.http.json("GET", path, "read application", resource, retry_when=object_not_yet_visible)
        return response.json()

    def update_application(self, object_id, body):
        self.http.request("PATCH", "/applications/%s" % object_id, "update application", object_id, json=body,
                          expected=(204, 200), retry_when=application_not_yet_consistent)

    def delete_application(self, object_id):
        self.http.request("DELETE", "/applications/%s" % object_id, "delete application", object_id,
                          expected=(204,), retry_when=object_not_yet_visible)

    def add_password(self, object_id, password_credential):
        """addPassword: the response is the only place Graph ever shows the secret text."""
        return self.http.json("POST", "/applications/%s/addPassword" % object_id, "add client secret to application",
                              object_id, json={"passwordCredential": password_credential}, expected=(200, 201),
                              retry_when=object_not_yet_visible)

    def remove_password(self, object_id, key_id):
        self.http.request("POST", "/applications/%s/removePassword" % object_id,
                          "remove client secret %s from application" % key_id, object_id,
                          json={"keyId": key_id}, expected=(200, 204))

    def get_default_app_management_policy(self):
        """The tenant default app management policy (lifetime limits of new credentials); needs Policy.Read.All."""
        return self.http.json("GET", "/policies/defaultAppManagementPolicy", "read",
                              "the tenant default app management policy")

    # Service principals

    def get_service_principal(self, app_id):
        """The service principal (enterprise application) of an app id in this tenant, or None."""
        return self._first("/servicePrincipals", "find service principal", "for app_id %s" % app_id,
                           "appId eq %s" % odata_literal(app_id))

    def create_service_principal(self, app_id):
        """Create the app's service principal; adopt it if another writer got there first."""
        try:
            return self.http.json("POST", "/servicePrincipals", "create service principal", "for app_id %s" % app_id,
                                  json={"appId": app_id}, expected=(201,),
                                  retry_when=backing_application_not_yet_visible)
        except ApiError as err:
            if err.status != 409:
                raise
        for wait in VISIBILITY_WAITS + (None,):
            found = self.get_service_principal(app_id)
            if found is not None or wait is None:
                return found
            self._sleep(wait)

    def delete_service_principal(self, object_id):
        self.http.request("DELETE", "/servicePrincipals/%s" % object_id, "delete service principal", object_id,
                          expected=(204,))

    # Resource APIs and permission names

    def resource_api(self, app_id):
        """The permissions an API offers, from its service principal in this tenant (cached)."""
        if app_id not in self._apis:
            found = self._first("/servicePrincipals", "read API", app_id, "appId eq %s" % odata_literal(app_id),
                                select=SERVICE_PRINCIPAL_FIELDS)
            self._apis[app_id] = ResourceApi(found) if found else UnknownApi(app_id)
        return self._apis[app_id]

    def resource_api_by_object_id(self, object_id):
        """The API a consent object points at (resourceId = its service principal's object id)."""
        for api in self._apis.values():
            if api.object_id == object_id:
                return api
        found = self.http.json("GET", "/servicePrincipals/%s" % object_id, "read API", object_id,
                               params={"$select": SERVICE_PRINCIPAL_FIELDS})
        api = ResourceApi(found)
        self._apis[api.app_id] = api
        return api

    def find_api(self, api):
        """The app id an `api` value designates: a well-known name, an app id, or a service principal's name."""
        if GUID.match(api):
            return api.lower()
        if api.lower() in WELL_KNOWN_APIS:
            return WELL_KNOWN_APIS[api.lower()]
        matches = list(self.http.paged("/servicePrincipals", "find API", repr(api),
                                       params={"$filter": "displayName eq %s" % odata_literal(api),
                                               "$select": "id,appId,displayName"}))
        app_ids = sorted(set(match["appId"] for match in matches))
        if len(app_ids) != 1:
            raise GraphError("api %r: %s; use the API's app id (for example %s for Microsoft Graph)"
                             % (api, "%d APIs have this name (app ids: %s)" % (len(app_ids), ", ".join(app_ids))
                                if app_ids else "no service principal in the tenant has this name",
                                MICROSOFT_GRAPH_APP_ID))
        return app_ids[0]

    def resolve_permissions(self, api_permissions):
        """Permission names -> ids, per API, from the tenant's resource service principals.

        `api_permissions` is the modules' option: a list of {api, application: [names],
        delegated: [names]}. Returns {resource app id: {"application": {name: id},
        "delegated": {name: id}}} and a list of warnings. Every unknown name is reported at
        once, with the closest valid names, before anything is written.
        """
        resolved, problems, warnings = {}, [], []
        for entry in api_permissions:
            app_id = self.find_api(entry["api"])
            api = self.resource_api(app_id)
            if isinstance(api, UnknownApi):
                raise GraphError("api %r: the tenant has no service principal for app id %s, so its permission "
                                 "names cannot be resolved" % (entry["api"], app_id))
            wanted = resolved.setdefault(app_id, {"application": {}, "delegated": {}})
            for kind, _type in PERMISSION_KINDS:
                for name in entry.get(kind) or []:
                    if name in api.ids[kind]:
                        wanted[kind][name] = api.ids[kind][name]
                    else:
                        problems.append(_unknown_permission(api, kind, name))
            if app_id == AAD_GRAPH_APP_ID:
                warnings.append(self._legacy_api_warning(entry))
        if problems:
            raise GraphError("Unknown API permission%s: %s" % ("s" if len(problems) > 1 else "", "; ".join(problems)))
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
        text = ("api %r is Azure AD Graph (%s), which Microsoft retired in 2025: it no longer serves tokens for "
                "apps. Request the Microsoft Graph permissions instead" % (entry["api"], AAD_GRAPH_APP_ID))
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
                kind = "application" if access.get("type") == "Role" else "delegated"
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

    def read_consent(self, principal_id):
        """The admin consent a client service principal holds, per API (resource app id):
        {"application": {permission name: app role assignment}, "grants": [AllPrincipals grants]}."""
        consent = {}
        for assignment in self.list_app_role_assignments(principal_id):
            api = self.resource_api_by_object_id(assignment["resourceId"])
            entry = consent.setdefault(api.app_id, {"application": {}, "grants": []})
            entry["application"][api.name("application", assignment["appRoleId"])] = assignment
        for grant in self.list_admin_grants(principal_id):
            api = self.resource_api_by_object_id(grant["resourceId"])
            consent.setdefault(api.app_id, {"application": {}, "grants": []})["grants"].append(grant)
        return consent

    def describe_application(self, application, permissions=True):
        """An application's identity and the fields this collection manages, by option name (without
        api_permissions unless `permissions`: naming them reads the service principal of each API)."""
        web = application.get("web") or {}
        info = {
            "app_id": application.get("appId"),
            "object_id": application.get("id"),
            "display_name": application.get("displayName"),
            "unique_name": application.get("uniqueName"),
            "sign_in_audience": application.get("signInAudience"),
            "redirect_uris": sorted(web.get("redirectUris") or []),
            "home_page_url": web.get("homePageUrl") or None,
        }
        if permissions:
            info["api_permissions"] = self.permission_view(self.requested_permissions(application))
        return info

    # Admin consent: app role assignments (application permissions) and delegated grants

    def list_app_role_assignments(self, principal_id):
        return list(self.http.paged("/servicePrincipals/%s/appRoleAssignments" % principal_id,
                                    "list app role assignments of service principal", principal_id))

    def add_app_role_assignment(self, principal_id, resource_id, app_role_id):
        """Grant one application permission; an assignment that already exists is adopted."""
        path = "/servicePrincipals/%s/appRoleAssignments" % principal_id
        try:
            return self.http.json("POST", path, "grant app role %s to service principal" % app_role_id, principal_id,
                                  json={"principalId": principal_id, "resourceId": resource_id,
                                        "appRoleId": app_role_id},
                                  expected=(201, 200), retry_when=reference_not_yet_visible)
        except ApiError as err:
            if not (err.status in (400, 409) and "already exist" in (err.api_message or "")):
                raise
        for assignment in self.list_app_role_assignments(principal_id):
            if assignment["resourceId"] == resource_id and assignment["appRoleId"] == app_role_id:
                return assignment
        raise GraphError("Graph says app role %s is already granted to service principal %s but does not list it"
                         % (app_role_id, principal_id))

    def remove_app_role_assignment(self, principal_id, assignment_id):
        self.http.request("DELETE", "/servicePrincipals/%s/appRoleAssignments/%s" % (principal_id, assignment_id),
                          "revoke app role assignment %s of service principal" % assignment_id, principal_id,
                          expected=(204,))

    def list_admin_grants(self, client_id):
        """The tenant-wide (AllPrincipals) delegated grants of a client service principal."""
        grants = self.http.paged("/oauth2PermissionGrants", "list delegated permission grants",
                                 "of service principal %s" % client_id,
                                 params={"$filter": "clientId eq %s" % odata_literal(client_id)})
        return [grant for grant in grants if grant.get("consentType") == "AllPrincipals"]

    def create_admin_grant(self, client_id, resource_id, scopes):
        """Grant delegated scopes for all users; Graph allows one such grant per client and API, so an
        existing one (409) is adopted and set to these scopes."""
        body = {"clientId": client_id, "consentType": "AllPrincipals", "resourceId": resource_id,
                "scope": " ".join(scopes)}
        try:
            return self.http.json("POST", "/oauth2PermissionGrants", "grant delegated permissions",
                                  "to service principal %s" % client_id, json=body, expected=(201, 200),
                                  retry_when=reference_not_yet_visible)
        except ApiError as err:
            if err.status != 409:
                raise
        for grant in self.list_admin_grants(client_id):
            if grant["resourceId"] == resource_id:
                self.update_admin_grant(grant["id"], scopes)
                return dict(grant, scope=body["scope"])
        raise GraphError("Graph says service principal %s already has a delegated grant for %s but does not list it"
                         % (client_id, resource_id))

    def update_admin_grant(self, grant_id, scopes):
        self.http.request("PATCH", "/oauth2PermissionGrants/%s" % grant_id, "update delegated permission grant",
                          grant_id, json={"scope": " ".join(scopes)}, expected=(204, 200),
                          retry_when=object_not_yet_visible)

    def delete_admin_grant(self, grant_id):
        self.http.request("DELETE", "/oauth2PermissionGrants/%s" % grant_id, "revoke delegated permission grant",
                          grant_id, expected=(204,))

    # The directory: the tenant, its domains, users, groups and their members

    def tenant_names(self):
        """The names the token's tenant answers to, lower case: its id and its verified domains."""
        page = self.http.json("GET", "/organization", "read the tenant")  # one small object: no $select needed
        names = set()
        for organization in (page or {}).get("value") or ():
            names.add(organization["id"].lower())
            names.update(domain["name"].lower() for domain in organization.get("verifiedDomains") or ())
        return names

    def verified_domains(self):
        """The names of the tenant's verified domains, lower case."""
        domains = self.http.paged("/domains", "list domains of the tenant", params={"$select": "id,isVerified"})
        return [domain["id"].lower() for domain in domains if domain.get("isVerified")]

    def check_directory_read(self):
        """One small read that needs the same consent as reading the whole directory; ApiError when refused."""
        self.http.json("GET", "/users", "list users of the tenant", params={"$select": "id", "$top": "1"})

    def list_users(self, select):
        """Every user of the tenant, with the fields named in `select` (comma-separated)."""
        return list(self.http.paged("/users", "list users of the tenant",
                                    params={"$select": select, "$top": LARGEST_PAGE}))

    def list_groups(self, select):
        """Every group of the tenant, with the fields named in `select` (comma-separated)."""
        return list(self.iter_groups(select))

    def iter_groups(self, select):
        """The groups of the tenant as their pages arrive (so their members can be read meanwhile)."""
        return self.http.paged("/groups", "list groups of the tenant", params={"$select": select, "$top": LARGEST_PAGE})

    def list_group_members(self, group_id):
        """The direct members of a group (id and @odata.type); None when the group no longer exists."""
        try:
            return list(self.http.paged("/groups/%s/members" % group_id, "list members of group", group_id,
                                        params={"$select": "id", "$top": LARGEST_PAGE}))
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def batch_get(self, urls, operation):
        """GET each of `urls` (relative to /v1.0, at most BATCH_LIMIT) in one JSON batch; the answers in the same
        order, each (status, headers with lower-case names, body). The batch itself is retried like any request;
        its inner answers are the caller's to judge (a 429 inside a 200 batch is normal)."""
        requests_ = [{"id": str(index), "method": "GET", "url": url} for index, url in enumerate(urls)]
        # A batch of reads may be repeated, so a gateway timeout is retried as for a GET.
        page = self.http.json("POST", "/$batch", operation, json={"requests": requests_},
                              retry_when=lambda response: response.status_code in (502, 504)) or {}
        answers = dict((str(answer.get("id")), answer) for answer in page.get("responses") or ()
                       if isinstance(answer, dict))
        result = []
        for index in range(len(urls)):
            answer = answers.get(str(index))
            if answer is None:
                raise ApiError(operation, message="the batch answer has no response for request %d" % index)
            headers = dict((str(name).lower(), value) for name, value in (answer.get("headers") or {}).items())
            result.append((answer.get("status"), headers, answer.get("body")))
        return result

    def relative(self, link):
        """A nextLink Graph gave (absolute) as the relative URL a batch request takes."""
        root = self.http.base_url + "/"
        if link.startswith(root):
            return "/" + link[len(root):]
        path = link.split("://", 1)[-1]
        path = path[path.find("/"):] if "/" in path else "/"
        return path[len("/v1.0"):] if path.startswith("/v1.0/") else path

    def _first(self, path, operation, resource, odata_filter, select=None):
        params = {"$filter": odata_filter}
        if select:
            params["$select"] = select
        page = self.http.json("GET", path, operation, resource, params=params) or {}
        values = page.get("value") or []
        return values[0] if values else None


def with_members(new_client, groups, readers=MEMBER_READERS):
    """The groups (a list, or an iterable such as GraphClient.iter_groups() whose pages are still arriving),
    each with its `members` (id and @odata.type, in Graph's order); a group deleted since it was listed is left
    out.

    Members are read through JSON batches ($batch) of up to 20 groups, `readers` batches at once, starting as soon
    as 20 groups are known; each thread gets its own client from new_client(), as a requests session is not meant
    to be shared. A group with more members than a page continues from its nextLink in the next batch. An inner
    request Graph throttles or cannot serve now (429, 503, 502, 504 inside the batch's 200) is asked again after
    its Retry-After, bounded like _http's retries; any other inner failure fails the read, naming the group.
    """
    local = threading.local()

    def read(chunk):
        if not hasattr(local, "graph"):
            local.graph = new_client()
        _read_members(local.graph, chunk)

    listed, chunk, futures = [], [], []
    with ThreadPoolExecutor(max_workers=readers) as pool:
        try:
            for group in groups:
                listed.append(group)
                chunk.append(group)
                if len(chunk) == BATCH_LIMIT:
                    futures.append(pool.submit(read, chunk))
                    chunk = []
                    if futures[0].done():  # fail early rather than list every group first
                        futures.pop(0).result()
            if chunk:
                futures.append(pool.submit(read, chunk))
            for future in futures:
                future.result()
        except BaseException:
            for future in futures:  # do not read the rest after a failure
                future.cancel()
            raise
    return [group for group in listed if group["members"] is not None]


# Inner answers of a batch that mean "not now": asked again after Retry-After (reads only, so 502/504 too).
_INNER_RETRY = frozenset((429, 502, 503, 504))
MEMBERS_OPERATION = "list members of group"


def _read_members(graph, groups):
    """Fill in `members` of up to BATCH_LIMIT groups with as few batches as their pages allow."""
    http = graph.http
    pending = []
    for group in groups:
        group["members"] = []
        pending.append((group, "/groups/%s/members?$select=id&$top=%d" % (quote(group["id"], safe=""), LARGEST_PAGE)))
    attempts = {}
    waited = 0.0
    while pending:
        answers = graph.batch_get([url for _group, url in pending], "list members of groups")
        again, pause, last_error = [], 0.0, None
        for (group, url), (status, headers, body) in zip(pending, answers):
            if status == 200 and isinstance(body, dict):
                group["members"].extend(body.get("value") or [])
                link = body.get("@odata.nextLink")
                if link:
                    again.append((group, graph.relative(link)))
                continue
            if status == 404:  # deleted since it was listed
                group["members"] = None
                continue
            error = _inner_error(MEMBERS_OPERATION, group["id"], status, headers, body)
            attempt = attempts[group["id"]] = attempts.get(group["id"], 0) + 1
            if status not in _INNER_RETRY or attempt > http.max_retries:
                raise error
            seconds = _inner_retry_after(headers)
            pause = max(pause, backoff(attempt) if seconds is None else seconds)
            again.append((group, url))
            last_error = error
        if pause:
            if waited + pause > http.max_retry_wait:
                raise last_error
            graph._sleep(pause)
            waited += pause
        pending = again


def _inner_retry_after(headers):
    try:
        return max(0.0, float(headers.get("retry-after")))
    except (TypeError, ValueError):
        return None


def _inner_error(operation, resource, status, headers, body):
    """ApiError for one answer inside a batch, with Graph's code, message and request id as for any request."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ApiError(operation, resource, status, request_id=headers.get("request-id"))
    message = error.get("message")
    if isinstance(message, dict):
        message = message.get("value")
    inner = error.get("innerError") or error.get("innererror") or {}
    return ApiError(operation, resource, status, error.get("code"), message,
                    inner.get("request-id") or headers.get("request-id"), error.get("details") or None)


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


def grant_scopes(grant):
    """The scope names of a delegated permission grant (Graph keeps them space-separated)."""
    return (grant.get("scope") or "").split()


def granted_permissions(consent):
    """read_consent()'s answer by name, in resolve_permissions()' shape: {api app id: {kind: {names}}}."""
    return dict((app_id, {"application": set(entry["application"]),
                          "delegated": set(scope for grant in entry["grants"] for scope in grant_scopes(grant))})
                for app_id, entry in consent.items())


def required_resource_access(resolved):
    """Graph's requiredResourceAccess for resolve_permissions()' result."""
    body = []
    for app_id in sorted(resolved):
        access = []
        for kind, access_type in PERMISSION_KINDS:
            ids_by_name = resolved[app_id][kind]
            access.extend({"id": ids_by_name[name], "type": access_type} for name in sorted(ids_by_name))
        if access:
            body.append({"resourceAppId": app_id, "resourceAccess": access})
    return body


class GraphModule(AnsibleModule):
    """AnsibleModule with the Graph connection options, check mode, the dependency check, and a
    run() that reports ApiError/GraphError as a clean failure."""

    def __init__(self, argument_spec, **kwargs):
        spec = copy.deepcopy(GRAPH_CONNECTION_SPEC)
        spec.update(argument_spec)
        kwargs.setdefault("supports_check_mode", True)
        super(GraphModule, self).__init__(argument_spec=spec, **kwargs)
        for library, error in (("requests", REQUESTS_IMPORT_ERROR), ("msal", MSAL_IMPORT_ERROR)):
            if error:
                self.fail_json(msg=missing_required_lib(library), exception=error)
        self._graph = None
        self._connection = None

    @property
    def connection(self):
        """The GraphConnection of the module's options, checked (before any request) on first use."""
        if self._connection is None:
            self._connection = GraphConnection(connection_options(self.params))
        return self._connection

    def check_connection(self):
        """Options that cannot make a connection fail before any request."""
        return self.connection

    @property
    def graph(self):
        """The GraphClient, authenticated on first use (a module that needs no Graph call never logs in)."""
        if self._graph is None:
            self._graph = self.connection.client()
        return self._graph

    def run(self, action):
        """exit_json(**action(self)); a failed call or a user error becomes fail_json, without traceback."""
        try:
            self.check_connection()
            result = action(self)
        except (ApiError, GraphError) as err:
            self.fail_json(msg=str(err), **err.to_result())
        self.exit_json(**result)
