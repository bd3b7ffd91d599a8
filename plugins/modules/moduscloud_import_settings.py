#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: moduscloud_import_settings
short_description: Configure modusCloud's Azure AD (Entra ID) user import
description:
  - Sets the Azure Active Directory import settings of a modusCloud (Proofpoint Essentials)
    organization, as the console's B(Company Settings > Import Users > Azure Active Directory)
    page does in KB article 2012, modusCloud steps 1 to 4 - primary domain, Application ID, Key,
    what to sync, how to sync, the default role and the sync frequency.
  - Manages the full list of sync exemptions when O(exemptions) is given.
  - Compares what the service returns with what is asked and writes only when they differ.
    The service never returns the key, so O(update_key) decides when it is sent.
  - The API cannot start a sync. The service syncs on its own schedule (O(sync_frequency_hours));
    use M(moduscloud.azure_sync.moduscloud_sync_info) to see when it last succeeded, or
    M(moduscloud.azure_sync.moduscloud_user_sync) to apply the users at once.
version_added: 1.0.0
author:
  - moduscloud.azure_sync maintainers (@moduscloud)
options:
  state:
    description:
      - V(present) saves the settings.
      - V(absent) clears the Azure AD settings (the key included), which stops the service's scheduled sync,
        and then removes every sync exemption, and the synced users when O(remove_synced_users=true).
      - A deletion the service refuses fails with the service's message, and nothing else is removed.
    type: str
    choices: [present, absent]
    default: present
  primary_domain:
    description:
      - The primary mail domain of the Entra tenant. The service finds the tenant through it.
      - It must be one of the organization's domains. In check mode a missing one only warns, since an
        earlier task of the same dry run may be adding it.
      - Required when O(state=present).
    type: str
  application_id:
    description:
      - The Application (client) ID of the Entra app registration, for example the C(app_id) returned
        by M(moduscloud.azure_sync.azure_app_registration).
      - In check mode, the placeholder C(\(known after apply\)) (an application an earlier task would create)
        is accepted, and the settings are predicted with it.
      - Required when O(state=present).
    type: str
  key:
    description:
      - The value of the app's client secret (the console's B(Key)).
      - Required when the settings do not exist yet.
      - Never shown in output, logs or diffs.
    type: str
  update_key:
    description:
      - When to send O(key). The service never returns it, so it cannot be compared.
      - V(on_create) sends it only when the settings are created.
      - V(always) sends it on every run, and the task then always reports a change. Use it with the value
        from M(moduscloud.azure_sync.azure_app_secret) when that module returned one (a secret was
        created or rotated).
    type: str
    choices: [on_create, always]
    default: on_create
  sync_active_users:
    description: Import active users (with their aliases).
    type: bool
    default: true
  sync_distribution_groups:
    description: Import distribution groups.
    type: bool
    default: true
  sync_security_groups:
    description: Import security groups.
    type: bool
    default: true
  add_users:
    description: Add users that are new in Entra ID.
    type: bool
    default: true
  update_users:
    description: Update users that changed in Entra ID.
    type: bool
    default: true
  remove_users:
    description:
      - Delete users that are gone from Entra ID.
      - Off by default, as advised for a first sync - the API has no report to confirm deletions.
    type: bool
    default: false
  add_groups:
    description: Add groups that are new in Entra ID.
    type: bool
    default: true
  update_groups:
    description: Update groups that changed in Entra ID.
    type: bool
    default: true
  remove_groups:
    description:
      - Delete groups that are gone from Entra ID. Off by default, like O(remove_users).
    type: bool
    default: false
  default_user_role:
    description:
      - The role of imported users. V(end_user) receives the digest and a welcome email;
        V(silent_user) receives the digest and cannot log in.
    type: str
    choices: [end_user, silent_user]
    default: end_user
  sync_frequency_hours:
    description:
      - Hours between the service's scheduled syncs, from 0 (never, manual only) to 168. The KB uses 1.
    type: int
    default: 1
  allow_microsoft_sign_in:
    description:
      - Let users sign in to modusCloud with their Microsoft 365 account.
      - Sent to the service as the inverse of its C(disable_login) switch. Newer consoles keep this
        switch under the organization's login settings; if the service does not return it, it is
        sent but not compared (a warning says so).
    type: bool
    default: true
  exemptions:
    description:
      - Addresses the sync must never add, update or remove (for example a disabled Entra account
        that must keep receiving mail).
      - The full list - addresses not listed are removed from the exemptions. V([]) removes them all.
      - Not managed when omitted, unless O(exemption_query) is given.
    type: list
    elements: str
  remove_synced_users:
    description:
      - With O(state=absent), also delete the users the Azure AD sync manages, after the settings are cleared.
      - These are the users of type C(end_user) or C(silent_user) whose primary address is on one of
        O(synced_domains) and that are not exempt - the users the sync would remove if the directory were
        empty. Administrators and other account types are never removed.
      - By default the users are kept; they stay in modusCloud as ordinary users.
    type: bool
    default: false
  synced_domains:
    description:
      - The domains whose users the sync imported, normally the verified domains of the Entra tenant.
      - Required when O(remove_synced_users=true).
    type: list
    elements: str
  exemption_query:
    description:
      - Exemptions by rule - a JMESPath expression (the query language of C(az --query)) over the list of the
        Entra directory's users. The addresses of the users it selects are saved as exemptions, beside
        O(exemptions), so the saved list follows the directory on every run - for example service accounts
        or shared mailboxes by name or department.
      - The expression gets each user with the fields the sync reads (V(id), V(userPrincipalName), V(givenName),
        V(surname), V(mail), V(proxyAddresses), V(accountEnabled), V(userType), V(assignedLicenses)) and
        V(displayName), V(mailNickname), V(jobTitle), V(department), V(companyName), V(officeLocation),
        V(usageLocation) and V(createdDateTime). It selects users (their V(mail) is exempt) or addresses, for
        example V([?department=='Shared mailboxes']) or V([?starts_with(userPrincipalName, 'svc-')].mail).
        A field some users lack is null for them - guard it, as in V([?jobTitle && contains(jobTitle, 'Shared')]).
      - With it, the exemption list is managed - exactly O(exemptions) plus the selected addresses; an address
        the rule no longer selects is removed, as the diff shows.
      - Needs O(access_token) to read the directory. A bad expression fails before any request, with JMESPath's
        message. Give the same expression to M(moduscloud.azure_sync.moduscloud_user_sync) so that its report
        exempts the same users.
    type: str
  access_token:
    description:
      - A Microsoft Graph access token of the tenant of O(primary_domain) that may read its users (for example
        from the P(moduscloud.azure_sync.graph_token#lookup) lookup), to apply O(exemption_query) with.
      - Only used with O(exemption_query). Never shown in output, logs or diffs.
    type: str
  cloud:
    description:
      - The Microsoft cloud of the tenant, which sets the Microsoft Graph root O(exemption_query) reads;
        see M(moduscloud.azure_sync.moduscloud_user_sync).
    type: str
    choices: [china, public, usgov, usgovdod]
    default: public
  graph_url:
    description:
      - Root URL of Microsoft Graph (without C(/v1.0)), overriding the one O(cloud) sets, for O(exemption_query).
    type: str
  wire_format:
    description:
      - The form of the writes whose wire format the public sources leave open (docs/moduscloud-api.md,
        section "Known unknowns"). The defaults are the collection's assumptions.
      - A write the service refuses in this form fails, naming the assumption; the module never retries it in
        another form by itself. Set the form your service takes, as the contract check
        (playbooks/check_moduscloud_api.yml) reports it.
    type: dict
    suboptions:
      booleans:
        description:
          - V(json) sends the boolean settings as JSON C(true)/C(false); V(strings) as the strings C("true")/C("false").
          - Both forms are read whatever this says.
        type: str
        choices: [json, strings]
        default: json
      exemptions:
        description:
          - 'The body that adds exemptions. V(comma_string) is C({"exemptions": "a@x,b@x"}); V(json_list) is
            C({"exemptions": ["a@x", "b@x"]}); V(bare_list) is C(["a@x", "b@x"]); V(bare_string) is C("a@x,b@x").'
        type: str
        choices: [comma_string, json_list, bare_list, bare_string]
        default: comma_string
extends_documentation_fragment:
  - moduscloud.azure_sync.moduscloud
  - moduscloud.azure_sync.moduscloud.ORG
  - moduscloud.azure_sync.moduscloud.KNOWN_STATE
  - moduscloud.azure_sync.attributes
  - moduscloud.azure_sync.attributes.ACTION_GROUP_MODUSCLOUD
attributes:
  check_mode:
    support: full
    details: Predicts the settings and exemptions and writes nothing. An O(application_id) that is still the
      placeholder C(\(known after apply\)) of a dry run is accepted and shown as such.
  diff_mode:
    support: full
    details: The key never appears in the diff; C(key) shows V((sent)) when the run sends it.
notes:
  - The wire names used for these settings come from public clients, not the official specification;
    docs/moduscloud-api.md lists each with its source and explains how to check it.
  - Settings the service does not return are sent on every write but cannot be compared; the
    module warns about each.
  - Whether the service keeps the stored key when the settings are saved without it is not known. After
    such a write the module reads the settings again, and fails if the service no longer reports a key
    expiry (the sign that it dropped the key) - send a new key then (O(update_key=always)). The role
    M(moduscloud.azure_sync.azure_user_sync) hands over a new key with every settings change for this reason.
seealso:
  - module: moduscloud.azure_sync.moduscloud_domain
  - module: moduscloud.azure_sync.moduscloud_sync_info
  - module: moduscloud.azure_sync.azure_app_secret
"""

EXAMPLES = r"""
- name: Configure the Azure AD import with the KB's values
  moduscloud.azure_sync.moduscloud_import_settings:
    api_url: https://us1.proofpointessentials.com/api/v1
    username: admin@example.com
    password: "{{ moduscloud_password }}"
    org: example.com
    primary_domain: example.com
    application_id: "{{ app.app_id }}"
    key: "{{ secret.value }}"
    sync_frequency_hours: 1
  no_log: true

- name: Send a rotated key (azure_app_secret returned a new value)
  moduscloud.azure_sync.moduscloud_import_settings:
    org: example.com
    primary_domain: example.com
    application_id: "{{ app.app_id }}"
    key: "{{ secret.value }}"
    update_key: always
  when: secret.value is defined
  no_log: true

- name: Keep two disabled mailboxes out of the sync
  moduscloud.azure_sync.moduscloud_import_settings:
    org: example.com
    primary_domain: example.com
    application_id: "{{ app.app_id }}"
    exemptions:
      - reception@example.com
      - archive@example.com

- name: Exempt the service accounts and shared mailboxes, as the directory has them on every run
  moduscloud.azure_sync.moduscloud_import_settings:
    org: example.com
    primary_domain: example.com
    application_id: "{{ app.app_id }}"
    exemptions:
      - reception@example.com
    exemption_query: "[?starts_with(userPrincipalName, 'svc-') || department == 'Shared mailboxes']"
    access_token: "{{ lookup('moduscloud.azure_sync.graph_token') }}"
  no_log: true  # the arguments carry the token

- name: Stop the Azure AD import
  moduscloud.azure_sync.moduscloud_import_settings:
    org: example.com
    state: absent

- name: Stop the Azure AD import and delete the users it imported
  moduscloud.azure_sync.moduscloud_import_settings:
    org: example.com
    state: absent
    remove_synced_users: true
    synced_domains: [example.com, example.onmicrosoft.com]
"""

RETURN = r"""
settings:
  description:
    - The import settings after the run (predicted in check mode), by option name. Never the key.
    - Only the settings the service returns; V(null) when O(state=absent).
  returned: always
  type: dict
  sample:
    primary_domain: example.com
    application_id: 4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21
    sync_active_users: true
    sync_distribution_groups: true
    sync_security_groups: true
    add_users: true
    update_users: true
    remove_users: false
    add_groups: true
    update_groups: true
    remove_groups: false
    default_user_role: end_user
    sync_frequency_hours: 1
    allow_microsoft_sign_in: true
exemptions:
  description: The sync exemptions after the run (predicted in check mode), lower case and sorted.
  returned: when O(exemptions) or O(exemption_query) is given, or O(state=absent)
  type: list
  elements: str
  sample: [archive@example.com, reception@example.com]
removed_users:
  description: The synced users deleted (predicted in check mode), lower case and sorted.
  returned: when O(state=absent)
  type: list
  elements: str
  sample: [adele@example.com]
query_exemptions:
  description: The addresses O(exemption_query) selected from the directory (saved as exemptions), sorted.
  returned: when O(exemption_query) is given
  type: list
  elements: str
  sample: [shared.sales@example.com, svc-scanner@example.com]
key_sent:
  description: Whether the run sent (or in check mode would send) the key.
  returned: always
  type: bool
  sample: true
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._exemption_query import (
    JMESPATH_IMPORT_ERROR,
    QUERY_USER_FIELDS,
    QueryError,
    check as check_exemption_query,
    given as query_given,
    matching_addresses,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph import (
    GRAPH_CONNECTION_SPEC,
    GraphConnection,
    GraphError,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import ApiError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud import (
    ModusCloudModule,
    moduscloud_argument_spec,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_values import (
    invalid_settings,
    is_domain_name,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import (
    SETTINGS_FIELDS,
    UNKNOWNS_DOC,
    WIRE,
    WIRE_FORMAT_SPEC,
    normalize_domain,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import ChangeSet, without_placeholders
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync import MANAGED_USER_TYPES, USER_ROLES

# Shown in the diff in place of the key, only when the run sends it.
KEY_SENT = "(sent)"
SETTINGS_LABEL = "azure_ad_import"
EXEMPTIONS_LABEL = "sync_exemptions"


def argument_spec():
    spec = moduscloud_argument_spec(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        known_state=dict(type="dict"),
        primary_domain=dict(type="str"),
        application_id=dict(type="str"),
        key=dict(type="str", no_log=True),
        update_key=dict(type="str", default="on_create", choices=["on_create", "always"], no_log=False),
        sync_active_users=dict(type="bool", default=True),
        sync_distribution_groups=dict(type="bool", default=True),
        sync_security_groups=dict(type="bool", default=True),
        add_users=dict(type="bool", default=True),
        update_users=dict(type="bool", default=True),
        remove_users=dict(type="bool", default=False),
        add_groups=dict(type="bool", default=True),
        update_groups=dict(type="bool", default=True),
        remove_groups=dict(type="bool", default=False),
        default_user_role=dict(type="str", default="end_user", choices=list(USER_ROLES)),
        sync_frequency_hours=dict(type="int", default=1),
        allow_microsoft_sign_in=dict(type="bool", default=True),
        exemptions=dict(type="list", elements="str"),
        remove_synced_users=dict(type="bool", default=False),
        synced_domains=dict(type="list", elements="str"),
        exemption_query=dict(type="str"),
        wire_format=dict(WIRE_FORMAT_SPEC),
    )
    # The Graph connection of exemption_query, declared as in the Graph modules.
    spec.update((name, dict(GRAPH_CONNECTION_SPEC[name])) for name in ("access_token", "cloud", "graph_url"))
    return spec


def desired_settings(params):
    settings = dict((option, params[option]) for option in SETTINGS_FIELDS)
    settings["primary_domain"] = normalize_domain(settings["primary_domain"])
    settings["application_id"] = settings["application_id"].strip().lower()
    return settings


def main():
    module = ModusCloudModule(
        argument_spec=argument_spec(),
        required_if=[("state", "present", ("primary_domain", "application_id")),
                     ("update_key", "always", ("key",)),
                     ("remove_synced_users", True, ("synced_domains",))],
        supports_check_mode=True,
    )
    params = module.params
    known, problems = without_placeholders(params, module.check_mode)
    problems += invalid_settings(known)
    bad_domains = [name for name in params["synced_domains"] or [] if not is_domain_name(name)]
    if bad_domains:
        problems.append("synced_domains must be domain names such as example.com; not valid: %s"
                        % ", ".join(bad_domains))
    if query_given(params["exemption_query"]) and params["state"] == "present":
        if JMESPATH_IMPORT_ERROR:
            module.fail_json(msg=missing_required_lib("jmespath"), exception=JMESPATH_IMPORT_ERROR)
        try:
            check_exemption_query(params["exemption_query"])
        except QueryError as error:
            problems.append(str(error))
        if not (params["access_token"] or "").strip():
            problems.append("exemption_query needs access_token, a Microsoft Graph token that may read the users of "
                            "the tenant of primary_domain (for example from the moduscloud.azure_sync.graph_token "
                            "lookup)")
    if problems:
        module.fail_json(msg="Invalid import settings: " + "; ".join(problems))

    org = normalize_domain(params["org"])
    client = module.client(org)
    changes = ChangeSet(module.check_mode)
    try:
        if params["state"] == "present":
            result = ensure_present(module, client, org, changes)
        else:
            result = ensure_absent(client, org, changes, params)
    except (ApiError, GraphError) as error:
        module.fail_json(msg=str(error), **error.to_result())
    except QueryError as error:
        module.fail_json(msg=str(error))
    result.update(changes.result(module._diff))
    module.exit_json(**result)


def ensure_present(module, client, org, changes):
    params = module.params
    settings = desired_settings(params)
    org_domains = [domain["name"] for domain in client.list_domains(org)]
    if settings["primary_domain"] not in org_domains:
        problem = ("primary_domain %s is not a domain of organization %s (its domains: %s): add it first, for "
                   "example with moduscloud.azure_sync.moduscloud_domain"
                   % (settings["primary_domain"], org, ", ".join(sorted(org_domains))))
        if not module.check_mode:
            module.fail_json(msg=problem)
        # A dry run of a whole play may add the domain in an earlier task that did not really run.
        module.warn(problem)
    current, status = client.read_import_settings(org)
    # Read (and the rule applied) before anything is written: a rule that fails writes nothing.
    query_exemptions = None
    if query_given(params["exemption_query"]):
        query_exemptions = read_query_exemptions(params, settings["primary_domain"])
    managed_exemptions = params["exemptions"] is not None or query_exemptions is not None
    current_exemptions = client.list_exemptions(org) if managed_exemptions else None

    send_key = current is None or params["update_key"] == "always"
    if send_key and params["key"] is None:
        module.fail_json(msg="key is required: the Azure AD settings of %s do not exist yet and the API never "
                             "returns the stored key" % org)
    desired = dict(settings)
    if current is not None:
        # Only what the service returns can be compared; the rest is sent on each write.
        unreadable = sorted(option for option in settings if option not in current)
        for option in unreadable:
            module.warn("modusCloud does not return %s, so it is sent on every write but not compared" % option)
            desired.pop(option)
    if send_key:
        desired["key"] = KEY_SENT

    def update(_changed):
        # PUT replaces the whole object: always send every setting, not only the changed ones.
        client.put_import_settings(org, settings, params["key"] if send_key else None)
        if not send_key and client.key_dropped(org, (status or {}).get("secret_expiry")):
            module.fail_json(
                changed=True, wire_assumption="settings.put_without_key",
                msg="modusCloud saved the Azure AD settings of %s without the key and no longer reports a key expiry: "
                    "it seems to have dropped the stored key, so its sync stops until it gets one. This contradicts "
                    "the assumption settings.put_without_key (a change without the key keeps the stored key; see %s). "
                    "Send a new key now (update_key: always with a new secret's value)." % (org, UNKNOWNS_DOC))

    def create(view):
        update(view)
        return view

    after = changes.ensure(SETTINGS_LABEL, current, desired, create=create, update=update)
    after = dict((option, value) for option, value in after.items() if option != "key")
    # Sending the key always makes the settings differ (the service never returns it), so it is sent.
    result = {"settings": after, "key_sent": send_key}

    if managed_exemptions:
        wanted = set(email.strip().lower() for email in params["exemptions"] or ())
        wanted.update(query_exemptions or ())
        result["exemptions"] = ensure_exemptions(client, org, changes, current_exemptions, sorted(wanted))
    if query_exemptions is not None:
        result["query_exemptions"] = query_exemptions
    return result


def read_query_exemptions(params, primary_domain):
    """The addresses exemption_query selects from the users of the tenant of `primary_domain`."""
    # The token's connection, through the same TLS trust and proxy as the modusCloud API.
    options = dict((name, params.get(name)) for name in ("cloud", "graph_url", "ca_path", "validate_certs", "proxy_url"))
    options.update(auth="access_token", access_token=params["access_token"])
    graph = GraphConnection(options, environment=False).client()
    names = graph.tenant_names()
    if primary_domain not in names:
        # Another tenant's users would exempt the wrong people.
        raise GraphError("exemption_query: the access_token given belongs to another tenant (%s) than the one of "
                         "primary_domain %s: give a token of that tenant" % (", ".join(sorted(names)), primary_domain))
    return matching_addresses(params["exemption_query"], graph.list_users(",".join(QUERY_USER_FIELDS)))


def ensure_absent(client, org, changes, params):
    """Stop the sync first (the settings), then the users it imported (if asked), then the exemptions.

    A refused deletion raises before anything further is removed; a run stopped in between leaves
    what the next run still finds and removes (the users are found by domain, not by the settings).
    """
    client.list_domains(org)  # a clear error for an unknown org before anything else
    current = client.read_import_settings(org)[0]
    current_exemptions = client.list_exemptions(org)
    synced = []
    if params["remove_synced_users"]:
        synced = synced_users(client.list_users(org), params["synced_domains"], current_exemptions)
    changes.ensure(SETTINGS_LABEL, current, None, delete=lambda: client.delete_import_settings(org))
    for user in synced:
        changes.ensure("users/%s" % user["primary_email"], user, None,
                       delete=lambda email=user["primary_email"]: client.delete_user(org, email))
    exemptions = ensure_exemptions(client, org, changes, current_exemptions, [])
    return {"settings": None, "key_sent": False, "exemptions": exemptions,
            "removed_users": [user["primary_email"] for user in synced]}


def synced_users(org_users, domains, exemptions):
    """The users the sync owns on `domains` (sorted views): sync-managed types only, never exempt ones."""
    domains = set(normalize_domain(name) for name in domains)
    exempt = set(exemptions)
    found = []
    for user in org_users:
        email = str(user.get(WIRE["user.primary_email"]) or "").strip().lower()
        if (user.get("type") in MANAGED_USER_TYPES and email not in exempt
                and email.rpartition("@")[2] in domains):
            found.append({"primary_email": email, "type": user.get("type")})
    return sorted(found, key=lambda user: user["primary_email"])


def ensure_exemptions(client, org, changes, current, wanted):
    """Make the exemption list exactly `wanted`: add the missing, delete the extra (shown in the diff)."""

    def apply(_changes):
        extra = [email for email in current if email not in wanted]
        missing = [email for email in wanted if email not in current]
        if not wanted and extra:
            client.delete_all_exemptions(org)
        else:
            for email in extra:
                client.delete_exemption(org, email)
        if missing:
            client.add_exemptions(org, missing)

    after = changes.ensure(EXEMPTIONS_LABEL, {"emails": current}, {"emails": wanted}, update=apply)
    return after["emails"]


if __name__ == "__main__":
    main()
