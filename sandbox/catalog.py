"""Well-known Microsoft identifiers the sandbox seeds into every tenant.

Every id here is real; none is made up. Sources:
- [MI] merill/microsoft-info @ 43b8a5d9 (2026-08-20): _info/GraphAppRoles.json and
  _info/GraphDelegateRoles.json, an export of the Microsoft Graph service principal's appRoles and
  oauth2PermissionScopes; _info/MicrosoftApps.csv for first-party app ids and owner tenants.
- [SKU] Microsoft's "product names and service plan identifiers for licensing" table
  (Office 365 E3 = ENTERPRISEPACK), as quoted in several public scripts.
Display names are the short labels of [MI]; descriptions are the sandbox's own.
"""

from __future__ import annotations

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
AAD_GRAPH_APP_ID = "00000002-0000-0000-c000-000000000000"
MICROSOFT_SERVICES_TENANT_ID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"  # [MI] owner of both APIs

# A first-party public client that exists as a service principal in every tenant; admins use it
# for device-code sign-in ("Connect-MgGraph"). [MI] MicrosoftApps.csv
GRAPH_CLI_APP_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
GRAPH_CLI_DISPLAY_NAME = "Microsoft Graph Command Line Tools"
GRAPH_CLI_OWNER_TENANT_ID = "cdc5aeea-15c5-4db6-b079-fcadd2505dc2"

OFFICE_365_E3_SKU_ID = "6fd2c87f-b296-42f0-b197-1e91e994b900"  # [SKU]

# Microsoft Graph application permissions: (value, id, displayName). [MI].
GRAPH_APP_ROLES = (
    ("Application.Read.All", "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Read all applications"),
    ("Application.ReadWrite.All", "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Read and write all applications"),
    ("Application.ReadWrite.OwnedBy", "18a4783c-866b-4cc7-a460-3d5e5662c884", "Manage apps that this app creates or owns"),
    ("AppRoleAssignment.ReadWrite.All", "06b708a9-e830-4db3-a914-8e69da51d44f", "Manage app permission grants and app role assignments"),
    ("DelegatedPermissionGrant.Read.All", "81b4724a-58aa-41c1-8a55-84ef97466587", "Read all delegated permission grants"),
    ("DelegatedPermissionGrant.ReadWrite.All", "8e8e4742-1d95-4f68-9d56-6ee75648c72a", "Manage all delegated permission grants"),
    ("Directory.Read.All", "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Read directory data"),
    ("Directory.ReadWrite.All", "19dbc75e-c2e2-444c-a770-ec69d8559fc7", "Read and write directory data"),
    ("Domain.Read.All", "dbb9058a-0e50-45d7-ae91-66909b5d4664", "Read domains"),
    ("Group.Read.All", "5b567255-7703-4780-807c-7be8301ae99b", "Read all groups"),
    ("Group.ReadWrite.All", "62a82d76-70ea-41e2-9197-370581804d09", "Read and write all groups"),
    ("GroupMember.Read.All", "98830695-27a2-44f7-8c18-0c3ebc9698f6", "Read all group memberships"),
    ("Organization.Read.All", "498476ce-e0fe-48b0-b801-37ba7e2685c6", "Read organization information"),
    ("Policy.Read.All", "246dd0d5-5bd0-4def-940b-0421030a5b68", "Read your organization's policies"),
    (
        "Policy.ReadWrite.ApplicationConfiguration",
        "be74164b-cff1-491c-8741-e671cb536e13",
        "Read and write your organization's application configuration policies",
    ),
    ("User.Read.All", "df021288-bdef-4463-88db-98f22de89214", "Read all users' full profiles"),
    ("User.ReadBasic.All", "97235f07-e226-4f63-ace3-39588e11d3a1", "Read all users' basic profiles"),
    ("User.ReadWrite.All", "741f803b-c850-494e-b5df-cde7c675a1ca", "Read and write all users' full profiles"),
    ("Mail.Read", "810c84a8-4a9e-49e6-bf7d-12d183f40d01", "Read mail in all mailboxes"),
    ("Mail.Send", "b633e1c5-b582-4048-a93e-9f11b44c7e96", "Send mail as any user"),
)

# Microsoft Graph delegated permissions: (value, id, type, adminConsentDisplayName). [MI].
GRAPH_SCOPES = (
    ("openid", "37f7f235-527c-4136-accd-4a02d197296e", "User", "Sign users in"),
    ("profile", "14dad69e-099b-42c9-810b-d002981feec1", "User", "View users' basic profile"),
    ("email", "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "User", "View users' email address"),
    ("offline_access", "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "User", "Maintain access to data you have given it access to"),
    ("User.Read", "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User", "Sign in and read user profile"),
    ("User.ReadBasic.All", "b340eb25-3456-403f-be2f-af7a0d370277", "User", "Read all users' basic profiles"),
    ("User.Read.All", "a154be20-db9c-4678-8ab7-66f6cc099a59", "Admin", "Read all users' full profiles"),
    ("User.ReadWrite.All", "204e0828-b5ca-4ad8-b9f3-f32a958e7cc4", "Admin", "Read and write all users' full profiles"),
    ("Group.Read.All", "5f8c59db-677d-491f-a6b8-5f174b11ec1d", "Admin", "Read all groups"),
    ("Group.ReadWrite.All", "4e46008b-f24c-477d-8fff-7bb4ec7aafe0", "Admin", "Read and write all groups"),
    ("GroupMember.Read.All", "bc024368-1153-4739-b217-4326f2e966d0", "Admin", "Read group memberships"),
    ("Directory.Read.All", "06da0dbc-49e2-44d2-8312-53f166ab848a", "Admin", "Read directory data"),
    ("Directory.ReadWrite.All", "c5366453-9fb0-48a5-a156-24f0c49a4b84", "Admin", "Read and write directory data"),
    ("Directory.AccessAsUser.All", "0e263e50-5827-48a4-b97c-d940288653c7", "Admin", "Access directory as the signed in user"),
    ("Application.Read.All", "c79f8feb-a9db-4090-85f9-90d820caa0eb", "Admin", "Read applications"),
    ("Application.ReadWrite.All", "bdfbf15f-ee85-4955-8675-146e8e5296b5", "Admin", "Read and write applications"),
    ("AppRoleAssignment.ReadWrite.All", "84bccea3-f856-4a8a-967b-dbe0a3d53a64", "Admin", "Manage app permission grants and app role assignments"),
    ("DelegatedPermissionGrant.Read.All", "a197cdc4-a8e8-4d49-9d35-4ca7c83887b4", "Admin", "Read delegated permission grants"),
    ("DelegatedPermissionGrant.ReadWrite.All", "41ce6ca6-6826-4807-84f1-1c82854f7ee5", "Admin", "Manage all delegated permission grants"),
    ("Policy.Read.All", "572fea84-0151-49b2-9301-11cb16974376", "Admin", "Read your organization's policies"),
    ("Domain.Read.All", "2f9ee017-59c1-4f1d-9472-bd5529a7b311", "Admin", "Read domains."),
    ("Organization.Read.All", "4908d5b9-3fb2-4b1e-9336-1888b7937185", "Admin", "Read organization information"),
    ("Mail.Read", "570282fd-fa5c-430d-a7fd-fc8dc98a9dca", "User", "Read user mail"),
    ("Mail.Send", "e383f46e-2787-4529-855e-0e479a3ffac0", "User", "Send mail as a user"),
)

# Legacy "Windows Azure Active Directory" (Azure AD Graph, retired): only the well-known ids.
AAD_GRAPH_APP_ROLES = (("Directory.Read.All", "5778995a-e1bf-45b8-affa-663a9f3f4d04", "Read directory data"),)
AAD_GRAPH_SCOPES = (
    ("User.Read", "311a71cc-e848-46a1-bdf8-97ff7156d8e6", "User", "Sign in and read user profile"),
    ("Directory.Read.All", "5778995a-e1bf-45b8-affa-663a9f3f4d04", "Admin", "Read directory data"),
)

# The admin automation app of each tenant holds exactly these Microsoft Graph app roles.
ADMIN_APP_ROLES = (
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Directory.Read.All",
    "Policy.Read.All",
)


def app_roles(entries) -> list:
    """Graph appRole objects for application permissions."""
    return [
        {
            "allowedMemberTypes": ["Application"],
            "description": f"{display} (without a signed-in user).",
            "displayName": display,
            "id": role_id,
            "isEnabled": True,
            "origin": "Application",
            "value": value,
        }
        for value, role_id, display in entries
    ]


def permission_scopes(entries) -> list:
    """Graph permissionScope objects for delegated permissions."""
    return [
        {
            "adminConsentDescription": f"{display} (on behalf of the signed-in user).",
            "adminConsentDisplayName": display,
            "id": scope_id,
            "isEnabled": True,
            "type": kind,
            "userConsentDescription": f"{display} (on your behalf).",
            "userConsentDisplayName": display,
            "value": value,
        }
        for value, scope_id, kind, display in entries
    ]
