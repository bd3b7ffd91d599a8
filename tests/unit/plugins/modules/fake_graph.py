"""A small in-memory Microsoft Graph behind a requests adapter, for tests that run a module's main().

It keeps state between runs (so a second run can prove "no change") and records every request
(so a test can prove check mode wrote nothing). It answers only what the collection calls, with
Graph's shapes and status codes: app registrations with their client secrets and consent objects
(read and written), a read-only directory (organization, domains, users, groups and their
members), and JSON batching ($batch) of any of these. Anything else is an AssertionError, not a silent 404. `client_of` gives a GraphClient
over it, for tests of module_utils code that takes the client rather than a module run. fake_sign_in.py
is the Entra sign-in host in front of it; tests/sandbox/fake_http.py serves both over real HTTP.
"""

import copy
import itertools
import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote, urlsplit

from requests.adapters import BaseAdapter

from sandbox import batch, catalog
from sandbox.odata import GraphError

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph import GraphClient

from ..module_utils.fake_transport import JSON_HEADERS, Faults, make_response

GRAPH_APP_ID = catalog.GRAPH_APP_ID
AAD_GRAPH_APP_ID = catalog.AAD_GRAPH_APP_ID
TENANT_ID = "8d2b4e8a-61f1-4c3e-9a4e-0f8f3d6b2c10"
USER_TYPE = "#microsoft.graph.user"
GROUP_TYPE = "#microsoft.graph.group"

# Permission name -> id, from the one catalogue of real Microsoft ids the sandbox seeds its tenants with.
GRAPH_ROLES = dict((entry[0], entry[1]) for entry in catalog.GRAPH_APP_ROLES)
GRAPH_SCOPES = dict((entry[0], entry[1]) for entry in catalog.GRAPH_SCOPES)


def resource_principal(object_id, app_id, name, roles, scopes):
    """A resource API's service principal with the catalogue's appRoles and oauth2PermissionScopes."""
    return {
        "id": object_id,
        "appId": app_id,
        "displayName": name,
        "appRoles": catalog.app_roles(roles),
        "oauth2PermissionScopes": catalog.permission_scopes(scopes),
    }


def client_of(fake, token="unit-test-token"):
    """A GraphClient whose every request `fake` answers; its retries do not sleep."""
    client = GraphClient(token, FakeGraph.BASE[: -len("/v1.0")], sleep=lambda seconds: None)
    client.http.session.mount("https://", fake)
    return client


def parse_datetime(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def error(status, code, message):
    return status, {"error": {"code": code, "message": message, "innerError": {"request-id": "req-%d" % status}}}


class FakeGraph(BaseAdapter):
    BASE = "https://graph.test/v1.0"

    def __init__(self, page_size=100, base=BASE):
        super().__init__()
        self.base = base  # where it is reached: BASE, or the address of an HTTP server in front of it
        self.page_size = page_size
        self.tenant_id = TENANT_ID
        self.applications = {}
        self.service_principals = {}
        self.assignments = {}
        self.grants = {}
        # The read-only directory: Graph users, Graph groups each with "members" (object ids), domains.
        self.users = []
        self.groups = []
        self.tenant_domains = []
        # The longest client secret lifetime addPassword accepts, in days (the tenant default app management
        # policy, readable at /policies/defaultAppManagementPolicy); None: any.
        self.password_max_days = None
        # keyId -> the text of every client secret addPassword made (Graph never shows it again; a sign-in checks it).
        self.secret_texts = {}
        # The access tokens the sign-in host (fake_sign_in.py) issued -> the appId of the application signed in. Such a
        # token reads only with admin consent: Graph refuses it (403) while the application's service principal
        # holds no app role assignment. Any other token is let through (the gate below may say otherwise).
        self.tokens = {}
        # Optional: a function (method, path, headers) that returns an answer (status, body) to give instead of
        # Graph's own (a token that may not read the directory), or None; asked of every request, batched or not.
        self.gate = None
        self.calls = []
        self.faults = Faults()
        self._ids = ("%08d-0000-4000-8000-%012d" % (n, n) for n in itertools.count(1))
        self.graph_sp = self.add_service_principal(
            resource_principal("sp-graph", GRAPH_APP_ID, "Microsoft Graph", catalog.GRAPH_APP_ROLES, catalog.GRAPH_SCOPES)
        )
        self.aad_sp = self.add_service_principal(
            resource_principal("sp-aad", AAD_GRAPH_APP_ID, "Windows Azure Active Directory", catalog.AAD_GRAPH_APP_ROLES, catalog.AAD_GRAPH_SCOPES)
        )

    # Seeding and inspection

    def new_id(self):
        return next(self._ids)

    def add_application(self, display_name, **fields):
        app = {
            "id": self.new_id(),
            "appId": self.new_id(),
            "displayName": display_name,
            "uniqueName": None,
            "signInAudience": "AzureADMyOrg",
            "web": {"redirectUris": [], "homePageUrl": None},
            "requiredResourceAccess": [],
            "passwordCredentials": [],
        }
        app.update(fields)
        self.applications[app["id"]] = app
        return app

    def add_service_principal(self, principal):
        self.service_principals[principal["id"]] = principal
        return principal

    def client_principal(self, app):
        return self.add_service_principal(
            {"id": self.new_id(), "appId": app["appId"], "displayName": app["displayName"], "appRoles": [], "oauth2PermissionScopes": []}
        )

    def assign(self, principal, role_name):
        assignment = {"id": self.new_id(), "principalId": principal["id"], "resourceId": "sp-graph", "appRoleId": GRAPH_ROLES[role_name]}
        self.assignments[assignment["id"]] = assignment
        return assignment

    def grant(self, principal, scopes, consent_type="AllPrincipals"):
        grant = {"id": self.new_id(), "clientId": principal["id"], "resourceId": "sp-graph", "consentType": consent_type, "scope": " ".join(scopes)}
        self.grants[grant["id"]] = grant
        return grant

    def add_secret(self, app, value, description="", days=730):
        """Give the application a current client secret whose text is `value` (as if addPassword had made it)."""
        start = datetime.now(timezone.utc).replace(microsecond=0)
        key_id = self.new_id()
        app["passwordCredentials"].append(
            {
                "keyId": key_id,
                "displayName": description,
                "hint": value[:3],
                "secretText": None,
                "customKeyIdentifier": None,
                "startDateTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "endDateTime": (start + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
        self.secret_texts[key_id] = value
        return key_id

    def principal_of(self, app_id):
        return next((sp for sp in self.service_principals.values() if sp["appId"] == app_id), None)

    def consent(self, app, granted=True):
        """Admin consent for the application to read the directory (Directory.Read.All), or (granted=False) none."""
        principal = self.principal_of(app["appId"]) or self.client_principal(app)
        for assignment_id in [key for key, value in self.assignments.items() if value["principalId"] == principal["id"]]:
            del self.assignments[assignment_id]
        if granted:
            self.assign(principal, "Directory.Read.All")

    def consented(self, app_id):
        principal = self.principal_of(app_id)
        return principal is not None and any(a["principalId"] == principal["id"] for a in self.assignments.values())

    def issue_token(self, app_id):
        """A new access token for the application (the sign-in host's part)."""
        token = "token-%d-of-%s" % (len(self.tokens) + 1, app_id)
        self.tokens[token] = app_id
        return token

    def answer(self, method, path_pattern, status, body, times=1, headers=None):
        """Answer the next `times` matching requests with this (and these response headers) instead of the real state."""
        self.faults.add(method, path_pattern, times, (status, body, headers or {}))

    def fail(self, method, path_pattern, status, code, message, times=1, headers=None):
        """Answer the next `times` matching requests with a Graph error (eventual consistency, throttling:
        headers={"Retry-After": "7"})."""
        self.answer(method, path_pattern, *error(status, code, message), times=times, headers=headers)

    @property
    def writes(self):
        return [call for call in self.calls if call["method"] != "GET"]

    def granted_roles(self, principal_id):
        names = dict((role_id, name) for name, role_id in GRAPH_ROLES.items())
        return sorted(names[a["appRoleId"]] for a in self.assignments.values() if a["principalId"] == principal_id)

    # The transport

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        path = unquote(url.path)[len(urlsplit(self.base).path) :]
        query = dict((key, values[0]) for key, values in parse_qs(url.query).items())
        if request.method == "POST" and path == "/$batch":
            self.calls.append({"method": "POST", "path": path, "query": query, "body": json.loads(request.body), "headers": dict(request.headers)})
            status, payload = self._batch(request)
            return make_response(request, status, payload, JSON_HEADERS)
        body = json.loads(request.body) if request.body else None
        status, payload, headers = self._answer(request.method, path, query, body, dict(request.headers))
        return make_response(request, status, payload, dict(JSON_HEADERS, **headers))

    def close(self):
        pass

    def reply(self, path):
        """Graph's answer (status, body) to GET `path` (below /v1.0, no query), for a test that scripts a whole
        conversation in turn and takes Graph's part of it from here."""
        return self._route("GET", path, {}, None, {})

    def _answer(self, method, path, query, body, headers, batched=False):
        """One request, recorded and answered (status, body, response headers): a scripted fault, else the gate's
        answer, else Graph's own from the state."""
        call = {"method": method, "path": path, "query": query, "body": body, "headers": headers}
        self.calls.append(dict(call, batch=True) if batched else call)
        fault = self.faults.take(method, path)
        if fault:
            return fault
        answer = self._refusal(headers) or (self.gate and self.gate(method, path, headers))
        return tuple(answer or self._route(method, path, query, body, headers)) + ({},)

    def _batch(self, request):
        """POST /$batch as Graph does it (sandbox/batch.py checks the batch: 1 to 20 requests, ids, dependsOn):
        each inner request, with the batch's Authorization, recorded and answered as if it came alone."""
        try:
            items = batch.parse(request.body)
        except GraphError as malformed:
            return error(malformed.status, malformed.code, malformed.message)
        outer = dict((name, value) for name, value in request.headers.items() if name == "Authorization")
        responses = []
        for item in items:
            url = urlsplit(item["url"])
            path = "/" + unquote(url.path).lstrip("/")
            query = dict((key, values[0]) for key, values in parse_qs(url.query).items())
            headers = dict(outer, **(item.get("headers") or {}))
            status, body, extra = self._answer(item["method"].upper(), path, query, item.get("body"), headers, batched=True)
            responses.append({"id": item["id"], "status": status, "headers": dict({"Content-Type": "application/json"}, **extra), "body": body})
        return 200, {"responses": responses}

    def _refusal(self, headers):
        """Graph's 403 to a token of an application without admin consent, else None."""
        app_id = self.tokens.get(headers.get("Authorization", "")[len("Bearer ") :])
        if app_id is not None and not self.consented(app_id):
            return error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        return None

    def _route(self, method, path, query, body, headers):
        for pattern, handlers in self.ROUTES:
            match = re.match(pattern + "$", path)
            if match and method in handlers:
                return getattr(self, handlers[method])(*match.groups(), query=query, body=body, headers=headers)
        raise AssertionError("FakeGraph does not answer %s %s" % (method, path))

    ROUTES = [
        (r"/applications", {"GET": "list_applications", "POST": "create_application"}),
        (r"/applications\(uniqueName='(.*)'\)", {"GET": "get_by_unique_name", "PATCH": "upsert_application"}),
        (r"/applications/([^/]+)", {"PATCH": "update_application", "DELETE": "delete_application"}),
        (r"/applications/([^/]+)/addPassword", {"POST": "add_password"}),
        (r"/applications/([^/]+)/removePassword", {"POST": "remove_password"}),
        (r"/servicePrincipals", {"GET": "list_service_principals", "POST": "create_service_principal"}),
        (r"/servicePrincipals/([^/]+)", {"GET": "get_service_principal", "DELETE": "delete_service_principal"}),
        (r"/servicePrincipals/([^/]+)/appRoleAssignments", {"GET": "list_assignments", "POST": "create_assignment"}),
        (r"/servicePrincipals/([^/]+)/appRoleAssignments/([^/]+)", {"DELETE": "delete_assignment"}),
        (r"/oauth2PermissionGrants", {"GET": "list_grants", "POST": "create_grant"}),
        (r"/oauth2PermissionGrants/([^/]+)", {"PATCH": "update_grant", "DELETE": "delete_grant"}),
        (r"/policies/defaultAppManagementPolicy", {"GET": "get_app_management_policy"}),
        (r"/organization", {"GET": "get_organization"}),
        (r"/domains", {"GET": "list_domains"}),
        (r"/users", {"GET": "list_users"}),
        (r"/groups", {"GET": "list_groups"}),
        (r"/groups/([^/]+)/members", {"GET": "list_members"}),
    ]

    def _page(self, items, query, path):
        start = int(query.get("$skiptoken", 0))
        size = min(int(query.get("$top", self.page_size)), self.page_size)
        page = {"value": copy.deepcopy(items[start : start + size])}
        if query.get("$select"):  # the selected properties only (and the @odata annotations, such as a member's type)
            wanted = set(query["$select"].split(","))
            page["value"] = [dict((k, v) for k, v in item.items() if k in wanted or k.startswith("@odata.")) for item in page["value"]]
        if start + size < len(items):
            kept = "".join("%s=%s&" % (name, query[name]) for name in ("$select", "$top") if name in query)
            page["@odata.nextLink"] = "%s%s?%s$skiptoken=%d" % (self.base, path, kept, start + size)
        return 200, page

    @staticmethod
    def _matches(item, odata_filter):
        if not odata_filter:
            return True
        match = re.match(r"^(\w+) eq '((?:[^']|'')*)'$", odata_filter)
        assert match, "FakeGraph cannot evaluate $filter=%s" % odata_filter
        return item.get(match.group(1)) == match.group(2).replace("''", "'")

    def list_applications(self, query, **_):
        found = [app for app in self.applications.values() if self._matches(app, query.get("$filter"))]
        return self._page(found, query, "/applications")

    def _by_unique_name(self, unique_name):
        name = unique_name.replace("''", "'")
        return next((app for app in self.applications.values() if app.get("uniqueName") == name), None)

    def get_by_unique_name(self, unique_name, **_):
        app = self._by_unique_name(unique_name)
        return (200, copy.deepcopy(app)) if app else error(404, "Request_ResourceNotFound", "not found")

    def create_application(self, body, **_):
        app = self.add_application(body["displayName"], **dict((k, v) for k, v in body.items() if k != "displayName"))
        return 201, copy.deepcopy(app)

    def upsert_application(self, unique_name, body, headers, **_):
        app = self._by_unique_name(unique_name)
        if app is None:
            if headers.get("Prefer") != "create-if-missing":
                return error(404, "Request_ResourceNotFound", "not found")
            app = self.add_application(body["displayName"], uniqueName=unique_name.replace("''", "'"))
            app.update(dict((k, v) for k, v in body.items() if k != "displayName"))
            return 201, copy.deepcopy(app)
        app.update(body)
        return 204, None

    def update_application(self, object_id, body, **_):
        if object_id not in self.applications:
            return error(404, "Request_ResourceNotFound", "not found")
        self.applications[object_id].update(body)
        return 204, None

    def delete_application(self, object_id, **_):
        self.applications.pop(object_id)
        return 204, None

    def add_password(self, object_id, body, **_):
        if object_id not in self.applications:
            return error(404, "Request_ResourceNotFound", "not found")
        wanted = body["passwordCredential"]
        lifetime = parse_datetime(wanted["endDateTime"]) - parse_datetime(wanted["startDateTime"])
        if self.password_max_days is not None and lifetime > timedelta(days=self.password_max_days):
            return error(400, "CredentialInvalidLifetimeAsPerAppPolicy", "Credential lifetime exceeds the max value allowed as per assigned policy 'p1'.")
        value = "s3cr3t-value-%d" % len(self.calls)
        credential = dict(wanted, keyId=self.new_id(), hint=value[:3], customKeyIdentifier=None)
        self.applications[object_id]["passwordCredentials"].append(dict(credential, secretText=None))
        self.secret_texts[credential["keyId"]] = value
        return 200, dict(credential, secretText=value)

    def remove_password(self, object_id, body, **_):
        app = self.applications[object_id]
        app["passwordCredentials"] = [c for c in app["passwordCredentials"] if c["keyId"] != body["keyId"]]
        return 204, None

    def get_app_management_policy(self, **_):
        policy = {"id": "00000000-0000-0000-0000-000000000000", "isEnabled": self.password_max_days is not None}
        if self.password_max_days is not None:
            lifetime = {
                "restrictionType": "passwordLifetime",
                "maxLifetime": "P%dD" % self.password_max_days,
                "restrictForAppsCreatedAfterDateTime": "2015-01-01T00:00:00Z",
            }
            policy["applicationRestrictions"] = {"passwordCredentials": [lifetime]}
        return 200, policy

    def list_service_principals(self, query, **_):
        found = [sp for sp in self.service_principals.values() if self._matches(sp, query.get("$filter"))]
        return self._page(found, query, "/servicePrincipals")

    def get_service_principal(self, object_id, **_):
        if object_id not in self.service_principals:
            return error(404, "Request_ResourceNotFound", "not found")
        return 200, copy.deepcopy(self.service_principals[object_id])

    def create_service_principal(self, body, **_):
        app = next((a for a in self.applications.values() if a["appId"] == body["appId"]), None)
        if app is None:
            return error(
                400,
                "Request_BadRequest",
                "The appId '%s' of the service principal does not reference a valid application object. NoBackingApplicationObject" % body["appId"],
            )
        if any(sp["appId"] == body["appId"] for sp in self.service_principals.values()):
            return error(409, "Request_MultipleObjectsWithSameKeyValue", "already in use")
        return 201, copy.deepcopy(self.client_principal(app))

    def delete_service_principal(self, object_id, **_):
        self.service_principals.pop(object_id)
        return 204, None

    def list_assignments(self, principal_id, query, **_):
        found = [a for a in self.assignments.values() if a["principalId"] == principal_id]
        return self._page(found, query, "/servicePrincipals/%s/appRoleAssignments" % principal_id)

    def create_assignment(self, principal_id, body, **_):
        assert body["principalId"] == principal_id
        if any(
            a["principalId"] == principal_id and a["appRoleId"] == body["appRoleId"] and a["resourceId"] == body["resourceId"]
            for a in self.assignments.values()
        ):
            return error(400, "Request_BadRequest", "Permission being assigned already exists on the object")
        assignment = dict(body, id=self.new_id())
        self.assignments[assignment["id"]] = assignment
        return 201, copy.deepcopy(assignment)

    def delete_assignment(self, principal_id, assignment_id, **_):
        assert self.assignments.pop(assignment_id)["principalId"] == principal_id
        return 204, None

    def list_grants(self, query, **_):
        found = [g for g in self.grants.values() if self._matches(g, query.get("$filter"))]
        return self._page(found, query, "/oauth2PermissionGrants")

    def create_grant(self, body, **_):
        if any(
            g["clientId"] == body["clientId"] and g["resourceId"] == body["resourceId"] and g["consentType"] == "AllPrincipals" for g in self.grants.values()
        ):
            return error(409, "Request_MultipleObjectsWithSameKeyValue", "A grant already exists")
        grant = dict(body, id=self.new_id())
        self.grants[grant["id"]] = grant
        return 201, copy.deepcopy(grant)

    def update_grant(self, grant_id, body, **_):
        self.grants[grant_id].update(body)
        return 204, None

    def delete_grant(self, grant_id, **_):
        self.grants.pop(grant_id)
        return 204, None

    # The read-only directory

    def get_organization(self, **_):
        verified = [{"name": domain["id"]} for domain in self.tenant_domains if domain["isVerified"]]
        return 200, {"value": [{"id": self.tenant_id, "verifiedDomains": verified}]}

    def list_domains(self, query, **_):
        return self._page(self.tenant_domains, query, "/domains")

    def list_users(self, query, **_):
        return self._page(self.users, query, "/users")

    def list_groups(self, query, **_):
        groups = [dict((k, v) for k, v in group.items() if k != "members") for group in self.groups]
        return self._page(groups, query, "/groups")

    def list_members(self, group_id, query, **_):
        group = next((g for g in self.groups if g["id"] == group_id), None)
        if group is None:
            return error(404, "Request_ResourceNotFound", "Resource '%s' does not exist." % group_id)
        group_ids = set(g["id"] for g in self.groups)
        members = [{"@odata.type": GROUP_TYPE if member in group_ids else USER_TYPE, "id": member} for member in group["members"]]
        return self._page(members, query, "/groups/%s/members" % group_id)
