# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options of the modusCloud (Proofpoint Essentials API v1) modules."""

    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of the modusCloud (Proofpoint Essentials) API, ending with C(/api/v1).
      - Use it for a branded host or a test service; otherwise set O(stack).
      - With O(stack=auto), this is the host asked for the organization's stack.
      - If not set, the value of the E(MODUSCLOUD_API_URL) environment variable is used.
      - One of O(api_url) and O(stack) is required. O(api_url) wins when both are set.
    type: str
  stack:
    description:
      - The Proofpoint Essentials data centre that hosts the organization. The API is then
        C(https://<stack>.proofpointessentials.com/api/v1).
      - V(auto) asks the service (C(GET /endpoints/<org>)) which stack serves the organization
        and uses the first one it names.
      - If not set, the value of the E(MODUSCLOUD_STACK) environment variable is used.
    type: str
    choices: [us1, us2, us3, us4, us5, eu1, usg1, usg2, auto]
  username:
    description:
      - Email address of a modusCloud organization (or channel) admin that is not read-only.
      - If not set, the value of the E(MODUSCLOUD_USERNAME) environment variable is used.
      - Required (as the option or the variable).
    type: str
  password:
    description:
      - The admin's local Proofpoint password, not the Microsoft 365 one. An account that
        signs in with Microsoft still needs a local password for the API.
      - Sent in the C(X-Password) header only; it never appears in output or errors.
      - If not set, the value of the E(MODUSCLOUD_PASSWORD) environment variable is used.
      - Required (as the option or the variable).
    type: str
  ca_path:
    description:
      - PEM file of the certificate authorities to trust for the API's TLS certificate.
      - The order is - O(ca_path) when set (it wins even when E(REQUESTS_CA_BUNDLE) is set); else
        E(REQUESTS_CA_BUNDLE); else E(SSL_CERT_FILE); else the certificate authorities of the Python requests
        library.
      - If not set, the value of E(MODUSCLOUD_CA_PATH), else E(AZURE_SYNC_CA_PATH), is used.
    type: path
  validate_certs:
    description:
      - Whether to verify the API's TLS certificate. Only turn it off for a throw-away test service.
    type: bool
    default: true
  proxy_url:
    description:
      - The HTTP proxy for every request, for example V(http://proxy.example.com:3128). It wins over the proxy
        environment variables, and E(NO_PROXY) does not apply to it.
      - Without it, E(HTTPS_PROXY), E(HTTP_PROXY) and E(NO_PROXY) apply as usual.
    type: str
requirements:
  - requests
notes:
  - An environment variable that is set but empty counts as unset, as AWX injects every key of a credential type.
  - The modusCloud admin API has no sign-in flow. Every request carries the admin's email and
    password in the C(X-User) and C(X-Password) headers, over TLS only.
"""

    # Modules that read the organization's state and can take it from an earlier task instead.
    KNOWN_STATE = r"""
options:
  known_state:
    description:
      - What M(moduscloud.azure_sync.moduscloud_sync_info) returned for the same organization earlier in the
        run. The organization's domains, import settings and exemptions are then taken from it instead of
        being read again, which saves requests when many tenants are configured.
      - Only give it while nothing has changed the organization since it was read; the module forgets it at
        its own first write.
    type: dict
"""

    # Every modusCloud module acts on one organization.
    ORG = r"""
options:
  org:
    description:
      - The organization, named by any of its domains (normally its primary domain).
    type: str
    required: true
"""
