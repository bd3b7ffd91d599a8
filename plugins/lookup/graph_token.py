# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: graph_token
short_description: Acquire one Microsoft Graph access token for a play
description:
  - Signs in to Entra ID (Azure AD) on the controller and returns a Microsoft Graph access token, to pass to
    the collection's Graph modules as O(moduscloud.azure_sync.azure_app_registration#module:access_token) so
    the play authenticates once instead of in every task.
  - Signs in as an application with a client secret or a certificate, or, with O(device_code=true), as an
    administrator who enters a one-time code at the sign-in page from any device (useful before any
    automation identity exists).
  - The token is a secret. Keep it out of output with C(no_log=true) and never print it. It is valid for about an hour.
  - A lookup runs each time its value is templated. Call it once, in a M(ansible.builtin.set_fact) task, and
    use the fact, or a device code sign-in would be asked for again at every use.
version_added: 1.0.0
author:
  - moduscloud.azure_sync maintainers (@moduscloud)
options:
  auth:
    description:
      - How to sign in. V(auto) uses the first method that the options and the environment make possible, in
        this order, and otherwise fails listing what it tried.
      - V(access_token) is not offered here (a lookup that returns the token it is given would be pointless).
      - V(client_secret) when O(client_secret) is set; V(certificate) when O(client_certificate_path) is set;
        V(workload_identity) when O(federated_token_file) is set; V(managed_identity) when E(IDENTITY_ENDPOINT) or
        E(MSI_ENDPOINT) is set (on an Azure virtual machine, set V(managed_identity) explicitly);
        V(azure_cli) when C(az) is on the controller's E(PATH).
      - V(device_code) (or O(device_code=true)) signs a person in with a one-time code; it is never chosen by V(auto).
      - If not set, the value of the E(AZURE_SYNC_AUTH) environment variable is used.
    type: str
    default: auto
    choices: [auto, client_secret, certificate, workload_identity, managed_identity, azure_cli, device_code]
  tenant_id:
    description:
      - The Entra ID tenant, as its id (GUID) or a verified domain. Needed by every method except V(managed_identity)
        and V(azure_cli) (which sign in to the identity's or the CLI's own tenant unless it is set).
      - If not set, the value of E(AZURE_TENANT_ID), else E(AZURE_TENANT), is used (an empty variable counts as unset).
    type: str
  client_id:
    description:
      - The application (client) id to sign in as; for V(managed_identity), a user-assigned identity's client id
        (leave it unset for the system-assigned identity); or with O(device_code=true) the public client application
        the administrator signs in through (it must allow public client flows and have the delegated Graph
        permissions the play needs consented, for example C(Application.ReadWrite.All),
        C(AppRoleAssignment.ReadWrite.All) and C(DelegatedPermissionGrant.ReadWrite.All)).
      - If not set, the value of the E(AZURE_CLIENT_ID) environment variable is used.
    type: str
  client_secret:
    description:
      - Client secret of the application. With O(auth=auto), setting both this and O(client_certificate_path) is an error.
      - If not set, the value of E(AZURE_CLIENT_SECRET), else E(AZURE_SECRET), is used.
    type: str
  client_certificate_path:
    description:
      - Path on the controller of a PEM file with the application's unencrypted private key and its certificate.
      - If not set, the value of the E(AZURE_CLIENT_CERTIFICATE_PATH) environment variable is used.
    type: path
  federated_token_file:
    description:
      - For V(workload_identity), the file holding the token the platform issues (Kubernetes, GitHub Actions...),
        which a federated credential of the application O(client_id) trusts. It is read again at every sign-in.
      - If not set, the value of the E(AZURE_FEDERATED_TOKEN_FILE) environment variable is used.
    type: path
  device_code:
    description:
      - Sign in as a person with the device code flow instead of as an application. The controller shows
        where to go and which code to enter, then waits until the sign-in completes or the code expires.
      - The same as O(auth=device_code).
    type: bool
    default: false
  scopes:
    description:
      - With O(device_code=true), the Microsoft Graph delegated permissions to ask for; the person
        signing in consents to them the first time.
      - The default covers every module of this collection.
    type: list
    elements: str
    default: [Application.ReadWrite.All, AppRoleAssignment.ReadWrite.All, DelegatedPermissionGrant.ReadWrite.All,
              Directory.Read.All, Policy.Read.All]
  cloud:
    description:
      - The Microsoft cloud, which sets both the sign-in host and the Graph root the token is for.
    type: str
    default: public
    choices: [china, public, usgov, usgovdod]
  authority_host:
    description:
      - Sign-in host (an https URL), overriding the one O(cloud) sets.
      - If not set, the value of the E(AZURE_AUTHORITY_HOST) environment variable is used.
    type: str
  graph_url:
    description: Root URL of Microsoft Graph, overriding the one O(cloud) sets; the token is for C(<graph_url>/.default).
    type: str
  ca_path:
    description:
      - PEM bundle of the certificate authorities to trust for the sign-in host. It wins over E(REQUESTS_CA_BUNDLE)
        and E(SSL_CERT_FILE), which are used, in this order, when it is not set; without any of them the
        certificate authorities of the Python requests library are trusted.
      - If not set, the value of the E(AZURE_SYNC_CA_PATH) environment variable is used.
    type: path
  validate_certs:
    description: Whether to verify TLS certificates.
    type: bool
    default: true
  proxy_url:
    description:
      - The HTTP proxy for every request, for example V(http://proxy.example.com:3128). It wins over the proxy
        environment variables.
      - Without it, E(HTTPS_PROXY), E(HTTP_PROXY) and E(NO_PROXY) apply as usual.
    type: str
notes:
  - An environment variable that is set but empty counts as unset, as AWX injects every key of a credential type.
requirements:
  - msal >= 1.24.0
  - requests >= 2.28.0
seealso:
  - module: moduscloud.azure_sync.azure_app_registration
"""

EXAMPLES = r"""
- name: Authenticate once, then configure the app registration
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Get a Graph token for the automation identity (AZURE_* environment variables)
      ansible.builtin.set_fact:
        graph_token: "{{ lookup('moduscloud.azure_sync.graph_token') }}"
      no_log: true

    - name: Use it for every Graph task of the play
      module_defaults:
        group/moduscloud.azure_sync.graph:
          access_token: "{{ graph_token }}"
      block:
        - name: Register the modusCloud application
          moduscloud.azure_sync.azure_app_registration:
            unique_name: moduscloud-user-sync
            display_name: modusCloud

- name: Bootstrap as an administrator with a device code (no automation identity yet)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Sign in; the prompt with the code is shown on the controller
      ansible.builtin.set_fact:
        graph_token: "{{ lookup('moduscloud.azure_sync.graph_token', device_code=true,
                         tenant_id='contoso.onmicrosoft.com', client_id=bootstrap_public_client_id) }}"
      no_log: true
"""

RETURN = r"""
_raw:
  description: One Microsoft Graph access token (a secret).
  type: list
  elements: str
"""

from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._connection import (
    MSAL_IMPORT_ERROR,
    REQUESTS_IMPORT_ERROR,
    GraphConnection,
    TokenError,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ServiceError

display = Display()

OPTIONS = (
    "auth",
    "tenant_id",
    "client_id",
    "client_secret",
    "client_certificate_path",
    "federated_token_file",
    "device_code",
    "scopes",
    "cloud",
    "authority_host",
    "graph_url",
    "ca_path",
    "validate_certs",
    "proxy_url",
)


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        if REQUESTS_IMPORT_ERROR or MSAL_IMPORT_ERROR:
            raise AnsibleError(
                "The moduscloud.azure_sync.graph_token lookup needs the Python libraries msal and "
                "requests on the controller: %s" % (REQUESTS_IMPORT_ERROR or MSAL_IMPORT_ERROR)
            )
        if terms:
            raise AnsibleLookupError("graph_token takes no terms, only options (got %d terms)" % len(terms))
        self.set_options(var_options=variables, direct=kwargs)
        options = dict((name, self.get_option(name)) for name in OPTIONS)
        if options["auth"] == "access_token":
            raise AnsibleLookupError(
                "graph_token: auth=access_token is not a way to obtain a token; choose one of "
                "auto, client_secret, certificate, workload_identity, managed_identity, "
                "azure_cli, device_code"
            )
        try:
            return [GraphConnection(options, show=display.display).token()]
        except (TokenError, ServiceError) as exc:
            raise AnsibleLookupError(to_native(exc))
