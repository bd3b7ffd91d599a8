# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Microsoft Graph connection: options -> one validated GraphConnection -> a token and clients.

Private to this collection: no compatibility promise outside it.

The one place a Graph connection is put together, for every Graph module, the sync app's sign-in
of moduscloud_user_sync, the secret proof of azure_app_secret and the graph_token lookup:

- the options and their environment variables (ENVIRONMENT: the azure-identity names first, then
  those of azure.azcollection and AWX's Azure Resource Manager credential; an empty variable counts
  as unset);
- the endpoints (cloud, authority_host, graph_url);
- the transport (TLS trust, proxies, timeout; _transport.py);
- the sign-in method (auth; one _auth_<name>.py each), checked before any request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_access_token import AccessTokenAuth
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_azure_cli import AzureCliAuth
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_base import MSAL_IMPORT_ERROR, TokenError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_certificate import CertificateAuth
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_client_secret import ClientSecretAuth
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_device_code import DeviceCodeAuth
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_managed_identity import ManagedIdentityAuth
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_workload_identity import (
    WorkloadIdentityAuth,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import GraphError, options_error
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import REQUESTS_IMPORT_ERROR
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._transport import (
    DEFAULT_TIMEOUT,
    Transport,
    env_fallback,
    env_value,
)

__all__ = ["GraphConnection", "TokenError", "MSAL_IMPORT_ERROR", "REQUESTS_IMPORT_ERROR"]

# Login host and Graph root per national cloud; one `cloud` option picks both, so a token is
# never requested from one cloud and used against another.
CLOUDS = {
    "public": ("https://login.microsoftonline.com", "https://graph.microsoft.com"),
    "usgov": ("https://login.microsoftonline.us", "https://graph.microsoft.us"),
    "usgovdod": ("https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    "china": ("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
}

# The environment variables of each option, in order of precedence: azure-identity's names, then those of
# azure.azcollection and AWX's built-in "Microsoft Azure Resource Manager" credential.
ENVIRONMENT = {
    "auth": ("AZURE_SYNC_AUTH",),
    "tenant_id": ("AZURE_TENANT_ID", "AZURE_TENANT"),
    "client_id": ("AZURE_CLIENT_ID",),
    "client_secret": ("AZURE_CLIENT_SECRET", "AZURE_SECRET"),
    "client_certificate_path": ("AZURE_CLIENT_CERTIFICATE_PATH",),
    "federated_token_file": ("AZURE_FEDERATED_TOKEN_FILE",),
    "authority_host": ("AZURE_AUTHORITY_HOST",),
    "ca_path": ("AZURE_SYNC_CA_PATH",),
}

# auth=auto tries these in this order; the first the options and the environment make possible is used.
AUTO_ORDER = (AccessTokenAuth, ClientSecretAuth, CertificateAuth, WorkloadIdentityAuth, ManagedIdentityAuth, AzureCliAuth)
METHODS = dict((method.NAME, method) for method in AUTO_ORDER + (DeviceCodeAuth,))
# What a module offers (device_code needs a person at the controller's screen: the lookup only).
MODULE_AUTH_CHOICES = ["auto"] + [method.NAME for method in AUTO_ORDER]
LOOKUP_AUTH_CHOICES = MODULE_AUTH_CHOICES + [DeviceCodeAuth.NAME]


def _option(kind, env=None, **extra):
    spec = dict(type=kind, **extra)
    if env:
        spec["fallback"] = (env_fallback, list(env))
    return spec


GRAPH_CONNECTION_SPEC = dict(
    # No spec default or fallback for auth: GraphConnection fills it from AZURE_SYNC_AUTH, after telling an
    # explicit auth from one that only the environment names (a given access_token beats the latter).
    auth=_option("str", choices=MODULE_AUTH_CHOICES),
    tenant_id=_option("str", ENVIRONMENT["tenant_id"]),
    client_id=_option("str", ENVIRONMENT["client_id"]),
    client_secret=_option("str", ENVIRONMENT["client_secret"], no_log=True),
    client_certificate_path=_option("path", ENVIRONMENT["client_certificate_path"]),
    federated_token_file=_option("path", ENVIRONMENT["federated_token_file"]),
    access_token=_option("str", no_log=True),
    cloud=_option("str", default="public", choices=sorted(CLOUDS)),
    authority_host=_option("str", ENVIRONMENT["authority_host"]),
    graph_url=_option("str"),
    ca_path=_option("path", ENVIRONMENT["ca_path"]),
    validate_certs=_option("bool", default=True),
    proxy_url=_option("str", no_log=True),
    timeout=_option("int", default=DEFAULT_TIMEOUT),
)
# The options that say where and how to reach the services, whoever signs in.
TRANSPORT_OPTIONS = ("cloud", "authority_host", "graph_url", "ca_path", "validate_certs", "proxy_url", "timeout")


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


def with_environment(options):
    """The options, each unset (None or "") one taken from its environment variables (an empty one is unset)."""
    merged = dict(options)
    for name, names in ENVIRONMENT.items():
        value = merged.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            merged[name] = env_value(*names)
    return merged


class GraphConnection(object):
    """One Microsoft Graph connection: endpoints, transport and sign-in method, validated once.

    `options` are the connection options by name (a module's params, the lookup's options); unset ones
    fall back to the environment. Raises GraphError, naming the options, when they cannot make a connection.
    `show(message)` is how the device code sign-in talks to a person (the lookup only). environment=False:
    the options are complete as given (the credentials of another identity than the environment's).
    """

    def __init__(self, options, show=None, sleep=None, environment=True):
        self.options = with_environment(options) if environment else dict(options)
        self.show = show
        self.sleep = sleep or time.sleep
        self.auth_option = self.options.get("auth") or "auto"
        # A token handed over explicitly (the role's one sign-in per play) beats a method that only the
        # environment names (AZURE_SYNC_AUTH, set by the managed and workload identity credential types).
        if options.get("access_token") and not options.get("auth"):
            self.auth_option = AccessTokenAuth.NAME
        if self.auth_option == "auto" and self.options.get("device_code"):
            self.auth_option = DeviceCodeAuth.NAME
        cloud, authority_host, graph_url = (self.options.get(name) for name in ("cloud", "authority_host", "graph_url"))
        self.authority_host, self.graph_url = endpoints(cloud, authority_host, graph_url)
        if not self.graph_url.startswith("https://"):
            raise GraphError("graph_url must be an https:// URL (the token travels in a header), got %s" % self.graph_url, options=("graph_url",))
        self.transport = Transport(
            self.options.get("ca_path"),
            self.options.get("validate_certs", True),
            proxy_url=self.options.get("proxy_url"),
            timeout=self.options.get("timeout") or DEFAULT_TIMEOUT,
        )
        problems = self.transport.problems()
        if problems:
            raise options_error(problems, error=GraphError)
        self.method = self._choose_method()
        problems = self.method.problems()
        if problems:
            raise GraphError("Graph connection: " + "; ".join(problems), options=self.method.problem_options())
        if self.method.NAME not in (AccessTokenAuth.NAME, ManagedIdentityAuth.NAME, AzureCliAuth.NAME):
            self._check_sign_in_host(cloud, authority_host, graph_url)
        self._token = None

    def _check_sign_in_host(self, cloud, authority_host, graph_url):
        if sign_in_host_unknown(cloud, authority_host, graph_url):
            raise GraphError(
                "graph_url %s is not Microsoft Graph and authority_host is not set, so the sign-in host "
                "that issues tokens for it is unknown: set authority_host (or AZURE_AUTHORITY_HOST), or "
                "cloud for a national cloud" % graph_url,
                options=("graph_url", "authority_host"),
            )
        if not self.authority_host.startswith("https://"):
            raise GraphError("authority_host must be an https:// URL, got %s" % self.authority_host, options=("authority_host",))

    def _choose_method(self):
        name = self.auth_option
        if name != "auto":
            if name not in METHODS:
                raise GraphError("auth must be one of %s, got %r" % (", ".join(LOOKUP_AUTH_CHOICES), name), options=("auth",))
            return METHODS[name](self)
        tried = []
        for method in AUTO_ORDER:
            reason = method.available(self.options)
            if reason is None:
                return method(self)
            tried.append("%s: %s" % (method.NAME, reason))
        raise GraphError(
            "Graph connection: no sign-in method is possible with the options and environment given "
            "(auth=auto tried, in order: %s). Set access_token, or tenant_id and client_id with "
            "client_secret, client_certificate_path or federated_token_file (environment: "
            "AZURE_TENANT_ID or AZURE_TENANT, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET or AZURE_SECRET, "
            "AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE), or set auth." % "; ".join(tried)
        )

    @property
    def auth(self):
        """The name of the sign-in method in use."""
        return self.method.NAME

    def token(self):
        """The access token (signed in on first use, then kept for the life of the connection)."""
        if self._token is None:
            self._token = self.method.token()
        return self._token

    def client(self, sleep=None):
        """A new GraphClient with this connection's token and transport (one per thread: a requests session is
        not meant to be shared)."""
        from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph import GraphClient

        return GraphClient(self.token(), self.graph_url, transport=self.transport, sleep=sleep)


def signing_in_as(options, sleep=None, **credentials):
    """A connection to the endpoints and through the transport that `options` give (a module's params), signing
    in with `credentials` only (another identity than the module's: the sync app, a new secret's proof)."""
    merged = dict((name, options.get(name)) for name in TRANSPORT_OPTIONS)
    merged.update(credentials)
    for name in GRAPH_CONNECTION_SPEC:  # given as None, never taken from the environment
        merged.setdefault(name, None)
    return GraphConnection(merged, sleep=sleep, environment=False)


def connection_options(params):
    """The Graph connection options out of a module's params (or any dict of options)."""
    return dict((name, params.get(name)) for name in GRAPH_CONNECTION_SPEC)


def acquire_token(tenant_id, client_id, client_secret=None, client_certificate_path=None, max_retries=None, sleep=None, **connection):
    """An app-only token for one credential set: a GraphConnection with auth client_secret or certificate.

    `connection` holds the transport options (cloud, authority_host, graph_url, ca_path, validate_certs,
    proxy_url, timeout). `max_retries` overrides the repetition of transient answers (0: ask once).
    """
    auth = "certificate" if client_certificate_path and not client_secret else "client_secret"
    graph = signing_in_as(
        connection,
        sleep=sleep,
        auth=auth,
        tenant_id=tenant_id,
        client_id=client_id,
        client_secret=client_secret,
        client_certificate_path=client_certificate_path,
    )
    if max_retries is not None and auth == "client_secret":
        return graph.method.token(max_retries=max_retries, sleep=sleep)
    return graph.token()
