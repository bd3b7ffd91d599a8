# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The Microsoft Graph connection options shared by the collection's Graph modules."""

    DOCUMENTATION = r"""
options:
  tenant_id:
    description:
      - The Entra ID (Azure AD) tenant to sign in to, as its id (GUID) or a verified domain.
      - If not set, the value of the E(AZURE_TENANT_ID) environment variable is used.
      - Required unless O(access_token) is set.
    type: str
  client_id:
    description:
      - Application (client) id of the automation identity that calls Microsoft Graph.
      - If not set, the value of the E(AZURE_CLIENT_ID) environment variable is used.
      - Required unless O(access_token) is set.
    type: str
  client_secret:
    description:
      - Client secret of the automation identity.
      - If not set, the value of the E(AZURE_CLIENT_SECRET) environment variable is used.
      - Mutually exclusive with O(client_certificate_path).
    type: str
  client_certificate_path:
    description:
      - Path on the managed node (usually the controller) of a PEM file holding the automation identity's
        unencrypted private key and its certificate; the certificate thumbprint is computed from it.
      - If not set, the value of the E(AZURE_CLIENT_CERTIFICATE_PATH) environment variable is used.
      - Mutually exclusive with O(client_secret).
    type: path
  access_token:
    description:
      - A Microsoft Graph access token to use as given, for example from the
        P(moduscloud.azure_sync.graph_token#lookup) lookup, so a play authenticates once.
      - When set, O(tenant_id), O(client_id), O(client_secret) and O(client_certificate_path) are not used.
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
      - PEM bundle of the certificate authorities to trust for the sign-in host and Graph, instead of the
        system's.
      - It applies even when E(REQUESTS_CA_BUNDLE) is set, which this collection deliberately ignores.
    type: path
  validate_certs:
    description:
      - Whether to verify TLS certificates. Only switch this off for a test double you trust.
    type: bool
    default: true
notes:
  - Proxy environment variables (E(HTTPS_PROXY) and the like) are not used; connections go directly to the
    sign-in host and Graph.
requirements:
  - msal >= 1.24.0
  - requests >= 2.28.0
"""
