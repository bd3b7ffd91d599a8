# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The Microsoft Graph connection options shared by the collection's Graph modules."""

    DOCUMENTATION = r"""
options:
  auth:
    description:
      - How to sign in to Microsoft Graph.
      - V(auto) uses the first method that the options and the environment make possible, in this order, and
        otherwise fails listing what it tried - V(access_token) when O(access_token) is set; V(client_secret)
        when O(client_secret) is set; V(certificate) when O(client_certificate_path) is set;
        V(workload_identity) when O(federated_token_file) is set; V(managed_identity) when E(IDENTITY_ENDPOINT)
        or E(MSI_ENDPOINT) is set; V(azure_cli) when C(az) is on the E(PATH).
      - V(managed_identity) signs in as the managed identity of the Azure machine the module runs on (App Service,
        Functions, Container Apps, Arc, or a virtual machine's instance metadata service, which V(auto) cannot
        detect, so set V(managed_identity) explicitly there); O(client_id) names a user-assigned identity.
      - V(workload_identity) signs in as the application O(client_id) with the token in O(federated_token_file),
        which a federated credential of that application trusts (Kubernetes, GitHub Actions).
      - V(azure_cli) uses the account signed in to the Azure CLI (C(az login)) on the machine the module runs on.
      - If not set, the value of the E(AZURE_SYNC_AUTH) environment variable is used, and without it V(auto).
        A method named only by E(AZURE_SYNC_AUTH) does not override an O(access_token) given to the task.
    type: str
    choices: [auto, access_token, client_secret, certificate, workload_identity, managed_identity, azure_cli]
  tenant_id:
    description:
      - The Entra ID (Azure AD) tenant to sign in to, as its id (GUID) or a verified domain.
      - If not set, the value of E(AZURE_TENANT_ID), else E(AZURE_TENANT) (azure.azcollection, AWX), is used.
      - Required for O(auth=client_secret), O(auth=certificate) and O(auth=workload_identity).
    type: str
  client_id:
    description:
      - Application (client) id of the automation identity that calls Microsoft Graph; with
        O(auth=managed_identity), the client id of a user-assigned managed identity (unset for the system-assigned one).
      - If not set, the value of the E(AZURE_CLIENT_ID) environment variable is used.
    type: str
  client_secret:
    description:
      - Client secret of the automation identity.
      - If not set, the value of E(AZURE_CLIENT_SECRET), else E(AZURE_SECRET) (azure.azcollection, AWX), is used.
      - With O(auth=auto), setting both this and O(client_certificate_path) is an error.
    type: str
  client_certificate_path:
    description:
      - Path on the managed node (usually the controller) of a PEM file holding the automation identity's
        unencrypted private key and its certificate; the certificate thumbprint is computed from it.
      - If not set, the value of the E(AZURE_CLIENT_CERTIFICATE_PATH) environment variable is used.
    type: path
  federated_token_file:
    description:
      - For O(auth=workload_identity), the file holding the token the platform issues. It is read at every
        sign-in, as the platform rotates it.
      - If not set, the value of the E(AZURE_FEDERATED_TOKEN_FILE) environment variable is used.
    type: path
  access_token:
    description:
      - A Microsoft Graph access token to use as given, for example from the
        P(moduscloud.azure_sync.graph_token#lookup) lookup, so a play authenticates once.
      - When set (and O(auth) is not set or V(auto)), no other sign-in option is used, even if E(AZURE_SYNC_AUTH)
        names another method.
      - The token must have been issued for the Graph root of O(cloud) (or O(graph_url)).
    type: str
  cloud:
    description:
      - The Microsoft cloud, which sets both the sign-in host and the Graph root.
      - V(public) is login.microsoftonline.com and graph.microsoft.com; V(usgov) (GCC High) is
        login.microsoftonline.us and graph.microsoft.us; V(usgovdod) is login.microsoftonline.us and
        dod-graph.microsoft.us; V(china) (21Vianet) is login.chinacloudapi.cn and microsoftgraph.chinacloudapi.cn.
      - GCC (not High) tenants use V(public).
    type: str
    default: public
    choices: [china, public, usgov, usgovdod]
  authority_host:
    description:
      - Sign-in host (an https URL without the tenant), overriding the one O(cloud) sets, for private
        endpoints and test doubles.
      - If not set, the value of the E(AZURE_AUTHORITY_HOST) environment variable is used.
    type: str
  graph_url:
    description:
      - Root URL of Microsoft Graph (without C(/v1.0)), overriding the one O(cloud) sets. Tokens are requested
        for C(<graph_url>/.default).
    type: str
  ca_path:
    description:
      - PEM bundle of the certificate authorities to trust for the sign-in host and Graph.
      - The order is - O(ca_path) when set (it wins even when E(REQUESTS_CA_BUNDLE) is set); else
        E(REQUESTS_CA_BUNDLE); else E(SSL_CERT_FILE); else the certificate authorities of the Python requests
        library.
      - If not set, the value of the E(AZURE_SYNC_CA_PATH) environment variable is used.
    type: path
  validate_certs:
    description:
      - Whether to verify TLS certificates. Only switch this off for a test double you trust.
    type: bool
    default: true
  proxy_url:
    description:
      - The HTTP proxy for every request (sign-in and Graph), for example V(http://proxy.example.com:3128).
        It wins over the proxy environment variables, and E(NO_PROXY) does not apply to it.
      - Without it, E(HTTPS_PROXY), E(HTTP_PROXY) and E(NO_PROXY) apply as usual.
    type: str
  timeout:
    description:
      - Seconds to wait for each answer of the sign-in host and Graph.
    type: int
    default: 30
notes:
  - An environment variable that is set but empty counts as unset, as AWX injects every key of a credential type.
requirements:
  - msal >= 1.24.0 (1.29.0 for O(auth=managed_identity))
  - requests >= 2.28.0
"""
