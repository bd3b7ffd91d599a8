"""The collection's sync rules (plugins/module_utils/_sync.py) and the sandbox's own copy (sandbox/moduscloud/sync_rules.py)
agree on one generated directory under every combination of the service's boolean settings the rules read (the
default roles taking turns).

The two copies are independent on purpose (a shared one would make a wrong rule agree with itself); this test is
what makes a rule added to one and not the other fail. The emulated service runs its real scheduled sync, with the
sign-in and Graph answered from memory (OfflineService overrides the two methods that make requests), so that the
hundreds of runs take seconds. Not the one Graph fake served over HTTP (FakeGraph behind FakeSignIn, tests/sandbox/fake_http.py)
on purpose: this test compares the rules, not the requests (those are tests/sandbox/test_moduscloud_service.py's subject),
and a token request plus a Graph round trip per list and group in each of the hundreds of runs would multiply its time.
"""

import itertools
import json
import random

from requests.structures import CaseInsensitiveDict

from plugins.module_utils._sync import SWITCHES, reconcile
from sandbox.moduscloud import ModusCloudService
from sandbox.moduscloud.sync_rules import SETTINGS_READ
from sandbox.moduscloud.wire import AZURE_SETTINGS, SYNC_ROLES, as_options, kb_settings_wire

ORG = "contoso.example"
OTHER = "fabrikam.example"  # a second domain of the tenant and the organization
ELSEWHERE = "elsewhere.example"  # neither the tenant's nor the organization's
ADMIN = "admin@" + ORG
PASSWORD = "local-admin-pass-1"
APP_ID = "11111111-2222-3333-4444-555555555555"
KEY = "fake-client-secret-value"
GRAPH_USER = "#microsoft.graph.user"
SKIP_REASONS = (
    "guest",
    "no_mail",
    "duplicate_mail",
    "domain_missing",
    "exempt",
    "unlicensed",
    "disabled",
    "alias_domain_missing",
    "protected",
    "address_in_use",
    "not_mail_or_security",
)


class OfflineService(ModusCloudService):
    """The emulated service whose scheduled sync signs in and reads Graph from `directory` rather than over HTTP:
    what it reads, and everything after, is the service's own code."""

    def __init__(self, directory):
        super().__init__(login_url="http://login.invalid", graph_url="http://graph.invalid", ca_bundle="/nonexistent/ca.pem")
        self.directory = directory

    def _acquire_token(self, session, settings, key):
        assert (settings["application_id"], key) == (APP_ID, KEY)
        return "token"

    def _graph_list(self, session, auth, path):
        path = path.split("?")[0]
        if path == "/v1.0/domains":
            return [{"id": name, "isVerified": True} for name in self.directory["tenant_domains"]]
        if path == "/v1.0/users":
            return self.directory["users"]
        if path == "/v1.0/groups":
            return [dict((k, v) for k, v in group.items() if k != "members") for group in self.directory["groups"]]
        group_id = path.split("/")[3]
        return next(group["members"] for group in self.directory["groups"] if group["id"] == group_id)


def generated_directory(seed, size=40):
    """Entra users and groups, the organization's users and the exemptions: every case the rules tell apart
    (guests, no or bad mail, duplicates, missing domains, disabled, unlicensed, aliases held by others, protected
    types, stale users), drawn at random so that they also meet in combinations nobody wrote down."""
    rng = random.Random(seed)
    users, org_users = [], []
    addresses = ["u%d@%s" % (index, rng.choice((ORG, ORG, OTHER))) for index in range(size)]
    for index in range(size):
        mail = rng.choice([addresses[index]] * 12 + [None, "not-an-address", "u%d@%s" % (index, ELSEWHERE), addresses[rng.randrange(size)]])
        # Secondary addresses: its own (which an org user may hold), another user's, or on a domain the org lacks.
        pool = ("a%d@%s" % (index, ORG), "a%d@%s" % (index, ORG), addresses[rng.randrange(size)], "a%d@%s" % (index, ELSEWHERE))
        aliases = sorted(set(rng.choice(pool) for _ in range(rng.choice((0, 0, 1, 2)))))
        users.append(
            {
                "id": "id-%d" % index,
                "userPrincipalName": "u%d@contoso.onmicrosoft.com" % index,
                "displayName": "User %d" % index,
                "givenName": rng.choice(("Ann", "Bob", None)),
                "surname": rng.choice(("Lee", "")),
                "mail": mail,
                "proxyAddresses": (["SMTP:" + mail] if mail else []) + ["smtp:" + alias for alias in aliases] + ["SIP:" + addresses[index]],
                "accountEnabled": rng.random() > 0.15,
                "userType": "Member" if rng.random() > 0.08 else "Guest",
                "assignedLicenses": [{"skuId": "sku-1"}] if rng.random() > 0.15 else [],
            }
        )
    free_aliases = ["a%d@%s" % (index, ORG) for index in range(size)]  # each held by one org user at most
    rng.shuffle(free_aliases)
    for address in sorted(set(rng.sample(addresses, size // 2))) + ["gone%d@%s" % (index, ORG) for index in range(5)]:
        org_users.append(
            {
                "primary_email": address,
                "firstname": rng.choice(("Ann", "Bob", "")),
                "surname": rng.choice(("Lee", "")),
                "alias_emails": [free_aliases.pop() for _ in range(rng.choice((0, 0, 1)))],
                "is_active": rng.random() > 0.2,
                "type": rng.choice(("end_user", "end_user", "silent_user", "functional_account", "organization_admin")),
            }
        )
    groups = []
    for index, (mail_enabled, security_enabled) in enumerate([(True, False), (False, True), (True, True), (False, False)] * 2):
        members = [{"@odata.type": GRAPH_USER, "id": "id-%d" % rng.randrange(size)} for _ in range(rng.randrange(6))]
        members.append({"@odata.type": "#microsoft.graph.group", "id": "group-0"})
        groups.append(
            {
                "id": "group-%d" % index,
                "displayName": "Group %d" % index,
                "mail": "group%d@%s" % (index, ORG) if mail_enabled else None,
                "mailEnabled": mail_enabled,
                "securityEnabled": security_enabled,
                "groupTypes": ["Unified"] if mail_enabled and not security_enabled and index > 3 else [],
                "members": members,
            }
        )
    exemptions = rng.sample(addresses, 4) + ["gone0@" + ORG]
    return {"tenant_domains": [ORG, OTHER], "users": users, "groups": groups, "org_users": org_users, "exemptions": exemptions}


def call(service, method, path, body=None):
    headers = CaseInsensitiveDict({"host": "moduscloud.test", "x-user": ADMIN, "x-password": PASSWORD})
    status, _, out = service.handle(method, "/api/v1/orgs/%s%s" % (ORG, path), {}, headers, json.dumps(body).encode() if body is not None else b"")
    return status, (json.loads(out) if out else None)


def organization(directory):
    """A fresh service holding the directory's organization."""
    service = OfflineService(directory)
    service.add_org(domain=ORG, admin_user=ADMIN, admin_password=PASSWORD, domains=[OTHER])
    assert call(service, "POST", "/users", directory["org_users"])[0] == 201
    assert call(service, "PUT", "/settings/azure/exemptions", {"exemptions": ",".join(directory["exemptions"])})[0] == 204
    return service


def users_by_email(service):
    return dict((user["primary_email"], user) for user in call(service, "GET", "/users")[1]["users"])


def by_email(user):
    return user["primary_email"]


def changed(user, changes, fields):
    """The fields of an org user once a report's changes are made."""
    return dict((key, changes[key]["after"] if key in changes else user[key]) for key in fields)


def identified(entries):
    return sorted((entry["object"], entry["reason"], entry.get("address") or entry.get("upn") or entry.get("name") or entry.get("id")) for entry in entries)


def disagreement(directory, before, settings):
    """What the service's sync did that the collection's report did not say (None when they agree), and the skip
    reasons of the report; `before` is the organization's users as the API lists them before the sync."""
    service = organization(directory)
    report = reconcile(
        entra_users=directory["users"],
        entra_groups=directory["groups"],
        tenant_domains=directory["tenant_domains"],
        settings=as_options(settings),
        exemptions=directory["exemptions"],
        org_domains=[ORG, OTHER],
        org_users=list(before.values()),
    )
    assert call(service, "PUT", "/settings/azure", dict(settings, ad_key=KEY))[0] == 204
    (sync,) = service.advance_clock(1)["syncs"]
    assert sync["ok"], sync
    after = users_by_email(service)
    synced = ("firstname", "surname", "alias_emails", "is_active", "type")
    seen = {
        "add": sorted((dict(((key, after[email][key]) for key in synced), primary_email=email) for email in set(after) - set(before)), key=by_email),
        "remove": sorted(set(before) - set(after)),
        "change": sorted((email, dict((key, after[email][key]) for key in synced[:4])) for email in set(before) & set(after) if before[email] != after[email]),
        "skipped": identified(sync["skipped"]),
    }
    said = {
        "add": sorted(report["users"]["add"], key=by_email),
        "remove": sorted(user["primary_email"] for user in report["users"]["remove"]),
        "change": sorted(
            (entry["primary_email"], changed(before[entry["primary_email"]], entry["changes"], synced[:4])) for entry in report["users"]["change"]
        ),
        "skipped": identified(report["skipped"]),
    }
    if settings["add_groups"]:  # the report lists the groups in scope; the service imports them into an org that has none
        seen["groups"] = sorted((g["name"], g["kind"], g["address"], g["members"]) for g in service.snapshot()["orgs"][ORG]["groups"])
        said["groups"] = sorted((g["name"], g["kind"], g["address"], g["members"]) for g in report["groups"])
    differing = dict((part, {"service": seen[part], "collection": said[part]}) for part in seen if seen[part] != said[part])
    return differing or None, set(entry["reason"] for entry in report["skipped"])


def rule_flags():
    """The boolean settings (the service's keys) either copy of the rules reads: the sandbox's SETTINGS_READ and the
    collection's sync switches (_sync.SWITCHES, by option name). A setting neither reads (disable_login) changes no
    sync, so it keeps its KB value and costs no combinations."""
    return [setting.key for setting in AZURE_SETTINGS if isinstance(setting.kb_value, bool) and (setting.key in SETTINGS_READ or setting.option in SWITCHES)]


def test_the_service_does_what_the_collection_predicts_under_every_setting():
    directory = generated_directory(seed=5)
    before = users_by_email(organization(directory))
    flags = rule_flags()
    checked, seen_reasons = 0, set()
    for number, values in enumerate(itertools.product((False, True), repeat=len(flags))):
        role = SYNC_ROLES[number % len(SYNC_ROLES)]  # the roles take turns, so each meets about half the combinations
        settings = dict(kb_settings_wire(ORG, APP_ID), default_user_role_name=role, **dict(zip(flags, values)))
        differing, reasons = disagreement(directory, before, settings)
        assert differing is None, "settings %s: %s" % (settings, json.dumps(differing, indent=1, default=str)[:4000])
        seen_reasons.update(reasons)
        checked += 1
    assert checked == 2 ** len(flags)
    # The directory meets every case the rules tell apart: a rule with a new skip reason adds the reason to
    # SKIP_REASONS, and its case to generated_directory unless the directory meets it already.
    assert seen_reasons == set(SKIP_REASONS), "skip reasons met but not listed: %s; listed but not met: %s" % (
        sorted(seen_reasons - set(SKIP_REASONS)),
        sorted(set(SKIP_REASONS) - seen_reasons),
    )


def test_only_the_settings_the_rules_read_are_varied():
    flags = rule_flags()
    assert "disable_login" not in flags  # allow_microsoft_sign_in: the users' sign-in, not the sync
    assert set(SETTINGS_READ) - set(flags) == {"default_user_role_name"}  # a string setting: the roles take turns
