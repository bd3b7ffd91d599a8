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

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_consent import grant_scopes, granted_permissions
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph import GraphError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_module import GraphModule
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_permissions import UnknownApi
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import PLACEHOLDER, ChangeSet


def argument_spec():
    return dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        app_id=dict(type="str", aliases=["application_id"]),
        unique_name=dict(type="str"),
        display_name=dict(type="str"),
        api_permissions=dict(type="list", elements="dict", options=dict(
            api=dict(type="str", required=True),
            application=dict(type="list", elements="str", default=[]),
            delegated=dict(type="list", elements="str", default=[]),
        )),
        remove_service_principal=dict(type="bool", default=False),
    )


def find_application(module, changes):
    """The application, or None: with state=absent when there is none, in check mode when an earlier task may
    create it."""
    params = module.params
    if params["app_id"] == PLACEHOLDER:
        return None
    identity = dict(app_id=params["app_id"], unique_name=params["unique_name"], display_name=params["display_name"])
    if params["state"] == "absent":
        return module.graph.find_application(**identity)
    described = ", ".join("%s %s" % (key, value) for key, value in identity.items() if value)
    # An earlier task may just have created it: Graph can take a few seconds to show it.
    return changes.prerequisite(lambda: module.graph.find_application(**identity),
                                lambda: module.graph.wait_for_application(**identity),
                                GraphError("no application with %s" % described),
                                "no application with %s exists; check mode assumes an earlier task creates it"
                                % described, module.warn)


def desired_consent(params, requested, current):
    """What must be granted after the run, by API and name."""
    if params["state"] == "present":
        return dict((app_id, dict((kind, set(names)) for kind, names in kinds.items()))
                    for app_id, kinds in requested.items())
    if params["api_permissions"] is None:
        return {}
    return dict((app_id, dict((kind, names - set((requested.get(app_id) or {}).get(kind) or {}))
                              for kind, names in kinds.items()))
                for app_id, kinds in current.items())


def run(module):
    params = module.params
    graph = module.graph
    changes = ChangeSet(module.check_mode)
    requested = None
    if params["api_permissions"] is not None:
        requested, warnings = graph.resolve_permissions(params["api_permissions"])
        for warning in warnings:
            module.warn(warning)

    application = find_application(module, changes)
    if application is None and params["state"] == "absent":
        # No application, so no consent of it to revoke.
        result = {"app_id": params["app_id"], "service_principal_id": None, "granted": []}
        result.update(changes.result(module._diff))
        return result
    app_id = application["appId"] if application else (params["app_id"] or PLACEHOLDER)
    if requested is None:
        if application is not None:
            requested = graph.requested_permissions(application)
        else:
            requested = {}
            if params["state"] == "present":
                module.warn("the permissions to consent to are known once the application exists; give "
                            "api_permissions to predict them in check mode")
    if params["state"] == "present":
        for resource_app_id, kinds in requested.items():
            if isinstance(graph.resource_api(resource_app_id), UnknownApi) and any(kinds.values()):
                raise GraphError("the application requests permissions of API %s, which has no service principal "
                                 "in this tenant, so they cannot be granted" % resource_app_id)

    principal = graph.get_service_principal(app_id) if application is not None else None
    consent = graph.read_consent(principal["id"]) if principal else {}
    current = granted_permissions(consent)
    desired = desired_consent(params, requested, current)

    principal_id = principal["id"] if principal else None
    if params["state"] == "present":
        def create_principal(_fields):
            created = graph.create_service_principal(app_id)
            return {"app_id": app_id, "id": created["id"]}
        view = changes.ensure("service_principal", {"app_id": app_id, "id": principal_id} if principal else None,
                              {"app_id": app_id}, create=create_principal, placeholder={"id": PLACEHOLDER})
        principal_id = view["id"]

    for resource_app_id in sorted(set(current) | set(desired)):
        api = graph.resource_api(resource_app_id)
        wanted = desired.get(resource_app_id) or {}
        held = consent.get(resource_app_id) or {"application": {}, "grants": []}
        ensure_app_roles(changes, graph, api, principal_id, held["application"], wanted.get("application") or set(),
                         (requested.get(resource_app_id) or {}).get("application") or {})
        ensure_admin_grant(changes, graph, api, principal_id, held["grants"], wanted.get("delegated") or set())

    if params["state"] == "absent" and params["remove_service_principal"]:
        changes.ensure("service_principal", {"app_id": app_id, "id": principal_id} if principal else None, None,
                       delete=lambda: graph.delete_service_principal(principal_id))
        principal_id = None

    result = {"app_id": app_id, "service_principal_id": principal_id,
              "granted": graph.permission_view(desired)}
    result.update(changes.result(module._diff))
    return result


def ensure_app_roles(changes, graph, api, principal_id, assignments, wanted, role_ids):
    """One app role assignment per wanted application permission; the others revoked."""
    for name in sorted(set(assignments) | wanted):
        assignment = assignments.get(name)
        view = {"api": api.display_name, "permission": name}
        changes.ensure("app_role_assignments/%s/%s" % (api.display_name, name),
                       view if assignment else None, view if name in wanted else None,
                       create=lambda _fields, role_id=role_ids.get(name) or api.ids["application"].get(name):
                       graph.add_app_role_assignment(principal_id, api.object_id, role_id),
                       delete=lambda assignment_id=(assignment or {}).get("id"):
                       graph.remove_app_role_assignment(principal_id, assignment_id))


def ensure_admin_grant(changes, graph, api, principal_id, grants, wanted):
    """One AllPrincipals grant for the API holding exactly the wanted scopes; duplicates removed."""
    label = "delegated_grants/%s" % api.display_name
    primary = grants[0] if grants else None
    scopes = sorted(wanted)

    def view(names):
        return {"api": api.display_name, "consent_type": "AllPrincipals", "scopes": sorted(names)}

    changes.ensure(label, view(grant_scopes(primary)) if primary else None, view(scopes) if scopes else None,
                   create=lambda _fields: graph.create_admin_grant(principal_id, api.object_id, scopes),
                   update=lambda _changes: graph.update_admin_grant(primary["id"], scopes),
                   delete=lambda: graph.delete_admin_grant(primary["id"]))
    for duplicate in grants[1:]:
        changes.ensure("%s (duplicate %s)" % (label, duplicate["id"]), view(grant_scopes(duplicate)), None,
                       delete=lambda grant_id=duplicate["id"]: graph.delete_admin_grant(grant_id))


def main():
    module = GraphModule(argument_spec(), required_one_of=[("app_id", "unique_name", "display_name")])
    module.run(run)


if __name__ == "__main__":
    main()
