"""The sandbox's directory state: tenants with their domains, users, groups, applications,
service principals, consent objects and app-management policy (the shapes of new Graph objects: shapes.py).

Applications, service principals, app role assignments and grants are kept as Graph-shaped
dicts (few, rich objects); users and groups as compact slotted objects rendered on demand, so a
tenant of 100,000 users loads in seconds and a page costs only its own objects.
"""

from __future__ import annotations

import base64
import bisect
import datetime
import hashlib
import itertools
import os
import secrets
import string
import uuid
from dataclasses import dataclass, field

from . import catalog
from .tls import KeyPair

UTC = datetime.timezone.utc
SECRET_ALPHABET = string.ascii_letters + string.digits + "~._-"


# ----------------------------------------------------------------------------------- time


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text) -> datetime.datetime:
    """ISO 8601 as Graph accepts it; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(text)
    moment = datetime.datetime.fromisoformat(text.replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def add_years(moment: datetime.datetime, years: int) -> datetime.datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def new_id() -> str:
    return str(uuid.uuid4())


def opaque_id() -> str:
    """The shape of appRoleAssignment and oauth2PermissionGrant ids: 43 base64url characters."""
    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


def new_secret_text() -> str:
    """40 characters, like Entra's: 3 random, the "8Q~" marker, 34 random."""
    pick = secrets.choice
    return "".join(pick(SECRET_ALPHABET) for _ in range(3)) + "8Q~" + "".join(pick(SECRET_ALPHABET) for _ in range(34))


def secret_digest(secret_text: str) -> str:
    return hashlib.sha256(secret_text.encode()).hexdigest()


# ----------------------------------------------------------------------------------- ordered store


class Ordered:
    """Objects by id, in creation order, with stable positions for paging: a $skiptoken remembers
    the position of the last object served, so deletions between pages never skip or repeat one."""

    def __init__(self):
        self._objects = {}
        self._ids = []
        self._positions = []
        self._position_of = {}
        self._counter = itertools.count(1)

    def add(self, object_id: str, obj) -> None:
        position = next(self._counter)
        self._objects[object_id] = obj
        self._ids.append(object_id)
        self._positions.append(position)
        self._position_of[object_id] = position

    def get(self, object_id):
        return self._objects.get(object_id)

    def remove(self, object_id: str) -> None:
        index = bisect.bisect_left(self._positions, self._position_of.pop(object_id))
        del self._ids[index]
        del self._positions[index]
        del self._objects[object_id]

    def __contains__(self, object_id) -> bool:
        return object_id in self._objects

    def __len__(self) -> int:
        return len(self._objects)

    def values(self):
        return self._objects.values()

    def entries(self, after: int):
        """(position, object) pairs after `after`, in order."""
        start = bisect.bisect_right(self._positions, after)
        ids, positions, objects = self._ids, self._positions, self._objects
        for index in range(start, len(ids)):
            yield positions[index], objects[ids[index]]


# ----------------------------------------------------------------------------------- users and groups


class User:
    __slots__ = (
        "id",
        "user_principal_name",
        "display_name",
        "given_name",
        "surname",
        "mail",
        "mail_nickname",
        "proxy_addresses",
        "account_enabled",
        "user_type",
        "licensed",
        "job_title",
        "created",
    )

    def __init__(
        self,
        *,
        id,
        user_principal_name,
        display_name,
        given_name,
        surname,
        mail,
        proxy_addresses=(),
        account_enabled=True,
        user_type="Member",
        licensed=True,
        job_title=None,
        created="2024-01-15T09:00:00Z",
        mail_nickname=None,
    ):
        self.id = id
        self.user_principal_name = user_principal_name
        self.display_name = display_name
        self.given_name = given_name
        self.surname = surname
        self.mail = mail
        self.mail_nickname = mail_nickname or user_principal_name.split("@")[0]
        self.proxy_addresses = tuple(proxy_addresses)
        self.account_enabled = account_enabled
        self.user_type = user_type
        self.licensed = licensed
        self.job_title = job_title
        self.created = created


def _licenses(user: User) -> list:
    return [{"disabledPlans": [], "skuId": catalog.OFFICE_365_E3_SKU_ID}] if user.licensed else []


USER_PROPERTIES = {
    "id": lambda u: u.id,
    "businessPhones": lambda u: [],
    "displayName": lambda u: u.display_name,
    "givenName": lambda u: u.given_name,
    "jobTitle": lambda u: u.job_title,
    "mail": lambda u: u.mail,
    "mobilePhone": lambda u: None,
    "officeLocation": lambda u: None,
    "preferredLanguage": lambda u: None,
    "surname": lambda u: u.surname,
    "userPrincipalName": lambda u: u.user_principal_name,
    "accountEnabled": lambda u: u.account_enabled,
    "assignedLicenses": _licenses,
    "createdDateTime": lambda u: u.created,
    "mailNickname": lambda u: u.mail_nickname,
    "otherMails": lambda u: [],
    "proxyAddresses": lambda u: list(u.proxy_addresses),
    "userType": lambda u: u.user_type,
    "companyName": lambda u: None,
    "department": lambda u: None,
    "usageLocation": lambda u: "US" if u.user_type == "Member" else None,
}
# What GET /users returns without $select (Graph v1.0 default set).
USER_DEFAULT = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
USER_FIELDS = {
    "displayName": "display_name",
    "givenName": "given_name",
    "surname": "surname",
    "mail": "mail",
    "userPrincipalName": "user_principal_name",
    "proxyAddresses": "proxy_addresses",
    "accountEnabled": "account_enabled",
    "userType": "user_type",
    "jobTitle": "job_title",
    "mailNickname": "mail_nickname",
}


class Group:
    __slots__ = (
        "id",
        "display_name",
        "description",
        "mail",
        "mail_enabled",
        "security_enabled",
        "group_types",
        "mail_nickname",
        "proxy_addresses",
        "members",
        "created",
        "visibility",
    )

    def __init__(
        self,
        *,
        id,
        display_name,
        mail,
        mail_enabled,
        security_enabled,
        group_types=(),
        mail_nickname=None,
        proxy_addresses=(),
        members=(),
        description=None,
        created="2024-01-15T09:00:00Z",
        visibility=None,
    ):
        self.id = id
        self.display_name = display_name
        self.description = description
        self.mail = mail
        self.mail_enabled = mail_enabled
        self.security_enabled = security_enabled
        self.group_types = tuple(group_types)
        self.mail_nickname = mail_nickname or (mail.split("@")[0] if mail else display_name.replace(" ", ""))
        self.proxy_addresses = tuple(proxy_addresses)
        self.members = list(members)
        self.created = created
        self.visibility = visibility


GROUP_PROPERTIES = {
    "id": lambda g: g.id,
    "deletedDateTime": lambda g: None,
    "classification": lambda g: None,
    "createdDateTime": lambda g: g.created,
    "creationOptions": lambda g: [],
    "description": lambda g: g.description,
    "displayName": lambda g: g.display_name,
    "expirationDateTime": lambda g: None,
    "groupTypes": lambda g: list(g.group_types),
    "isAssignableToRole": lambda g: None,
    "mail": lambda g: g.mail,
    "mailEnabled": lambda g: g.mail_enabled,
    "mailNickname": lambda g: g.mail_nickname,
    "membershipRule": lambda g: None,
    "membershipRuleProcessingState": lambda g: None,
    "onPremisesSyncEnabled": lambda g: None,
    "preferredDataLocation": lambda g: None,
    "proxyAddresses": lambda g: list(g.proxy_addresses),
    "renewedDateTime": lambda g: g.created,
    "resourceBehaviorOptions": lambda g: [],
    "resourceProvisioningOptions": lambda g: [],
    "securityEnabled": lambda g: g.security_enabled,
    "securityIdentifier": lambda g: None,
    "visibility": lambda g: g.visibility,
}
GROUP_DEFAULT = tuple(GROUP_PROPERTIES)
GROUP_FIELDS = {
    "displayName": "display_name",
    "description": "description",
    "mail": "mail",
    "mailEnabled": "mail_enabled",
    "securityEnabled": "security_enabled",
    "groupTypes": "group_types",
    "mailNickname": "mail_nickname",
    "proxyAddresses": "proxy_addresses",
    "visibility": "visibility",
}


def render(obj, properties: dict, default: tuple, select) -> dict:
    return {name: properties[name](obj) for name in (select or default)}


# ----------------------------------------------------------------------------------- tenant


@dataclass
class TenantIdentity:
    """What stays the same for a tenant across POST /reset: ids and credentials handed out."""

    name: str
    tenant_id: str
    admin_app_id: str
    admin_app_object_id: str
    admin_sp_id: str
    admin_secret: str
    admin_secret_key_id: str
    admin_certificate: KeyPair
    admin_certificate_path: str
    moduscloud_password: str
    # Secretless sign-ins: a managed identity (a service principal without an app registration) and a
    # user-assigned identity whose federated credential trusts the sandbox's token issuer (workload identity).
    managed_identity_app_id: str = field(default_factory=lambda: new_id())
    managed_identity_sp_id: str = field(default_factory=lambda: new_id())
    federated_app_id: str = field(default_factory=lambda: new_id())
    federated_sp_id: str = field(default_factory=lambda: new_id())

    @property
    def federated_subject(self) -> str:
        return f"system:serviceaccount:{self.name}:ansible-controller"

    @property
    def default_domain(self) -> str:
        return f"{self.name}.example"

    @property
    def initial_domain(self) -> str:
        return f"{self.name}.onmicrosoft.com"

    @property
    def display_name(self) -> str:
        return self.name.capitalize()

    @property
    def moduscloud_admin(self) -> str:
        return f"admin@{self.default_domain}"


class Tenant:
    def __init__(self, identity: TenantIdentity):
        self.identity = identity
        self.id = identity.tenant_id
        self.display_name = identity.display_name
        self.domains = [
            {"id": identity.default_domain, "isDefault": True, "isInitial": False},
            {"id": identity.initial_domain, "isDefault": False, "isInitial": True},
        ]
        self.created = utcnow() - datetime.timedelta(days=30)
        self.applications = Ordered()
        self.service_principals = Ordered()
        self.app_role_assignments = Ordered()
        self.grants = Ordered()
        self.users = Ordered()
        self.groups = Ordered()
        self.users_by_upn = {}
        self.secrets = {}  # keyId -> (sha256 of secretText, when it was added)
        self.password_policy = None  # {"max_lifetime_days": int, "restrict_after": str}
        self.lagging = {}  # object id -> requests left during which it is still invisible
        self.admin_user_id = None
        self.graph_sp_id = None
        self.device_codes = {}
        self.federated_credentials = {}  # app id -> [{"subject", "audiences"}] (issuer: the sandbox's)
        self.refresh_tokens = {}

    # --- lookups

    def domain_names(self) -> list:
        return [domain["id"] for domain in self.domains]

    def is_verified_host(self, host: str) -> bool:
        host = host.lower()
        return any(host == name or host.endswith("." + name) for name in self.domain_names())

    def app_by_app_id(self, app_id: str):
        return next((app for app in self.applications.values() if app["appId"].lower() == app_id.lower()), None)

    def app_by_unique_name(self, unique_name: str):
        return next((app for app in self.applications.values() if (app.get("uniqueName") or "").lower() == unique_name.lower()), None)

    def sp_by_app_id(self, app_id: str):
        return next((sp for sp in self.service_principals.values() if sp["appId"].lower() == app_id.lower()), None)

    def user(self, key: str):
        return self.users.get(key) or self.users_by_upn.get(key.lower())

    def invisible(self, object_id: str) -> bool:
        """Read-after-write lag: True while a just-created object is not yet visible; each call
        counts as one request that failed to see it."""
        remaining = self.lagging.get(object_id)
        if not remaining:
            return False
        if remaining <= 1:
            del self.lagging[object_id]
        else:
            self.lagging[object_id] = remaining - 1
        return True

    # --- mutation helpers shared by Graph and the control API

    def add_user(self, user: User) -> None:
        self.users.add(user.id, user)
        self.users_by_upn[user.user_principal_name.lower()] = user

    def remove_user(self, user: User) -> None:
        self.users.remove(user.id)
        self.users_by_upn.pop(user.user_principal_name.lower(), None)
        for group in self.groups.values():
            if user.id in group.members:
                group.members.remove(user.id)

    def remove_group(self, group: Group) -> None:
        self.groups.remove(group.id)
        for other in self.groups.values():
            if group.id in other.members:
                other.members.remove(group.id)

    def remove_service_principal(self, sp: dict) -> None:
        """Deleting a service principal also removes the consent given to or by it."""
        self.service_principals.remove(sp["id"])
        self.lagging.pop(sp["id"], None)
        for assignment in list(self.app_role_assignments.values()):
            if sp["id"] in (assignment["principalId"], assignment["resourceId"]):
                self.app_role_assignments.remove(assignment["id"])
        for grant in list(self.grants.values()):
            if sp["id"] in (grant["clientId"], grant["resourceId"]):
                self.grants.remove(grant["id"])

    def sync_service_principal(self, app: dict) -> None:
        """Entra copies these app properties to the app's service principal in its home tenant."""
        sp = self.sp_by_app_id(app["appId"])
        if sp is not None:
            sp.update(mirrored_app_properties(app))

    def remove_application(self, app: dict) -> None:
        """Deleting an app registration deletes its service principal in the home tenant too."""
        self.applications.remove(app["id"])
        self.lagging.pop(app["id"], None)
        for credential in app["passwordCredentials"]:
            self.secrets.pop(credential["keyId"], None)
        sp = self.sp_by_app_id(app["appId"])
        if sp is not None:
            self.remove_service_principal(sp)

    def granted_roles(self, sp_id: str, resource_sp_id: str) -> list:
        """Values of the app roles assigned to `sp_id` on the resource service principal."""
        resource = self.service_principals.get(resource_sp_id)
        if resource is None:
            return []
        values = {role["id"]: role["value"] for role in self.sp_app_roles(resource)}
        return sorted(
            {
                values[a["appRoleId"]]
                for a in self.app_role_assignments.values()
                if a["principalId"] == sp_id and a["resourceId"] == resource_sp_id and a["appRoleId"] in values
            }
        )

    def sp_app_roles(self, sp: dict) -> list:
        """An app-backed service principal shows the app roles its application defines."""
        app = self.app_by_app_id(sp["appId"]) if sp["appOwnerOrganizationId"] == self.id else None
        return app["appRoles"] if app is not None else sp["appRoles"]

    def sp_scopes(self, sp: dict) -> list:
        app = self.app_by_app_id(sp["appId"]) if sp["appOwnerOrganizationId"] == self.id else None
        return app["api"]["oauth2PermissionScopes"] if app is not None else sp["oauth2PermissionScopes"]

    def counts(self) -> dict:
        return {
            "users": len(self.users),
            "groups": len(self.groups),
            "applications": len(self.applications),
            "servicePrincipals": len(self.service_principals),
            "appRoleAssignments": len(self.app_role_assignments),
            "oauth2PermissionGrants": len(self.grants),
        }


def mirrored_app_properties(app: dict) -> dict:
    """What a service principal shows of its application (kept in step by Tenant.sync_service_principal)."""
    return {
        "appDisplayName": app["displayName"],
        "signInAudience": app["signInAudience"],
        "servicePrincipalNames": [app["appId"], *app["identifierUris"]],
        "replyUrls": list(app["web"]["redirectUris"]),
        "homepage": app["web"]["homePageUrl"],
    }
