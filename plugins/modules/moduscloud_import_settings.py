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
  app_id:
    description:
      - The Application (client) ID of the Entra app registration (the console's B(Application ID)), for
        example the C(app_id) returned by M(moduscloud.azure_sync.azure_app_registration).
      - Returned as the setting C(app_id); saved under the service's key C(application_id).
      - In check mode, the placeholder C(\(known after apply\)) (an application an earlier task would create)
        is accepted, and the settings are predicted with it.
      - Required when O(state=present).
      - With O(state=absent), optionally the application the saved settings must name. When they name another
        one, the task fails before any write (Nothing was removed), so a wrong id never stops another
        application's sync.
    type: str
    aliases: [application_id]
  app_unique_name:
    description:
      - With O(state=absent) and without O(app_id), the unique name (Graph C(uniqueName)) of the application being
        removed, which is not in the Entra tenant (when it is, give its O(app_id) instead; O(app_id) wins when both
        are given), for example what M(moduscloud.azure_sync.azure_app_registration) with O(state=absent) did not
        find.
      - Saved settings then name another application, so the task fails before any write (Nothing was removed).
      - Not used with O(state=present).
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
        message; so does a value that is not text (a number, a list or a mapping, which YAML gives for an
        expression left unquoted), rather than being converted to text. Give the same expression to
        M(moduscloud.azure_sync.moduscloud_user_sync) so that its report exempts the same users.
    type: raw
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
    details: Predicts the settings and exemptions and writes nothing. An O(app_id) that is still the
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
    app_id: "{{ app.app_id }}"
    key: "{{ secret.value }}"
    sync_frequency_hours: 1
  no_log: true

- name: Send a rotated key (azure_app_secret returned a new value)
  moduscloud.azure_sync.moduscloud_import_settings:
    org: example.com
    primary_domain: example.com
    app_id: "{{ app.app_id }}"
    key: "{{ secret.value }}"
    update_key: always
  when: secret.value is defined
  no_log: true

- name: Keep two disabled mailboxes out of the sync
  moduscloud.azure_sync.moduscloud_import_settings:
    org: example.com
    primary_domain: example.com
    app_id: "{{ app.app_id }}"
    exemptions:
      - reception@example.com
      - archive@example.com

- name: Exempt the service accounts and shared mailboxes, as the directory has them on every run
  moduscloud.azure_sync.moduscloud_import_settings:
    org: example.com
    primary_domain: example.com
    app_id: "{{ app.app_id }}"
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
msg:
  description:
    - What the task did to the import settings, or in check mode would do, for the task's output and a summary;
      never the key.
    - With O(state=absent), the settings cleared, the synced users removed or kept, and the sync exemptions removed.
  returned: always
  type: str
  sample: "The Azure AD import settings of contoso.com were saved (changed: sync_frequency_hours), with a new key."
settings:
  description:
    - The import settings after the run (predicted in check mode), by option name. Never the key.
    - Only the settings the service returns; V(null) when O(state=absent).
  returned: always
  type: dict
  sample:
    primary_domain: example.com
    app_id: 4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21
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
started:
  description:
    - When the task started (UTC), before it saved anything. A sync of the service that ends later ran with the
      settings it saved, for example for the O(moduscloud.azure_sync.moduscloud_user_sync#module:since) of a wait.
  returned: when O(state=present)
  type: str
  sample: "2026-07-01T10:00:00Z"
key_sent:
  description: Whether the run sent (or in check mode would send) the key.
  returned: always
  type: bool
  sample: true
changed_settings:
  description:
    - The names of the import settings whose saved value differs from the one asked for, sorted; the same in
      check mode. Never the key, which the service never returns.
    - Every setting asked for when the organization has none saved yet; with O(state=absent), every setting
      saved. Settings the service does not return cannot be compared and are not listed.
  returned: always
  type: list
  elements: str
  sample: [remove_users, sync_frequency_hours]
"""

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._connection import GRAPH_CONNECTION_SPEC
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._import_settings import run_import_settings
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud import ModusCloudModule
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import WIRE_FORMAT_SPEC
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync import USER_ROLES


def argument_spec():
    spec = dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        known_state=dict(type="dict"),
        primary_domain=dict(type="str"),
        app_id=dict(type="str", aliases=["application_id"]),
        app_unique_name=dict(type="str"),
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
        exemption_query=dict(type="raw"),
        wire_format=dict(WIRE_FORMAT_SPEC),
    )
    # The Graph connection of exemption_query, declared as in the Graph modules.
    spec.update((name, dict(GRAPH_CONNECTION_SPEC[name])) for name in ("access_token", "cloud", "graph_url"))
    return spec


def main():
    module = ModusCloudModule(
        argument_spec=argument_spec(),
        required_if=[
            ("state", "present", ("primary_domain", "app_id")),
            ("update_key", "always", ("key",)),
            ("remove_synced_users", True, ("synced_domains",)),
        ],
    )
    run_import_settings(module)


if __name__ == "__main__":
    main()
