#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: azure_app_registration
short_description: Manage an Entra ID application registration and the API permissions it requests
description:
  - Creates, updates or deletes an Entra ID (Azure AD) app registration through Microsoft Graph, as KB article
    2012's Azure steps 1 to 10 do by hand for modusCloud (Proofpoint Essentials) user sync.
  - The application is identified by O(app_id); else by O(unique_name), a key this module sets when it
    creates the application (Graph's upsert, safe to repeat); else by O(display_name), which must then
    match exactly one application. Re-running never creates a second application.
  - Lists are managed whole. Redirect URIs and API permissions not declared are removed, and the diff shows
    them by name.
  - Requesting permissions does not grant them. Use M(moduscloud.azure_sync.azure_app_consent) for
    admin consent.
version_added: 1.0.0
author:
  - moduscloud.azure_sync maintainers (@moduscloud)
options:
  state:
    description:
      - V(present) creates or updates the application, V(absent) deletes it.
      - V(absent) refuses, before any write, the application the module itself signs in as.
      - V(absent) in check mode is a safe check of a removal that later tasks carry out - it checks the identity
        options (an O(app_id) that is not a GUID or an empty O(unique_name) fail before any request), finds the
        application, refuses the module's own, and returns the RV(app_id) it would delete.
    type: str
    choices: [present, absent]
    default: present
  app_id:
    description:
      - The application (client) id of an existing application, a GUID. It identifies the application first.
      - The KB article and the portal call it the Application ID, hence the alias.
      - Graph chooses application ids, so this module cannot create an application with a given O(app_id). If
        none exists, O(state=present) fails and O(state=absent) does nothing.
    type: str
    aliases: [application_id]
  unique_name:
    description:
      - A stable key for the application, unique in the tenant (Graph's C(uniqueName)). It identifies the
        application when O(app_id) is not given.
      - With O(state=present) the application is created with this key when none has it.
      - It can only be set when the application is created; it cannot be added to or changed on an
        existing application.
    type: str
  display_name:
    description:
      - The name shown in the Entra admin center, for example C(modusCloud).
      - Required to create the application.
      - When neither O(app_id) nor O(unique_name) is given, it identifies the application and must match
        exactly one application; if several have this name, the module fails and lists their app ids.
      - Otherwise the application is renamed to it.
    type: str
  display_name_conflict:
    description:
      - What to do when the application is to be created (no application has O(app_id) or O(unique_name)) and
        applications named O(display_name) already exist, for example one made by hand in the portal.
      - V(create) creates it beside them, as Entra ID allows several applications of one name.
      - V(fail) fails before any write, in check mode too, naming their app ids - adopt one by giving its app id as
        O(app_id), or choose another O(display_name).
      - Not used when the application is found, nor when O(display_name) itself identifies it.
    type: str
    choices: [create, fail]
    default: create
  sign_in_audience:
    description:
      - Who may sign in to the application. V(AzureADMyOrg) is this tenant only (single tenant).
    type: str
    choices: [AzureADMyOrg, AzureADMultipleOrgs, AzureADandPersonalMicrosoftAccount, PersonalMicrosoftAccount]
    default: AzureADMyOrg
  redirect_uris:
    description:
      - The web platform's redirect URIs (the KB's sign-on URL, the modusCloud console).
      - The full list; URIs not listed are removed. V([]) removes all. Not managed when omitted.
      - As Entra ID allows, each is an absolute C(https://) URL of at most 256 characters without a fragment
        (C(#...)), or, for local development, an C(http://localhost) or C(http://127.0.0.1) URL (any port and
        path). Any other value fails before any request, in check mode too.
    type: list
    elements: str
  home_page_url:
    description:
      - The web platform's home page URL, an absolute C(https://) or C(http://) URL. An empty string removes it.
        Not managed when omitted.
    type: str
  api_permissions:
    description:
      - The API permissions the application requests, per API.
      - The full list; permissions not listed are removed. V([]) removes all. Not managed when omitted.
      - Names are resolved to ids from the API's service principal in the tenant. An unknown name fails
        before anything is written, listing the closest valid names.
      - The legacy C(Windows Azure Active Directory) API (Azure AD Graph) still works here, with a warning
        naming the Microsoft Graph permissions to use instead; Microsoft retired it in 2025.
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
        description:
          - Application permissions (app roles, C(Role)) by name, for example C(Directory.Read.All).
        type: list
        elements: str
        default: []
      delegated:
        description:
          - Delegated permissions (scopes, C(Scope)) by name, for example C(User.ReadBasic.All).
        type: list
        elements: str
        default: []
extends_documentation_fragment:
  - moduscloud.azure_sync.graph
  - moduscloud.azure_sync.attributes
  - moduscloud.azure_sync.attributes.ACTION_GROUP_GRAPH
attributes:
  check_mode:
    support: full
    details: Creating an application in check mode returns V((known after apply)) as its ids, so later tasks
      that use them still run.
  diff_mode:
    support: full
    details: Permissions appear by name in the diff.
notes:
  - "Microsoft Graph application permissions the calling identity needs: C(Application.ReadWrite.All)
    (or C(Application.ReadWrite.OwnedBy) for applications it owns), and C(Application.Read.All) to read
    the APIs' permission names."
  - Client secrets are managed by M(moduscloud.azure_sync.azure_app_secret), never by this module.
  - An application made by hand has no unique name, and Graph cannot add one to an existing application, so
    looking for O(unique_name) does not find it. O(display_name_conflict=fail) keeps a task from creating a second
    application beside it; give its O(app_id) to manage it instead.
seealso:
  - module: moduscloud.azure_sync.azure_app_consent
  - module: moduscloud.azure_sync.azure_app_secret
  - module: moduscloud.azure_sync.azure_app_registration_info
  - name: Create an application (Microsoft Graph)
    description: The Graph call behind a create.
    link: https://learn.microsoft.com/graph/api/application-post-applications
"""

EXAMPLES = r"""
- name: Register the modusCloud application (KB steps 1 to 10)
  moduscloud.azure_sync.azure_app_registration:
    tenant_id: "{{ azure_tenant_id }}"
    client_id: "{{ azure_admin_client_id }}"
    client_secret: "{{ azure_admin_client_secret }}"
    unique_name: moduscloud-user-sync
    display_name: modusCloud
    redirect_uris:
      - https://us1.proofpointessentials.com/
    api_permissions:
      - api: Microsoft Graph
        application: [Directory.Read.All]
        delegated: [Directory.Read.All, Group.Read.All, User.ReadBasic.All]
  register: app

- name: Show the Application ID (KB step 8)
  ansible.builtin.debug:
    msg: "Application ID: {{ app.app_id }}"

- name: Register the application, unless one of its name was made by hand (then adopt that one by its app_id)
  moduscloud.azure_sync.azure_app_registration:
    unique_name: moduscloud-user-sync
    display_name: modusCloud
    display_name_conflict: fail
    redirect_uris:
      - https://us1.proofpointessentials.com/

- name: Authenticate once for the play and manage an app found by its display name
  module_defaults:
    group/moduscloud.azure_sync.graph:
      access_token: "{{ graph_token }}"
  block:
    - name: Drop the redirect URIs of the existing modusCloud application
      moduscloud.azure_sync.azure_app_registration:
        display_name: modusCloud
        redirect_uris: []

- name: Delete the application
  moduscloud.azure_sync.azure_app_registration:
    unique_name: moduscloud-user-sync
    state: absent
"""

RETURN = r"""
msg:
  description:
    - With O(state=absent), whether the application was deleted (or, in check mode, would be), or that there was none.
  returned: when O(state=absent)
  type: str
  sample: Application 4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21 was deleted.
app_id:
  description:
    - The application (client) id, the KB's B(Application ID).
    - V((known after apply)) when check mode predicts a create.
    - When O(state=absent) and no application existed, O(app_id) as given (V(null) when the task named the
      application otherwise).
  returned: always
  type: str
  sample: 4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21
app_id_known:
  description:
    - Whether RV(app_id) is a real application id, which later tasks can use.
    - V(false) when check mode predicts a create (RV(app_id) is then the placeholder), or when O(state=absent) found
      no application.
  returned: always
  type: bool
  sample: true
up_to_date:
  description:
    - Whether the application already matched the options, so that the task changed nothing (in check mode, would
      change nothing). The opposite of C(changed), kept when a caller hides that with C(changed_when), for example
      to run the task again only when its check-mode run first predicted a change, as the
      P(moduscloud.azure_sync.azure_user_sync#role) role does.
  returned: when O(state=present)
  type: bool
  sample: true
object_id:
  description: The application object id (Graph's C(id)); V((known after apply)) when check mode predicts a create.
  returned: always
  type: str
  sample: 2a7c94d1-65b5-4c31-8a4b-0f0f1f37c0de
display_name:
  description: The display name.
  returned: when O(state=present)
  type: str
  sample: modusCloud
unique_name:
  description: The application's unique name, if it has one.
  returned: when O(state=present)
  type: str
  sample: moduscloud-user-sync
sign_in_audience:
  description: Who may sign in.
  returned: when O(state=present)
  type: str
  sample: AzureADMyOrg
redirect_uris:
  description: The web redirect URIs, sorted.
  returned: when O(state=present)
  type: list
  elements: str
  sample: [https://us1.proofpointessentials.com/]
home_page_url:
  description: The web home page URL.
  returned: when O(state=present)
  type: str
  sample: https://us1.proofpointessentials.com/
api_permissions:
  description: The permissions the application requests, by name, one entry per API.
  returned: when O(state=present)
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
      description: Application permission names.
      type: list
      elements: str
      sample: [Directory.Read.All]
    delegated:
      description: Delegated permission names.
      type: list
      elements: str
      sample: [Directory.Read.All, Group.Read.All, User.ReadBasic.All]
required_resource_access:
  description: The same permissions resolved to ids, as Graph stores them (C(Role) = application, C(Scope) = delegated).
  returned: when O(state=present)
  type: list
  elements: dict
  sample:
    - resourceAppId: 00000003-0000-0000-c000-000000000000
      resourceAccess:
        - {id: 7ab1d382-f21e-4acd-a863-ba3e13f7da61, type: Role}
        - {id: 06da0dbc-49e2-44d2-8312-53f166ab848a, type: Scope}
"""

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_permissions import API_PERMISSIONS_SPEC
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._ensure_application import SIGN_IN_AUDIENCES, ensure_application
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_module import GraphModule
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import APPLICATION_IDENTITY


def argument_spec():
    return dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        app_id=dict(type="str", aliases=["application_id"]),
        unique_name=dict(type="str"),
        display_name=dict(type="str"),
        display_name_conflict=dict(type="str", default="create", choices=["create", "fail"]),
        sign_in_audience=dict(type="str", default="AzureADMyOrg", choices=SIGN_IN_AUDIENCES),
        redirect_uris=dict(type="list", elements="str"),
        home_page_url=dict(type="str"),
        api_permissions=API_PERMISSIONS_SPEC,
    )


def main():
    module = GraphModule(argument_spec(), required_one_of=[APPLICATION_IDENTITY])
    module.run(ensure_application)


if __name__ == "__main__":
    main()
