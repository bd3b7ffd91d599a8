# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Microsoft Graph for the collection: connection options, MSAL authentication, and the
Graph resources the modules share (applications, service principals, permission names,
admin consent objects).

Private to this collection: no compatibility promise outside it.

Modules never talk HTTP themselves: they call GraphClient methods. Errors are ApiError
(an HTTP call failed, from _http) or GraphError (anything else worth telling the user, such
as an ambiguous name); GraphModule.run() turns both into fail_json without a traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import difflib
import hashlib
import re
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import (
    REQUESTS_IMPORT_ERROR,
    ApiError,
    HttpClient,
    backoff,
    ca_path_problem,
    parse_error_body,
    requests,
    retry_after,
)

try:
    import msal
    import msal.exceptions
except ImportError:  # reported by GraphModule through missing_required_lib
    msal = None
    MSAL_IMPORT_ERROR = traceback.format_exc()
else:
    MSAL_IMPORT_ERROR = None

# Login host and Graph root per national cloud; one `cloud` option picks both, so a token is
# never requested from one cloud and used against another.
CLOUDS = {
    "public": ("https://login.microsoftonline.com", "https://graph.microsoft.com"),
    "usgov": ("https://login.microsoftonline.us", "https://graph.microsoft.us"),
    "usgovdod": ("https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    "china": ("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
}

GRAPH_CONNECTION_SPEC = dict(
    tenant_id=dict(type="str", fallback=(env_fallback, ["AZURE_TENANT_ID"])),
    client_id=dict(type="str", fallback=(env_fallback, ["AZURE_CLIENT_ID"])),
    client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["AZURE_CLIENT_SECRET"])),
    client_certificate_path=dict(type="path", fallback=(env_fallback, ["AZURE_CLIENT_CERTIFICATE_PATH"])),
    access_token=dict(type="str", no_log=True),
    cloud=dict(type="str", default="public", choices=sorted(CLOUDS)),
    authority_host=dict(type="str", fallback=(env_fallback, ["AZURE_AUTHORITY_HOST"])),
    graph_url=dict(type="str"),
    ca_path=dict(type="path"),
    validate_certs=dict(type="bool", default=True),
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
                      "passwordCredentials")
SERVICE_PRINCIPAL_FIELDS = "id,appId,displayName,appRoles,oauth2PermissionScopes"

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.S)

# Graph's largest page for directory lists: fewer round trips in a large tenant.
LARGEST_PAGE = 999
# Concurrent group member reads: enough to hide Graph's round trips, few enough to stay clear of its throttling.
MEMBER_READERS = 4

# A token request changes nothing, so a transient answer of the sign-in host is asked again: bounded in
# attempts and in total wait (seconds), like _http's retries.
TOKEN_MAX_RETRIES = 4
TOKEN_MAX_RETRY_WAIT = 60.0

# Waits (seconds) before re-reading an object that a previous task just created but that Graph
# does not show yet (eventual consistency); 15 s in total.
VISIBILITY_WAITS = (1, 2, 4, 8)


class GraphError(Exception):
    """A problem for the user that is not a failed HTTP call (ambiguous name, unknown permission...)."""

    def __init__(self, message, **result):
        super(GraphError, self).__init__(message)
        self.result = result

    def to_result(self):
        return dict(self.result)


class TokenError(ApiError):
    """Entra ID issued no token: its HTTP status, error code and description, or why it could not be asked."""

    def __init__(self, client_id, tenant_id, status=None, code=None, message=None, request_id=None, error_codes=None,
                 transient=False, retry_after=None, attempts=1):
        self.error_codes = list(error_codes or [])
        # Throttled (429), a server failure (5xx) or no answer at all: asking again later may work.
        self.transient = transient
        self.retry_after = retry_after  # the seconds Entra asked to wait (Retry-After), if it said
        self.attempts = attempts
        super(TokenError, self).__init__("acquire a Microsoft Graph token",
                                         "for client_id %s in tenant %s" % (client_id, tenant_id), status=status,
                                         code=code, message=message, request_id=request_id)

    def _describe(self):
        text = super(TokenError, self)._describe()
        if self.attempts > 1:
            text += " (gave up after %d attempts)" % self.attempts
        return text


def odata_literal(value):
    """An OData string literal: quoted, with embedded single quotes doubled."""
    return "'%s'" % value.replace("'", "''")


def endpoints(cloud="public", authority_host=None, graph_url=None):
    """(authority host, Graph root) for a cloud, each overridable (private endpoints, the sandbox)."""
    default_authority, default_graph = CLOUDS[cloud or "public"]
    return (authority_host or default_authority).rstrip("/"), (graph_url or default_graph).rstrip("/")


def sign_in_host_unknown(cloud="public", authority_host=None, graph_url=None):
    """Whether a token for graph_url has no sign-in host to ask: graph_url is not Microsoft Graph while cloud is
    left at public and authority_host is not set, so the public host would be asked for a token of a Graph it
    does not serve (a private endpoint, a test double)."""
    if authority_host or not graph_url or (cloud or "public") != "public":
        return False
    return graph_url.rstrip("/") != CLOUDS["public"][1]


def refuse_unknown_sign_in_host(cloud="public", authority_host=None, graph_url=None):
    """Fail before any request rather than ask the public sign-in host for a token of another Graph."""
    if sign_in_host_unknown(cloud, authority_host, graph_url):
        raise GraphError("graph_url %s is not Microsoft Graph and authority_host is not set, so the sign-in host "
                         "that issues tokens for it is unknown: set authority_host (or AZURE_AUTHORITY_HOST), or "
                         "cloud for a national cloud" % graph_url)


def tls_verify(ca_path=None, validate_certs=True):
    """The value for requests' `verify`: a CA bundle, or whether to verify at all."""
    if not validate_certs:
        return False
    return ca_path or True


class LoginHttp(object):
    """The HTTP client msal signs in through (its http_client interface: get, post, close).

    msal's own `verify=` is a session setting that REQUESTS_CA_BUNDLE silently overrides (requests
    issue 3829), so the session ignores the environment; msal drops its `timeout=` once it is given a
    client, so the timeout is applied here. The last answer is kept because msal tells a 5xx only as
    "HTTP Error: 503" and a 429 only by its body: the status and Retry-After are read from it.
    """

    def __init__(self, verify, timeout):
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = verify
        self.timeout = timeout
        self.last_response = None

    def get(self, url, **kwargs):
        return self._send("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self._send("POST", url, **kwargs)

    def close(self):
        self.session.close()

    def _send(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        self.last_response = None  # stays None when no answer comes
        self.last_response = self.session.request(method, url, **kwargs)
        return self.last_response


def load_certificate_credential(path):
    """msal's client_credential for a PEM file holding the private key and its certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except (IOError, OSError) as exc:
        raise GraphError("client_certificate_path %s cannot be read: %s" % (path, exc.strerror or exc))
    blocks = dict((match.group(1), match.group(0)) for match in PEM_BLOCK.finditer(text))
    key_pem = next((pem for kind, pem in blocks.items() if kind.endswith("PRIVATE KEY")), None)
    cert_pem = blocks.get("CERTIFICATE")
    if key_pem is None or cert_pem is None:
        raise GraphError("client_certificate_path %s must be a PEM file holding both the private key and the "
                         "certificate (found: %s)" % (path, ", ".join(sorted(blocks)) or "no PEM blocks"))
    try:
        serialization.load_pem_private_key(key_pem.encode("ascii"), password=None)
        certificate = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
    except (TypeError, ValueError) as exc:
        raise GraphError("client_certificate_path %s: the key or certificate cannot be loaded (an encrypted "
                         "private key is not supported): %s" % (path, exc))
    thumbprint = hashlib.sha1(certificate.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return {"private_key": key_pem, "thumbprint": thumbprint}


def acquire_token(tenant_id, client_id, client_secret=None, client_certificate_path=None, cloud="public",
                  authority_host=None, graph_url=None, ca_path=None, validate_certs=True, timeout=30,
                  max_retries=TOKEN_MAX_RETRIES, sleep=None):
    """An app-only Graph access token for one credential set (client secret or certificate PEM).

    Transient answers (429 after its Retry-After, 5xx, no answer) are asked again, at most
    `max_retries` times. Raises TokenError quoting Entra's status, error code, description and
    correlation id; never the secret.
    """
    refuse_unknown_sign_in_host(cloud, authority_host, graph_url)
    authority_host, graph_url = endpoints(cloud, authority_host, graph_url)
    if client_certificate_path:
        credential = load_certificate_credential(client_certificate_path)
    else:
        credential = client_secret

    def sign_in(http):
        app = msal.ConfidentialClientApplication(
            client_id, client_credential=credential, authority="%s/%s" % (authority_host, tenant_id),
            instance_discovery=False, http_client=http)
        return app.acquire_token_for_client(scopes=["%s/.default" % graph_url])

    return _signed_in(sign_in, client_id, tenant_id, tls_verify(ca_path, validate_certs), timeout, max_retries,
                      sleep, secret=client_secret)


# What an administrator's delegated token needs for every module of the collection. Named, not
# "/.default": a public client such as Microsoft Graph Command Line Tools has no configured
# permissions, so ".default" would carry only what was consented before (nothing, at first).
DEVICE_CODE_SCOPES = ("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All",
                      "DelegatedPermissionGrant.ReadWrite.All", "Directory.Read.All", "Policy.Read.All")


def acquire_token_by_device_code(tenant_id, client_id, show, cloud="public", authority_host=None, graph_url=None,
                                 ca_path=None, validate_certs=True, timeout=30, scopes=None):
    """A delegated Graph token for a person who signs in on any device with a one-time code.

    `client_id` is a public client application that allows the device code flow; `show(message)`
    tells the person where to go and which code to enter (and, the first time, to consent to
    `scopes`). Blocks until they finish or the code expires. Not repeated on a transient failure:
    the person would be asked for a new code.
    """
    refuse_unknown_sign_in_host(cloud, authority_host, graph_url)
    authority_host, graph_url = endpoints(cloud, authority_host, graph_url)
    requested = ["%s/%s" % (graph_url, name) for name in (scopes or DEVICE_CODE_SCOPES)]

    def sign_in(http):
        app = msal.PublicClientApplication(client_id, authority="%s/%s" % (authority_host, tenant_id),
                                           instance_discovery=False, http_client=http)
        flow = app.initiate_device_flow(scopes=requested)
        if "user_code" not in flow:
            return flow  # Entra's refusal
        show(flow["message"])
        return app.acquire_token_by_device_flow(flow)

    return _signed_in(sign_in, client_id, tenant_id, tls_verify(ca_path, validate_certs), timeout, 0, None)


def _signed_in(sign_in, client_id, tenant_id, verify, timeout, max_retries, sleep, secret=None):
    """The access token of sign_in(http) -> msal's result, asked again while the answer is transient."""
    sleep = sleep or time.sleep
    waited = 0.0
    attempt = 0
    while True:
        attempt += 1
        # A new msal application (and client) per attempt: msal's throttle cache lives in the application
        # and would replay a 429 or 5xx, without asking, for its Retry-After (5 s when absent).
        http = LoginHttp(verify, timeout)
        try:
            result = sign_in(http)
        except (msal.exceptions.MsalError, ValueError, requests.exceptions.RequestException) as exc:
            # msal raises for a 5xx (MsalServiceError), an unusable authority or a body that is not JSON
            # (ValueError), and lets transport errors through.
            failure = _token_failure(client_id, tenant_id, http.last_response, attempt, secret, exc=exc)
        else:
            if "access_token" in result:
                return result["access_token"]
            failure = _token_failure(client_id, tenant_id, http.last_response, attempt, secret, result=result)
        if not failure.transient or attempt > max_retries:
            raise failure
        delay = backoff(attempt) if failure.retry_after is None else failure.retry_after
        if waited + delay > TOKEN_MAX_RETRY_WAIT:
            raise failure
        sleep(delay)
        waited += delay


def _token_failure(client_id, tenant_id, response, attempt, secret, exc=None, result=None):
    """The TokenError for one failed sign-in: msal's error `result`, or the exception it raised.

    `response` is the sign-in host's last answer (None when none came): its status tells a transient
    failure from a refusal, whatever msal made of it.
    """
    status = response.status_code if response is not None and response.status_code >= 400 else None
    if result is None and status is not None:
        result = _json_object(response)
    result = result or {}
    code, message, request_id = result.get("error"), result.get("error_description"), result.get("correlation_id")
    if status is not None:  # a body that is not Entra's JSON (a gateway's page) still says something
        body_code, body_message, header_request_id = parse_error_body(response)[:3]
        code, message = code or body_code, message or body_message
        request_id = request_id or header_request_id or response.headers.get("x-ms-request-id")
    if not message and exc is not None:
        message = "%s: %s" % (type(exc).__name__, exc)
    # No answer (refused connection, timeout) may come next time, and so may an end to throttling or to
    # a server failure; a TLS failure will not.
    no_answer = (isinstance(exc, requests.exceptions.RequestException)
                 and not isinstance(exc, requests.exceptions.SSLError))
    transient = no_answer or status == 429 or (status or 0) >= 500
    return TokenError(client_id, tenant_id, status=status, code=code, message=_without(message, secret),
                      request_id=request_id, error_codes=result.get("error_codes"), transient=transient,
                      retry_after=retry_after(response) if status is not None else None, attempts=attempt)


def _json_object(response):
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _without(text, secret):
    # Entra does not echo secrets, but an error text must never be the way one leaks.
    if text and secret:
        return text.replace(secret, "********")
    return text


def connection_params(params):
    """The Graph connection options out of a module's params."""
    return dict((name, params.get(name)) for name in GRAPH_CONNECTION_SPEC)


def check_connection(params, credentials=True):
    """Fail clearly, before any request, when the options cannot make a Graph connection.

    credentials=False: a person signs in (device code), so no credential option is needed.
    """
    problem = ca_path_problem(params.get("ca_path"), params.get("validate_certs", True))
    if problem:
        raise GraphError(problem)
    if params.get("access_token"):
        return
    if credentials:
        missing = [name for name in ("tenant_id", "client_id") if not params.get(name)]
        if not (params.get("client_secret") or params.get("client_certificate_path")):
            missing.append("client_secret or client_certificate_path")
        if missing:
            raise GraphError("Graph connection: missing %s. Set access_token, or tenant_id and client_id with "
                             "client_secret or client_certificate_path (environment: AZURE_TENANT_ID, "
                             "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH)."
                             % ", ".join(missing))
        if params.get("client_secret") and params.get("client_certificate_path"):
            raise GraphError("Graph connection: client_secret and client_certificate_path are mutually exclusive "
                             "(either may come from AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH).")
    authority_host = endpoints(params.get("cloud"), params.get("authority_host"))[0]
    if not authority_host.startswith("https://"):
        raise GraphError("authority_host must be an https:// URL, got %s" % authority_host)


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

    def __init__(self, access_token, graph_url, ca_path=None, validate_certs=True, sleep=None):
        self.graph_url = graph_url.rstrip("/")
        self._sleep = sleep or time.sleep
        self.http = HttpClient(self.graph_url + "/v1.0", headers={"Authorization": "Bearer " + access_token},
                               ca_path=ca_path, validate_certs=validate_certs, sleep=self._sleep)
        self._apis = {}

    @classmethod
    def connect(cls, tenant_id=None, client_id=None, client_secret=None, client_certificate_path=None,
                access_token=None, cloud="public", authority_host=None, graph_url=None, ca_path=None,
                validate_certs=True, sleep=None):
        """A client for one credential set, given as the connection option names: uses access_token
        as given, or acquires an app-only token (client secret or certificate)."""
        check_connection(dict(tenant_id=tenant_id, client_id=client_id, client_secret=client_secret,
                              client_certificate_path=client_certificate_path, access_token=access_token, cloud=cloud,
                              authority_host=authority_host, graph_url=graph_url, ca_path=ca_path,
                              validate_certs=validate_certs))
        authority_host, graph_url = endpoints(cloud, authority_host, graph_url)
        if not access_token:
            access_token = acquire_token(tenant_id, client_id, client_secret, client_certificate_path,
                                         authority_host=authority_host, graph_url=graph_url, ca_path=ca_path,
                                         validate_certs=validate_certs)
        return cls(access_token, graph_url, ca_path=ca_path, validate_certs=validate_certs, sleep=sleep)

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

    def describe_application(self, application):
        """An application's identity and the fields this collection manages, by option name."""
        web = application.get("web") or {}
        return {
            "app_id": application.get("appId"),
            "object_id": application.get("id"),
            "display_name": application.get("displayName"),
            "unique_name": application.get("uniqueName"),
            "sign_in_audience": application.get("signInAudience"),
            "redirect_uris": sorted(web.get("redirectUris") or []),
            "home_page_url": web.get("homePageUrl") or None,
            "api_permissions": self.permission_view(self.requested_permissions(application)),
        }

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
        return list(self.http.paged("/groups", "list groups of the tenant",
                                    params={"$select": select, "$top": LARGEST_PAGE}))

    def list_group_members(self, group_id):
        """The direct members of a group (id and @odata.type); None when the group no longer exists."""
        try:
            return list(self.http.paged("/groups/%s/members" % group_id, "list members of group", group_id,
                                        params={"$select": "id", "$top": LARGEST_PAGE}))
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def _first(self, path, operation, resource, odata_filter, select=None):
        params = {"$filter": odata_filter}
        if select:
            params["$select"] = select
        page = self.http.json("GET", path, operation, resource, params=params) or {}
        values = page.get("value") or []
        return values[0] if values else None


def with_members(new_client, groups, readers=MEMBER_READERS):
    """The groups, each with its `members`; a group deleted since it was listed is left out.

    One request per group (Graph has no bulk read of memberships), so `readers` run at once; each
    thread gets its own client from new_client(), as a requests session is not meant to be shared.
    """
    local = threading.local()

    def members_of(group):
        if not hasattr(local, "graph"):
            local.graph = new_client()
        return local.graph.list_group_members(group["id"])

    with ThreadPoolExecutor(max_workers=readers) as pool:
        futures = [pool.submit(members_of, group) for group in groups]
        try:
            for group, future in zip(groups, futures):
                group["members"] = future.result()
        except BaseException:
            for future in futures:  # do not read the rest after a failure
                future.cancel()
            raise
    return [group for group in groups if group["members"] is not None]


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

    @property
    def graph(self):
        """The GraphClient, authenticated on first use (a module that needs no Graph call never logs in)."""
        if self._graph is None:
            self._graph = GraphClient.connect(**connection_params(self.params))
        return self._graph

    def run(self, action):
        """exit_json(**action(self)); a failed call or a user error becomes fail_json, without traceback."""
        try:
            result = action(self)
        except (ApiError, GraphError) as err:
            self.fail_json(msg=str(err), **err.to_result())
        self.exit_json(**result)
