#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: azure_app_consent
short_description: Grant or revoke tenant-wide admin consent for an Entra ID application
description:
  - Does what the KB article 2012's B(Grant Permissions) button (Azure step 11) does, through the supported
    Microsoft Graph objects.
  - Ensures the application's service principal (its enterprise application) exists; one app role assignment
    per application permission; and, per API, one tenant-wide (C(AllPrincipals)) delegated permission grant
    holding the delegated permissions.
  - By default consents to exactly what the application registration requests. O(api_permissions) states
    the permissions explicitly instead.
  - Adopts consent that already exists (Graph refuses a second grant for the same API) and changes it to
    the requested permissions, revoking what is no longer requested; the diff shows every permission by name.
  - Retries the answers Graph gives while a just-created application or service principal is not visible yet.
version_added: 1.0.0
author:
  - moduscloud.azure_sync maintainers (@moduscloud)
options:
  state:
    description:
      - V(present) grants consent to the requested permissions and revokes any other.
      - V(absent) revokes the permissions in O(api_permissions), or all admin consent of the application when
        O(api_permissions) is not given. The service principal is kept unless O(remove_service_principal=true).
        If the application does not exist, there is nothing to revoke and the task reports no change.
      - V(absent) refuses, before any write, the application the module itself signs in as.
    type: str
    choices: [present, absent]
    default: present
  app_id:
    description:
      - The application (client) id, for example RV(moduscloud.azure_sync.azure_app_registration#module:app_id).
      - It identifies the application first.
      - The KB article and the portal call it the Application ID, hence the alias.
    type: str
    aliases: [application_id]
  unique_name:
    description:
      - The application's unique name; identifies it when O(app_id) is not given.
    type: str
  display_name:
    description:
      - The application's display name; identifies it when neither O(app_id) nor O(unique_name) is given, and
        must then match exactly one application.
    type: str
  api_permissions:
    description:
      - The permissions to consent to (with O(state=present)) or to revoke (with O(state=absent)), in the form
        of M(moduscloud.azure_sync.azure_app_registration)'s O(moduscloud.azure_sync.azure_app_registration#module:api_permissions).
      - When omitted, O(state=present) consents to what the registration requests.
      - Giving the same list as to the registration makes check mode exact even when the registration
        itself is only planned, and avoids reading the registration back while Graph may still show its
        previous permissions (right after a change).
    type: list
    elements: dict
    suboptions:
      api:
        description:
          - The API, as C(Microsoft Graph), C(Windows Azure Active Directory), the API's application id, or
            the display name of its service principal in the tenant.
        type: str
        required: true
      application:
        description: Application permission names, for example C(Directory.Read.All).
        type: list
        elements: str
        default: []
      delegated:
        description: Delegated permission names, for example C(User.ReadBasic.All).
        type: list
        elements: str
        default: []
  remove_service_principal:
    description:
      - With O(state=absent), also delete the application's service principal (enterprise application).
    type: bool
    default: false
extends_documentation_fragment:
  - moduscloud.azure_sync.graph
  - moduscloud.azure_sync.attributes
  - moduscloud.azure_sync.attributes.ACTION_GROUP_GRAPH
attributes:
  check_mode:
    support: full
    details:
      - When the application does not exist yet (its id is V((known after apply)) from a registration in check
        mode), everything is predicted as to be created, without reading what cannot exist.
      - The permissions are then only known from O(api_permissions).
  diff_mode:
    support: full
notes:
  - "Microsoft Graph application permissions the calling identity needs: C(Application.ReadWrite.All) (to
    create the service principal), C(AppRoleAssignment.ReadWrite.All) and C(Application.Read.All) (app role
    assignments), and C(DelegatedPermissionGrant.ReadWrite.All) (delegated grants)."
  - Granting Microsoft Graph application permissions interactively needs the Privileged Role Administrator
    role; an automation identity needs the permissions above.
seealso:
  - module: moduscloud.azure_sync.azure_app_registration
  - module: moduscloud.azure_sync.azure_app_registration_info
  - name: Grant or revoke API permissions programmatically
    description: The two Graph objects this module manages.
    link: https://learn.microsoft.com/graph/permissions-grant-via-msgraph
"""

EXAMPLES = r"""
- name: Grant admin consent to what the registration requests (KB step 11)
  moduscloud.azure_sync.azure_app_consent:
    app_id: "{{ app.app_id }}"

- name: Grant an explicit list (also exact in check mode before the app exists)
  moduscloud.azure_sync.azure_app_consent:
    app_id: "{{ app.app_id }}"
    api_permissions:
      - api: Microsoft Graph
        application: [Directory.Read.All]
        delegated: [Directory.Read.All, Group.Read.All, User.ReadBasic.All]

- name: Revoke one delegated permission only
  moduscloud.azure_sync.azure_app_consent:
    unique_name: moduscloud-user-sync
    state: absent
    api_permissions:
      - api: Microsoft Graph
        delegated: [Group.Read.All]

- name: Revoke all consent and delete the enterprise application
  moduscloud.azure_sync.azure_app_consent:
    unique_name: moduscloud-user-sync
    state: absent
    remove_service_principal: true
"""

RETURN = r"""
msg:
  description:
    - With O(state=present), what is granted after the run, per API - its application and its delegated
      permissions by name - and whether this run granted it (in check mode, would) or found it already granted.
    - With O(state=absent), what the run revoked and deleted (or, in check mode, would), by permission name, or
      that there was nothing to revoke.
  returned: always
  type: str
  sample: "Admin consent granted: Microsoft Graph (application Directory.Read.All; delegated Directory.Read.All,
    Group.Read.All, User.ReadBasic.All)."
app_id:
  description: The application (client) id.
  returned: always
  type: str
  sample: 4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21
service_principal_id:
  description:
    - Object id of the application's service principal; V((known after apply)) when check mode predicts its
      creation; V(null) when it does not exist (after the run).
  returned: always
  type: str
  sample: 9b0a3c4e-71d2-4b0e-8f55-3d1e2c6a7b90
granted:
  description: The admin consent after the run (predicted in check mode), by name, one entry per API.
  returned: always
  type: list
  elements: dict
  contains:
    api:
      description: The API's display name.
      type: str
      sample: Microsoft Graph
    resource_app_id:
      description: The API's application id.
      type: str
      sample: 00000003-0000-0000-c000-000000000000
    application:
      description: Application permissions granted (app role assignments).
      type: list
      elements: str
      sample: [Directory.Read.All]
    delegated:
      description: Delegated permissions granted to all users (the C(AllPrincipals) grant's scopes).
      type: list
      elements: str
      sample: [Directory.Read.All, Group.Read.All, User.ReadBasic.All]
"""

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_permissions import API_PERMISSIONS_SPEC
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._ensure_consent import ensure_consent
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_module import GraphModule
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import APPLICATION_IDENTITY


def argument_spec():
    return dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        app_id=dict(type="str", aliases=["application_id"]),
        unique_name=dict(type="str"),
        display_name=dict(type="str"),
        api_permissions=API_PERMISSIONS_SPEC,
        remove_service_principal=dict(type="bool", default=False),
    )


def main():
    module = GraphModule(argument_spec(), placeholders=("app_id",), required_one_of=[APPLICATION_IDENTITY])
    module.run(ensure_consent)


if __name__ == "__main__":
    main()
