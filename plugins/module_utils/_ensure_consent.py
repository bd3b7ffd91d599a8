# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Admin consent as an azure_app_consent task declares it, ensured: the application's service principal,
one app role assignment per application permission and one AllPrincipals grant per API, through ChangeSet.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import GraphError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_consent import grant_scopes, granted_permissions
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import described_identity
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_permissions import UnknownApi
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import PLACEHOLDER


def desired_consent(params, requested, current):
    """What must be granted after the run, by API and name."""
    if params["state"] == "present":
        return dict((app_id, dict((kind, set(names)) for kind, names in kinds.items())) for app_id, kinds in requested.items())
    if params["api_permissions"] is None:
        return {}
    return dict(
        (app_id, dict((kind, names - set((requested.get(app_id) or {}).get(kind) or {})) for kind, names in kinds.items())) for app_id, kinds in current.items()
    )


def ensure_consent(module):
    """azure_app_consent: the service principal and exactly the consent declared; the module's result."""
    params = module.params
    graph = module.graph
    changes = module.changes
    requested = None
    if params["api_permissions"] is not None:
        requested, warnings = graph.resolve_permissions(params["api_permissions"])
        for warning in warnings:
            module.warn(warning)

    application = module.named_application()
    if application is None and params["state"] == "absent":
        # No application, so no consent of it to revoke.
        message = "No application with %s exists: no admin consent to revoke." % described_identity(params)
        return {"app_id": params["app_id"], "service_principal_id": None, "granted": [], "msg": message}
    app_id = application["appId"] if application else (params["app_id"] or PLACEHOLDER)
    if requested is None:
        if application is not None:
            requested = graph.requested_permissions(application)
        else:
            requested = {}
            if params["state"] == "present":
                module.warn("the permissions to consent to are known once the application exists; give api_permissions to predict them in check mode")
    if params["state"] == "present":
        for resource_app_id, kinds in requested.items():
            if isinstance(graph.resource_api(resource_app_id), UnknownApi) and any(kinds.values()):
                raise GraphError(
                    "the application requests permissions of API %s, which has no service principal in this tenant, so they cannot be granted" % resource_app_id
                )

    principal = graph.get_service_principal(app_id) if application is not None else None
    consent = graph.read_consent(principal["id"]) if principal else {}
    current = granted_permissions(consent)
    desired = desired_consent(params, requested, current)

    principal_id = principal["id"] if principal else None
    if params["state"] == "present":

        def create_principal(_fields):
            created = graph.create_service_principal(app_id)
            return {"app_id": app_id, "id": created["id"]}

        view = changes.ensure(
            "service_principal",
            {"app_id": app_id, "id": principal_id} if principal else None,
            {"app_id": app_id},
            create=create_principal,
            placeholder={"id": PLACEHOLDER},
        )
        principal_id = view["id"]

    for resource_app_id in sorted(set(current) | set(desired)):
        api = graph.resource_api(resource_app_id)
        wanted = desired.get(resource_app_id) or {}
        held = consent.get(resource_app_id) or {"application": {}, "grants": []}
        ensure_app_roles(
            changes,
            graph,
            api,
            principal_id,
            held["application"],
            wanted.get("application") or set(),
            (requested.get(resource_app_id) or {}).get("application") or {},
        )
        ensure_admin_grant(changes, graph, api, principal_id, held["grants"], wanted.get("delegated") or set())

    result = {"app_id": app_id, "service_principal_id": principal_id, "granted": graph.permission_view(desired)}
    if params["state"] == "present":
        result["msg"] = present_message(result["granted"], changes.changed, changes.tense, pending=application is None)
    if params["state"] == "absent":
        removes_principal = bool(principal and params["remove_service_principal"])
        if removes_principal:
            changes.ensure("service_principal", {"app_id": app_id, "id": principal_id}, None, delete=lambda: graph.delete_service_principal(principal_id))
            result["service_principal_id"] = None
        result["msg"] = absent_message(app_id, graph.permission_view(revoked(current, desired)), removes_principal, changes.tense)
    return result


def present_message(granted_view, changed, tense, pending=False):
    """One sentence: what is granted after the run, per API (application and delegated permissions), and whether
    this run granted it (or, in check mode, would) or found it granted. `pending`: the application does not exist
    yet (check mode), so what it requests is not known."""
    if not granted_view:
        if pending:
            return "No admin consent to grant yet: the permissions are known once the application exists."
        return "No admin consent to grant: no permissions are requested."
    how = tense("granted", "would be granted") if changed else "already granted"
    apis = "; ".join(
        "%s (application %s; delegated %s)" % (entry["api"], ", ".join(entry["application"]) or "-", ", ".join(entry["delegated"]) or "-")
        for entry in granted_view
    )
    return "Admin consent %s: %s." % (how, apis)


def revoked(current, desired):
    """The permissions of `current` that `desired` leaves out, in the same shape ({api app id: {kind: {names}}})."""
    return dict(
        (app_id, dict((kind, names - set((desired.get(app_id) or {}).get(kind) or ())) for kind, names in kinds.items())) for app_id, kinds in current.items()
    )


def absent_message(app_id, revoked_view, removes_principal, tense):
    """One sentence: the admin consent revoked and the service principal deleted (or, in check mode, that would be)."""
    parts = []
    if revoked_view:
        permissions = "; ".join(
            "%s: %s" % (entry["api"], ", ".join(["%s (application)" % name for name in entry["application"]] + entry["delegated"])) for entry in revoked_view
        )
        parts.append("the admin consent of application %s %s (%s)" % (app_id, tense("was revoked", "would be revoked"), permissions))
    if removes_principal:
        whose = "its" if parts else "the application %s's" % app_id
        parts.append("%s service principal %s" % (whose, tense("was deleted", "would be deleted")))
    if not parts:
        return "Application %s has no admin consent to revoke." % app_id
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]


def ensure_app_roles(changes, graph, api, principal_id, assignments, wanted, role_ids):
    """One app role assignment per wanted application permission; the others revoked."""
    for name in sorted(set(assignments) | wanted):
        assignment = assignments.get(name)
        view = {"api": api.display_name, "permission": name}
        changes.ensure(
            "app_role_assignments/%s/%s" % (api.display_name, name),
            view if assignment else None,
            view if name in wanted else None,
            create=lambda _fields, role_id=role_ids.get(name) or api.ids["application"].get(name): graph.add_app_role_assignment(
                principal_id, api.object_id, role_id
            ),
            delete=lambda assignment_id=(assignment or {}).get("id"): graph.remove_app_role_assignment(principal_id, assignment_id),
        )


def ensure_admin_grant(changes, graph, api, principal_id, grants, wanted):
    """One AllPrincipals grant for the API holding exactly the wanted scopes; duplicates removed."""
    label = "delegated_grants/%s" % api.display_name
    primary = grants[0] if grants else None
    scopes = sorted(wanted)

    def view(names):
        return {"api": api.display_name, "consent_type": "AllPrincipals", "scopes": sorted(names)}

    changes.ensure(
        label,
        view(grant_scopes(primary)) if primary else None,
        view(scopes) if scopes else None,
        create=lambda _fields: graph.create_admin_grant(principal_id, api.object_id, scopes),
        update=lambda _changes: graph.update_admin_grant(primary["id"], scopes),
        delete=lambda: graph.delete_admin_grant(primary["id"]),
    )
    for duplicate in grants[1:]:
        changes.ensure(
            "%s (duplicate %s)" % (label, duplicate["id"]),
            view(grant_scopes(duplicate)),
            None,
            delete=lambda grant_id=duplicate["id"]: graph.delete_admin_grant(grant_id),
        )
