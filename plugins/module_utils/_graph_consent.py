# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Admin consent: a service principal's app role assignments (application permissions) and its
tenant-wide delegated grants, read by permission name and written one object at a time.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError, GraphError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_consistency import (
    object_not_yet_visible,
    reference_not_yet_visible,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import odata_literal


class AdminConsent(object):
    """GraphClient's consent objects (needs self.http and the PermissionCatalogue to name them)."""

    def read_consent(self, principal_id):
        """The admin consent a client service principal holds, per API (resource app id):
        {"application": {permission name: app role assignment}, "grants": [AllPrincipals grants]}."""
        consent = {}
        for assignment in self.list_app_role_assignments(principal_id):
            api = self.resource_api_by_object_id(assignment["resourceId"])
            entry = consent.setdefault(api.app_id, {"application": {}, "grants": []})
            entry["application"][api.name("application", assignment["appRoleId"])] = assignment
        for grant in self.list_admin_grants(principal_id):
            api = self.resource_api_by_object_id(grant["resourceId"])
            consent.setdefault(api.app_id, {"application": {}, "grants": []})["grants"].append(grant)
        return consent

    def list_app_role_assignments(self, principal_id):
        return list(self.http.paged("/servicePrincipals/%s/appRoleAssignments" % principal_id, "list app role assignments of service principal", principal_id))

    def add_app_role_assignment(self, principal_id, resource_id, app_role_id):
        """Grant one application permission; an assignment that already exists is adopted."""
        path = "/servicePrincipals/%s/appRoleAssignments" % principal_id
        try:
            return self.http.json(
                "POST",
                path,
                "grant app role %s to service principal" % app_role_id,
                principal_id,
                json={"principalId": principal_id, "resourceId": resource_id, "appRoleId": app_role_id},
                expected=(201, 200),
                retry_when=reference_not_yet_visible,
            )
        except ApiError as err:
            if not (err.status in (400, 409) and "already exist" in (err.api_message or "")):
                raise
        for assignment in self.list_app_role_assignments(principal_id):
            if assignment["resourceId"] == resource_id and assignment["appRoleId"] == app_role_id:
                return assignment
        raise GraphError("Graph says app role %s is already granted to service principal %s but does not list it" % (app_role_id, principal_id))

    def remove_app_role_assignment(self, principal_id, assignment_id):
        self.http.request(
            "DELETE",
            "/servicePrincipals/%s/appRoleAssignments/%s" % (principal_id, assignment_id),
            "revoke app role assignment %s of service principal" % assignment_id,
            principal_id,
            expected=(204,),
        )

    def list_admin_grants(self, principal_id):
        """The tenant-wide (AllPrincipals) delegated grants of a client service principal (its object id: Graph's
        clientId)."""
        grants = self.http.paged(
            "/oauth2PermissionGrants",
            "list delegated permission grants",
            "of service principal %s" % principal_id,
            params={"$filter": "clientId eq %s" % odata_literal(principal_id)},
        )
        return [grant for grant in grants if grant.get("consentType") == "AllPrincipals"]

    def create_admin_grant(self, principal_id, resource_id, scopes):
        """Grant delegated scopes for all users; Graph allows one such grant per client and API, so an
        existing one (409) is adopted and set to these scopes."""
        body = {"clientId": principal_id, "consentType": "AllPrincipals", "resourceId": resource_id, "scope": " ".join(scopes)}
        try:
            return self.http.json(
                "POST",
                "/oauth2PermissionGrants",
                "grant delegated permissions",
                "to service principal %s" % principal_id,
                json=body,
                expected=(201, 200),
                retry_when=reference_not_yet_visible,
            )
        except ApiError as err:
            if err.status != 409:
                raise
        for grant in self.list_admin_grants(principal_id):
            if grant["resourceId"] == resource_id:
                self.update_admin_grant(grant["id"], scopes)
                return dict(grant, scope=body["scope"])
        raise GraphError("Graph says service principal %s already has a delegated grant for %s but does not list it" % (principal_id, resource_id))

    def update_admin_grant(self, grant_id, scopes):
        self.http.request(
            "PATCH",
            "/oauth2PermissionGrants/%s" % grant_id,
            "update delegated permission grant",
            grant_id,
            json={"scope": " ".join(scopes)},
            expected=(204, 200),
            retry_when=object_not_yet_visible,
        )

    def delete_admin_grant(self, grant_id):
        self.http.request("DELETE", "/oauth2PermissionGrants/%s" % grant_id, "revoke delegated permission grant", grant_id, expected=(204,))


def grant_scopes(grant: dict) -> list:
    """The scope names of a delegated permission grant (Graph keeps them space-separated)."""
    return (grant.get("scope") or "").split()


def granted_permissions(consent: dict) -> dict:
    """read_consent()'s answer by name, in resolve_permissions()' shape: {api app id: {kind: {names}}}."""
    return dict(
        (app_id, {"application": set(entry["application"]), "delegated": set(scope for grant in entry["grants"] for scope in grant_scopes(grant))})
        for app_id, entry in consent.items()
    )
