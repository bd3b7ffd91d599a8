"""Seeding a tenant: Microsoft's service principals, the admin automation app with its consent, the
secretless sign-in identities, and a directory (the small default one, or a generated one of any size).
"""

from __future__ import annotations

import datetime
import gc
import random

from . import catalog
from .directory import Group, Ordered, Tenant, TenantIdentity, User, add_years, new_id, secret_digest
from .shapes import certificate_credential, new_application, new_assignment, new_service_principal, password_credential, service_principal_for

FOREIGN_DOMAIN = "fabrikam.example"  # where the guests come from


def build_tenant(identity: TenantIdentity, *, users: int | None = None, groups: int | None = None, seed: int = 0) -> Tenant:
    """A fresh tenant: Microsoft's service principals, the admin automation app with its consent,
    and a directory (the small default one, or a generated one of `users` and `groups`)."""
    tenant = Tenant(identity)
    created = tenant.created
    graph = new_service_principal(
        catalog.GRAPH_APP_ID,
        "Microsoft Graph",
        owner_tenant_id=catalog.MICROSOFT_SERVICES_TENANT_ID,
        sign_in_audience="AzureADMultipleOrgs",
        app_roles=catalog.app_roles(catalog.GRAPH_APP_ROLES),
        scopes=catalog.permission_scopes(catalog.GRAPH_SCOPES),
        names=["https://graph.microsoft.com", "https://graph.microsoft.us", "https://dod-graph.microsoft.us", "https://microsoftgraph.chinacloudapi.cn"],
    )
    tenant.service_principals.add(graph["id"], graph)
    tenant.graph_sp_id = graph["id"]
    aad_graph = new_service_principal(
        catalog.AAD_GRAPH_APP_ID,
        "Windows Azure Active Directory",
        owner_tenant_id=catalog.MICROSOFT_SERVICES_TENANT_ID,
        sign_in_audience="AzureADMultipleOrgs",
        app_roles=catalog.app_roles(catalog.AAD_GRAPH_APP_ROLES),
        scopes=catalog.permission_scopes(catalog.AAD_GRAPH_SCOPES),
        names=["https://graph.windows.net"],
    )
    tenant.service_principals.add(aad_graph["id"], aad_graph)
    cli = new_service_principal(
        catalog.GRAPH_CLI_APP_ID,
        catalog.GRAPH_CLI_DISPLAY_NAME,
        owner_tenant_id=catalog.GRAPH_CLI_OWNER_TENANT_ID,
        sign_in_audience="AzureADandPersonalMicrosoftAccount",
    )
    tenant.service_principals.add(cli["id"], cli)
    _add_admin_app(tenant, graph, created)
    _add_secretless_identities(tenant, graph, created)
    if users is None and groups is None:
        _default_directory(tenant)
    else:
        generate_directory(tenant, users or 0, groups or 0, seed)
    return tenant


def _add_admin_app(tenant: Tenant, graph: dict, created: datetime.datetime) -> None:
    identity = tenant.identity
    app = new_application(identity.initial_domain, "Sandbox automation", created, object_id=identity.admin_app_object_id, app_id=identity.admin_app_id)
    app["signInAudience"] = "AzureADMyOrg"
    app["description"] = "Automation identity of the sandbox tenant: registers apps and grants consent."
    role_ids = {value: role_id for value, role_id, _ in catalog.GRAPH_APP_ROLES}
    app["requiredResourceAccess"] = [
        {"resourceAppId": catalog.GRAPH_APP_ID, "resourceAccess": [{"id": role_ids[value], "type": "Role"} for value in catalog.ADMIN_APP_ROLES]}
    ]
    secret = password_credential("sandbox admin secret", created, add_years(created, 2), identity.admin_secret, key_id=identity.admin_secret_key_id)
    app["passwordCredentials"].append(secret)
    tenant.secrets[secret["keyId"]] = (secret_digest(identity.admin_secret), created)
    app["keyCredentials"].append(certificate_credential(identity.admin_certificate, "sandbox admin certificate"))
    tenant.applications.add(app["id"], app)
    sp = service_principal_for(tenant, app)
    sp["id"] = identity.admin_sp_id
    tenant.service_principals.add(sp["id"], sp)
    for value in catalog.ADMIN_APP_ROLES:
        assignment = new_assignment(sp, "ServicePrincipal", graph, role_ids[value], created)
        tenant.app_role_assignments.add(assignment["id"], assignment)


FEDERATION_AUDIENCE = "api://AzureADTokenExchange"


def _add_secretless_identities(tenant: Tenant, graph: dict, created: datetime.datetime) -> None:
    """A managed identity and a workload identity, each with the admin app's Graph application permissions."""
    identity = tenant.identity
    role_ids = {value: role_id for value, role_id, _ in catalog.GRAPH_APP_ROLES}
    managed = new_service_principal(
        identity.managed_identity_app_id,
        "sandbox-controller-identity",
        owner_tenant_id=tenant.id,
        sign_in_audience="AzureADMyOrg",
        object_id=identity.managed_identity_sp_id,
    )
    managed["servicePrincipalType"] = "ManagedIdentity"
    managed["alternativeNames"] = [
        "isExplicit=False",
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/sandbox/providers/Microsoft.Compute/virtualMachines/controller",
    ]
    tenant.service_principals.add(managed["id"], managed)
    # The workload identity: a user-assigned managed identity with a federated credential (Entra allows those on
    # an app registration or on a user-assigned identity; an identity keeps the tenant's app list as it was).
    federated = new_service_principal(
        identity.federated_app_id, "sandbox-workload-identity", owner_tenant_id=tenant.id, sign_in_audience="AzureADMyOrg", object_id=identity.federated_sp_id
    )
    federated["servicePrincipalType"] = "ManagedIdentity"
    federated["alternativeNames"] = [
        "isExplicit=True",
        "/subscriptions/00000000-0000-0000-0000-000000000000/"
        "resourcegroups/sandbox/providers/Microsoft.ManagedIdentity/"
        "userAssignedIdentities/ansible-controller",
    ]
    tenant.service_principals.add(federated["id"], federated)
    tenant.federated_credentials[federated["appId"]] = [{"subject": identity.federated_subject, "audiences": [FEDERATION_AUDIENCE]}]
    for principal in (managed, federated):
        for value in catalog.ADMIN_APP_ROLES:
            assignment = new_assignment(principal, "ServicePrincipal", graph, role_ids[value], created)
            tenant.app_role_assignments.add(assignment["id"], assignment)


def _proxies(primary: str, *aliases: str) -> list:
    return [f"SMTP:{primary}"] + [f"smtp:{alias}" for alias in aliases]


def _default_directory(tenant: Tenant) -> None:
    """Eight users and four groups covering every case the modusCloud sync distinguishes."""
    default, initial = tenant.identity.default_domain, tenant.identity.initial_domain

    def member(first, last, nick, *, aliases=(), **extra):
        address = f"{nick}@{default}"
        return User(
            id=new_id(),
            user_principal_name=address,
            display_name=f"{first} {last}",
            given_name=first,
            surname=last,
            mail=address,
            proxy_addresses=_proxies(address, *aliases),
            **extra,
        )

    admin = User(
        id=new_id(),
        user_principal_name=f"admin@{initial}",
        display_name="MOD Administrator",
        given_name="MOD",
        surname="Administrator",
        mail=f"admin@{initial}",
        proxy_addresses=_proxies(f"admin@{initial}"),
        job_title="Global Administrator",
    )
    adele = member("Adele", "Vance", "AdeleV", aliases=(f"adele.vance@{default}", f"AdeleV@{initial}"), job_title="Retail Manager")
    alex = member("Alex", "Wilber", "AlexW", aliases=(f"alex.wilber@{default}",), job_title="Marketing Assistant")
    megan = member("Megan", "Bowen", "MeganB", aliases=(f"MeganB@{initial}",), job_title="Marketing Manager")
    diego = member("Diego", "Siciliani", "DiegoS", account_enabled=False, job_title="HR Manager")
    isaiah = member("Isaiah", "Langer", "IsaiahL", licensed=False, job_title="Sales Rep")
    guest = User(
        id=new_id(),
        user_principal_name=f"pat_{FOREIGN_DOMAIN}#EXT#@{initial}",
        display_name="Pat Partner",
        given_name="Pat",
        surname="Partner",
        mail=f"pat@{FOREIGN_DOMAIN}",
        proxy_addresses=_proxies(f"pat@{FOREIGN_DOMAIN}"),
        user_type="Guest",
        licensed=False,
        mail_nickname=f"pat_{FOREIGN_DOMAIN}#EXT#",
    )
    scanner = User(
        id=new_id(), user_principal_name=f"scanner@{initial}", display_name="Scanner Service", given_name=None, surname=None, mail=None, licensed=False
    )
    for user in (admin, adele, alex, megan, diego, isaiah, guest, scanner):
        tenant.add_user(user)
    tenant.admin_user_id = admin.id

    def group(name, nick, *, mail_enabled, security_enabled, group_types=(), members=()):
        mail = f"{nick}@{default}" if mail_enabled else None
        return Group(
            id=new_id(),
            display_name=name,
            mail=mail,
            mail_enabled=mail_enabled,
            security_enabled=security_enabled,
            group_types=group_types,
            mail_nickname=nick,
            proxy_addresses=_proxies(mail) if mail else (),
            members=[m.id for m in members],
        )

    it_admins = group("IT Admins", "itadmins", mail_enabled=False, security_enabled=True, members=(megan, diego, admin))
    groups = (
        group("Sales", "sales", mail_enabled=True, security_enabled=False, members=(adele, alex)),
        it_admins,
        group("Finance Secure", "finance", mail_enabled=True, security_enabled=True, members=(megan, isaiah, it_admins)),
        group("Project Falcon", "falcon", mail_enabled=True, security_enabled=False, group_types=("Unified",), members=(adele, megan, guest)),
    )
    for item in groups:
        item.visibility = "Private" if item.group_types else None
        tenant.groups.add(item.id, item)


_FIRST = (
    "Adele",
    "Alex",
    "Allan",
    "Bianca",
    "Cameron",
    "Christie",
    "Debra",
    "Diego",
    "Emily",
    "Enrico",
    "Grady",
    "Henrietta",
    "Irvin",
    "Isaiah",
    "Johanna",
    "Joni",
    "Lee",
    "Lidia",
    "Lynne",
    "Megan",
    "Miriam",
    "Nestor",
    "Patti",
    "Pradeep",
    "Raul",
    "Sakura",
    "Yuki",
    "Zrinka",
)
_LAST = (
    "Vance",
    "Wilber",
    "Deyoung",
    "Bowen",
    "Siciliani",
    "Langer",
    "Gray",
    "Sherman",
    "Lee",
    "Lopez",
    "Ramirez",
    "Adams",
    "Brown",
    "Holt",
    "Jensen",
    "Kim",
    "Novak",
    "Okafor",
    "Patel",
    "Quinn",
    "Rossi",
    "Silva",
    "Tanaka",
    "Underwood",
    "Weber",
    "Young",
)
_GROUP_KINDS = (  # (name stem, mailEnabled, securityEnabled, groupTypes)
    ("Distribution", True, False, ()),
    ("Security", False, True, ()),
    ("Mail Security", True, True, ()),
    ("Team", True, False, ("Unified",)),
)


def _uuid(rng: random.Random) -> str:
    """A version-4 UUID from `rng` (formatted by hand: uuid.UUID is the slow part of seeding)."""
    digits = "%032x" % rng.getrandbits(128)
    variant = "89ab"[int(digits[16], 16) & 3]
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


def generate_directory(tenant: Tenant, user_count: int, group_count: int, seed: int = 0) -> None:
    """Replace the directory with a deterministic one: user 0 is the admin; of the others about
    2% are guests, 1% have no mail, 5% are disabled, 5% unlicensed; aliases in both domains."""
    collecting = gc.isenabled()
    gc.disable()  # the cycle collector would rescan the growing heap many times over; nothing here is garbage
    try:
        _generate(tenant, user_count, group_count, seed)
    finally:
        if collecting:
            gc.enable()


def _generate(tenant: Tenant, user_count: int, group_count: int, seed: int) -> None:
    rng = random.Random(seed)
    default, initial = tenant.identity.default_domain, tenant.identity.initial_domain
    tenant.users, tenant.groups, tenant.users_by_upn = Ordered(), Ordered(), {}
    user_ids = []
    for index in range(user_count):
        first, last = _FIRST[index % len(_FIRST)], _LAST[(index // len(_FIRST)) % len(_LAST)]
        nick = f"{first}.{last}{index}"
        address = f"{nick}@{default}"
        kind = rng.random()
        extra = {}
        if index == 0:
            address = f"admin@{initial}"
            user = User(
                id=_uuid(rng),
                user_principal_name=address,
                display_name="MOD Administrator",
                given_name="MOD",
                surname="Administrator",
                mail=address,
                proxy_addresses=_proxies(address),
                job_title="Global Administrator",
            )
        elif kind < 0.02:
            guest_mail = f"{nick}@{FOREIGN_DOMAIN}"
            guest_nick = f"{nick}_{FOREIGN_DOMAIN}#EXT#"
            user = User(
                id=_uuid(rng),
                user_principal_name=f"{guest_nick}@{initial}",
                display_name=f"{first} {last} (guest)",
                given_name=first,
                surname=last,
                mail=guest_mail,
                proxy_addresses=_proxies(guest_mail),
                user_type="Guest",
                licensed=False,
                mail_nickname=guest_nick,
            )
        elif kind < 0.03:
            user = User(
                id=_uuid(rng),
                user_principal_name=f"{nick}@{initial}",
                display_name=f"{first} {last}",
                given_name=first,
                surname=last,
                mail=None,
                licensed=False,
            )
        else:
            if kind < 0.08:
                extra["account_enabled"] = False
            elif kind < 0.13:
                extra["licensed"] = False
            spread = rng.random()
            aliases = ()
            if spread < 0.4:
                aliases = (f"{first}{index}@{default}",)
            elif spread < 0.6:
                aliases = (f"{nick}@{initial}",)
            elif spread < 0.7:
                aliases = (f"{first}{index}@{default}", f"{nick}@{initial}")
            user = User(
                id=_uuid(rng),
                user_principal_name=address,
                display_name=f"{first} {last}",
                given_name=first,
                surname=last,
                mail=address,
                proxy_addresses=_proxies(address, *aliases),
                **extra,
            )
        tenant.add_user(user)
        user_ids.append(user.id)
    tenant.admin_user_id = user_ids[0] if user_ids else None
    group_ids = []
    for index in range(group_count):
        stem, mail_enabled, security_enabled, group_types = _GROUP_KINDS[index % len(_GROUP_KINDS)]
        nick = f"{stem.replace(' ', '').lower()}{index}"
        mail = f"{nick}@{default}" if mail_enabled else None
        members = [user_ids[int(rng.random() * user_count)] for _ in range(int(rng.random() * 13))] if user_count else []
        if security_enabled and group_ids and index % 10 == 1:
            members.append(group_ids[int(rng.random() * len(group_ids))])  # nesting, as security groups allow
        group = Group(
            id=_uuid(rng),
            display_name=f"{stem} {index}",
            mail=mail,
            mail_enabled=mail_enabled,
            security_enabled=security_enabled,
            group_types=group_types,
            mail_nickname=nick,
            proxy_addresses=_proxies(mail) if mail else (),
            members=dict.fromkeys(members),
            visibility="Private" if group_types else None,
        )
        tenant.groups.add(group.id, group)
        group_ids.append(group.id)
