"""Who may call what on the emulated Graph: the permission each operation needs, and the caller
and call every resource handler receives.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import directory
from ..odata import GraphError
from ..web import Request

# ----------------------------------------------------------------------------------- permissions
#
# Which permission lets a call through. Each operation lists requirement groups; the token needs
# one permission out of every group. Application tokens are checked against `roles` (the app roles
# assigned to the client's service principal on Microsoft Graph), delegated tokens against `scp`.
#
#   operation                 application permissions (any one of each group)
#   applications.read         Application.Read.All | Application.ReadWrite.All | Directory.Read.All |
#                             Directory.ReadWrite.All
#   applications.write        Application.ReadWrite.All
#   servicePrincipals.read    as applications.read
#   servicePrincipals.write   Application.ReadWrite.All
#   appRoleAssignments.read   as applications.read
#   appRoleAssignments.write  AppRoleAssignment.ReadWrite.All, and also one of applications.read
#                             (Graph answers 403 without the second)
#   grants.read               DelegatedPermissionGrant.Read.All | DelegatedPermissionGrant.ReadWrite.All |
#                             Directory.Read.All | Directory.ReadWrite.All
#   grants.write              DelegatedPermissionGrant.ReadWrite.All
#   policies.read             Policy.Read.All | Policy.ReadWrite.ApplicationConfiguration
#   users.read                User.Read.All | User.ReadWrite.All | Directory.Read.All | Directory.ReadWrite.All
#                             (not User.ReadBasic.All: as an app role it gives 403 on /users)
#   groups.read               Group.Read.All | Group.ReadWrite.All | Directory.Read.All | Directory.ReadWrite.All
#   members.read              groups.read | GroupMember.Read.All
#   domains.read              Domain.Read.All | Directory.Read.All | Directory.ReadWrite.All
#   organization.read         Organization.Read.All | Directory.Read.All | Directory.ReadWrite.All
#
# Delegated tokens use the same names; in addition Directory.AccessAsUser.All satisfies every
# group, User.ReadBasic.All reads users, and /me needs User.Read (or any users.read scope).

_APPLICATION_READ = ("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
_DIRECTORY_READ = ("Directory.Read.All", "Directory.ReadWrite.All")
PERMISSIONS = {
    "applications.read": (_APPLICATION_READ,),
    "applications.write": (("Application.ReadWrite.All",),),
    "servicePrincipals.read": (_APPLICATION_READ,),
    "servicePrincipals.write": (("Application.ReadWrite.All",),),
    "appRoleAssignments.read": (_APPLICATION_READ,),
    "appRoleAssignments.write": (("AppRoleAssignment.ReadWrite.All",), _APPLICATION_READ),
    "grants.read": (("DelegatedPermissionGrant.Read.All", "DelegatedPermissionGrant.ReadWrite.All", *_DIRECTORY_READ),),
    "grants.write": (("DelegatedPermissionGrant.ReadWrite.All",),),
    "policies.read": (("Policy.Read.All", "Policy.ReadWrite.ApplicationConfiguration"),),
    "users.read": (("User.Read.All", "User.ReadWrite.All", *_DIRECTORY_READ),),
    "groups.read": (("Group.Read.All", "Group.ReadWrite.All", *_DIRECTORY_READ),),
    "members.read": (("GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", *_DIRECTORY_READ),),
    "domains.read": (("Domain.Read.All", *_DIRECTORY_READ),),
    "organization.read": (("Organization.Read.All", *_DIRECTORY_READ),),
}
DELEGATED_EXTRA = {"users.read": ("User.ReadBasic.All",)}
DELEGATED_ALL = "Directory.AccessAsUser.All"


@dataclass
class Caller:
    app_id: str
    permissions: frozenset
    delegated: bool
    user_id: str | None


@dataclass
class Call:
    request: Request
    tenant: directory.Tenant
    caller: Caller

    @property
    def method(self) -> str:
        return self.request.method


def insufficient_privileges() -> GraphError:
    return GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def require(call: Call, operation: str) -> None:
    """403 unless the caller's token carries one permission of every group the operation needs."""
    caller = call.caller
    for group in PERMISSIONS[operation]:
        allowed = set(group)
        if caller.delegated:
            allowed |= {DELEGATED_ALL, *DELEGATED_EXTRA.get(operation, ())}
        if not allowed & caller.permissions:
            raise insufficient_privileges()
