#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: azure_app_registration_info
short_description: Read Entra ID application registrations, their consent status and client secrets
description:
  - Reads app registrations through Microsoft Graph, by O(app_id), O(unique_name) or O(display_name), or every
    application in the tenant when none is given (all pages).
  - For each application returns its redirect URIs, the API permissions it requests by name, whether each is
    granted tenant-wide (admin consent) with what is missing or extra, and its client secrets (dates and the
    hint Graph shows, never values).
version_added: 1.0.0
author:
  - moduscloud.azure_sync maintainers (@moduscloud)
options:
  app_id:
    description:
      - The application (client) id of the application to read.
      - The KB article and the portal call it the Application ID, hence the alias.
    type: str
    aliases: [application_id]
  unique_name:
    description: The unique name of the application to read.
    type: str
  display_name:
    description: Read every application with exactly this display name (display names are not unique).
    type: str
  include_consent:
    description:
      - Whether to read each application's service principal and admin consent (three more Graph reads per
        application).
      - Needs O(include_permissions).
    type: bool
    default: true
  include_permissions:
    description:
      - Whether to name the permissions each application requests (RV(applications[].api_permissions)), which
        reads the service principal of every API it requests them from.
      - Turn it off, with O(include_consent), when only the applications' ids and names are needed.
    type: bool
    default: true
  expiring_within_days:
    description:
      - Warn about every client secret that expires within this many days or has expired.
    type: int
extends_documentation_fragment:
  - moduscloud.azure_sync.graph
  - moduscloud.azure_sync.attributes
  - moduscloud.azure_sync.attributes.INFO_MODULE
  - moduscloud.azure_sync.attributes.ACTION_GROUP_GRAPH
notes:
  - "Microsoft Graph application permission the calling identity needs: C(Application.Read.All)."
  - O(app_id), O(unique_name) and O(display_name) are mutually exclusive; an application that does not exist
    gives an empty list, not an error.
seealso:
  - module: moduscloud.azure_sync.azure_app_registration
  - module: moduscloud.azure_sync.azure_app_consent
  - module: moduscloud.azure_sync.azure_app_secret
"""

EXAMPLES = r"""
- name: Read the modusCloud application
  moduscloud.azure_sync.azure_app_registration_info:
    unique_name: moduscloud-user-sync
    expiring_within_days: 30
  register: info

- name: Fail when admin consent is incomplete
  ansible.builtin.assert:
    that: info.applications[0].consent.complete
    fail_msg: "Missing consent: {{ info.applications[0].consent.missing }}"

- name: List every application of the tenant, without consent details
  moduscloud.azure_sync.azure_app_registration_info:
    include_consent: false
  register: all_apps
"""

RETURN = r"""
signed_in_app_id:
  description:
    - The application (client) id of the identity the module signed in as (the automation identity, a managed
      identity, or the public client of a device code sign-in), read from the access token's C(appid) or C(azp)
      claim.
    - V(null) when the token does not say (it is not a JSON Web Token with either claim).
    - The role's offboarding uses it to refuse to remove the identity the run signs in as.
  returned: always
  type: str
  sample: 0b5a2e48-7c1d-4b7e-9a63-5f2d1c0e9b84
applications:
  description: The applications found, sorted by display name.
  returned: always
  type: list
  elements: dict
  contains:
    app_id:
      description: Application (client) id.
      type: str
      sample: 4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21
    object_id:
      description: Application object id.
      type: str
      sample: 2a7c94d1-65b5-4c31-8a4b-0f0f1f37c0de
    display_name:
      description: Display name.
      type: str
      sample: modusCloud
    unique_name:
      description: Unique name, if any.
      type: str
      sample: moduscloud-user-sync
    sign_in_audience:
      description: Who may sign in.
      type: str
      sample: AzureADMyOrg
    redirect_uris:
      description: Web redirect URIs, sorted.
      type: list
      elements: str
      sample: [https://us1.proofpointessentials.com/]
    home_page_url:
      description: Web home page URL.
      type: str
      sample: https://us1.proofpointessentials.com/
    api_permissions:
      description: The permissions the application requests, by name (as in M(moduscloud.azure_sync.azure_app_registration)).
      returned: when O(include_permissions) is true
      type: list
      elements: dict
      sample:
        - api: Microsoft Graph
          resource_app_id: 00000003-0000-0000-c000-000000000000
          application: [Directory.Read.All]
          delegated: [Directory.Read.All, Group.Read.All, User.ReadBasic.All]
    service_principal_id:
      description: Object id of the application's service principal; V(null) if it has none.
      type: str
      returned: when O(include_consent=true)
      sample: 9b0a3c4e-71d2-4b0e-8f55-3d1e2c6a7b90
    consent:
      description: Admin consent compared with what is requested.
      type: dict
      returned: when O(include_consent=true)
      contains:
        complete:
          description: Whether every requested permission is granted tenant-wide.
          type: bool
          sample: true
        granted:
          description: What is granted, by name, one entry per API (same shape as RV(applications[].api_permissions)).
          type: list
          elements: dict
        missing:
          description: Requested but not granted, one entry per API.
          type: list
          elements: dict
          sample:
            - api: Microsoft Graph
              resource_app_id: 00000003-0000-0000-c000-000000000000
              application: []
              delegated: [Group.Read.All]
        extra:
          description: Granted but not requested, one entry per API.
          type: list
          elements: dict
          sample: []
    secrets:
      description: Client secrets, soonest expiry first. Graph never returns their values.
      type: list
      elements: dict
      contains:
        key_id:
          description: The secret's key id.
          type: str
          sample: 6d6b2f63-0b0d-4f6e-9d0b-3c4d5e6f7a8b
        description:
          description: The secret's description (Graph's C(displayName)).
          type: str
          sample: modusCloud user sync
        hint:
          description: The first characters of the secret's value, as Graph and the portal show them to tell secrets apart.
          type: str
          sample: Ab1
        start_date:
          description: When it became valid (ISO 8601, UTC).
          type: str
          sample: "2026-01-31T10:00:00Z"
        end_date:
          description: When it expires (ISO 8601, UTC).
          type: str
          sample: "2028-01-31T10:00:00Z"
        days_remaining:
          description: Whole days until it expires; negative once expired.
          type: int
          sample: 640
        expired:
          description: Whether its end date has passed.
          type: bool
          sample: false
"""

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._application_info import application_info
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_module import GraphModule
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import APPLICATION_IDENTITY


def argument_spec():
    return dict(
        app_id=dict(type="str", aliases=["application_id"]),
        unique_name=dict(type="str"),
        display_name=dict(type="str"),
        include_consent=dict(type="bool", default=True),
        include_permissions=dict(type="bool", default=True),
        expiring_within_days=dict(type="int"),
    )


def main():
    module = GraphModule(argument_spec(), reports_changes=False, mutually_exclusive=[APPLICATION_IDENTITY])
    module.run(application_info)


if __name__ == "__main__":
    main()
