#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: moduscloud_user_sync
short_description: Preview, apply and verify modusCloud's Azure AD user sync
description:
  - Computes the report of modusCloud's Azure AD (Entra ID) user sync - the users the sync adds,
    updates and removes, the groups it imports and every object it skips, with the reason - and
    optionally applies its user part. This is the console's B(Search Now), B(Sync Active Directory)
    and B(Confirm) (KB article 2012, modusCloud steps 5 to 8), which the Proofpoint Essentials API
    does not offer.
  - Reads the Entra directory through Microsoft Graph with the sync app's own credentials
    (O(app_id) and O(key)), exactly as the modusCloud service does. A missing admin
    consent or a dead key therefore fails here, with Entra's or Graph's error, instead of
    silently in the service's next scheduled sync.
  - With O(access_token) instead of O(key), reads the same directory with that token, for example the
    automation identity's. The report is the same, but the run proves nothing about the sync app - a token
    of another identity says nothing about the sync app's admin consent or its key (grant and check the
    consent with M(moduscloud.azure_sync.azure_app_consent)). The key exists only in the run that creates
    it and the API never returns it, so the token is the way to compute the report in any other run.
  - Reads the organization's import settings, sync exemptions, domains and users through the
    modusCloud API, and predicts the sync with the rules documented in the collection's
    C(docs/sync-rules.md).
  - O(mode=report) only reads. O(mode=apply) writes the user part through the Users API.
    O(mode=wait) waits for the service's own scheduled sync and checks that the users match.
  - Groups cannot be written through the API; the service imports them on its schedule. The
    report lists them so they can be reviewed.
version_added: 1.0.0
author:
  - moduscloud.azure_sync maintainers (@moduscloud)
options:
  mode:
    description:
      - V(report) computes the report and writes nothing (the console's B(Search Now)); the task
        never reports a change.
      - V(apply) applies the user part of the report through the Users API - removals first, then
        updates (each user read, changed and written back whole), then additions in batches. In
        check mode it returns the same report as a prediction and writes nothing.
      - V(wait) waits until the service's C(last_successful_sync) is later than O(since), then
        computes the report again and fails when any user still has to be added, updated or removed.
        Before waiting it checks what makes the service's sync fail - the sync app's sign-in, its
        admin consent and Entra domains missing on the organization - and fails at once, naming the
        cause. With O(access_token) only the domains are checked.
    type: str
    choices: [report, apply, wait]
    default: report
  tenant_id:
    description:
      - The Entra tenant the sync app signs in to, as its id (GUID) or one of its verified domains. With
        O(access_token), the tenant the token must belong to; the module checks it before reading the directory.
      - Defaults to the O(moduscloud.azure_sync.moduscloud_import_settings#module:primary_domain)
        saved in the organization's import settings, which is how the service finds the tenant.
      - Required when the organization has no import settings.
    type: str
  app_id:
    description:
      - The Application (client) ID of the sync app, the app registration modusCloud signs in with (the
        console's B(Application ID)).
      - Defaults to the one saved in the organization's import settings.
      - Required with O(key) when the organization has no import settings. With O(access_token) it is not
        used to read the directory, only returned.
      - In check mode with O(access_token), the placeholder C(\(known after apply\)) (an application an earlier
        task would create) is accepted.
    type: str
    aliases: [application_id]
  key:
    description:
      - The value of the sync app's client secret, the console's B(Key). The module signs in with it as the
        sync app, as the service does. The API never returns the key modusCloud stores, so it must be given
        here; give the same value the service has.
      - Exactly one of O(key) and O(access_token) is required.
      - Never shown in output, logs or diffs.
    type: str
  access_token:
    description:
      - A Microsoft Graph access token to read the directory with, instead of signing in as the sync app with
        O(key); for example the one the P(moduscloud.azure_sync.graph_token#lookup) lookup returns.
      - Its identity must be allowed to read the tenant, its domains, users, groups and group members, as the
        Microsoft Graph permission C(Directory.Read.All) allows.
      - The report is the one the key gives, but nothing about the sync app is checked - neither its key nor
        its admin consent. With O(mode=wait), the check before waiting then covers only the missing domains.
      - Never shown in output, logs or diffs.
    type: str
  cloud:
    description:
      - The Microsoft cloud of the tenant, which sets both the sign-in host and the Graph root.
      - V(public) is login.microsoftonline.com and graph.microsoft.com; V(usgov) (GCC High) is
        login.microsoftonline.us and graph.microsoft.us; V(usgovdod) is login.microsoftonline.us and
        dod-graph.microsoft.us; V(china) (21Vianet) is login.chinacloudapi.cn and microsoftgraph.chinacloudapi.cn.
    type: str
    choices: [china, public, usgov, usgovdod]
    default: public
  authority_host:
    description:
      - Sign-in host (an https URL without the tenant), overriding the one O(cloud) sets, for private
        endpoints and test doubles.
      - If not set, the value of the E(AZURE_AUTHORITY_HOST) environment variable is used.
    type: str
  graph_url:
    description:
      - Root URL of Microsoft Graph (without C(/v1.0)), overriding the one O(cloud) sets.
    type: str
  ca_path:
    description:
      - PEM file of the certificate authorities to trust for the modusCloud API, the Entra sign-in host and
        Microsoft Graph alike.
      - The order is - O(ca_path) when set (it wins even when E(REQUESTS_CA_BUNDLE) is set); else
        E(REQUESTS_CA_BUNDLE); else E(SSL_CERT_FILE); else the certificate authorities of the Python requests
        library.
      - If not set, the value of E(MODUSCLOUD_CA_PATH), else E(AZURE_SYNC_CA_PATH), is used.
    type: path
  validate_certs:
    description:
      - Whether to verify TLS certificates of the modusCloud API, the sign-in host and Graph. Only turn it
        off for a throw-away test service.
    type: bool
    default: true
  sync_active_users:
    description:
      - Whether the sync imports users at all. Defaults to the organization's saved import settings,
        that is to what the service will do; set it to see or apply another choice.
      - The same holds for every option down to O(default_user_role). When the organization has no import
        settings, all of them must be set.
    type: bool
  sync_distribution_groups:
    description: Whether the service imports distribution groups (and Microsoft 365 groups). Defaults to the saved setting.
    type: bool
  sync_security_groups:
    description: Whether the service imports security groups (mail-enabled ones included). Defaults to the saved setting.
    type: bool
  add_users:
    description: Whether Entra users missing in modusCloud are added. Defaults to the saved setting.
    type: bool
  update_users:
    description: Whether names, aliases and the active state of existing users are updated. Defaults to the saved setting.
    type: bool
  remove_users:
    description:
      - Whether modusCloud users without an Entra counterpart are removed. Defaults to the saved setting.
      - Only users of type C(end_user) or C(silent_user) that are not exempt are ever removed.
    type: bool
  add_groups:
    description: Whether the service adds groups (shown in the report only). Defaults to the saved setting.
    type: bool
  update_groups:
    description: Whether the service updates groups (shown in the report only). Defaults to the saved setting.
    type: bool
  remove_groups:
    description: Whether the service removes groups (shown in the report only). Defaults to the saved setting.
    type: bool
  default_user_role:
    description: The type of added users. Defaults to the saved setting.
    type: str
    choices: [end_user, silent_user]
  exemption_query:
    description:
      - A JMESPath expression (the query language of C(az --query)) over the list of the directory's users;
        the users it selects are exempt, like the addresses of the organization's saved exemptions - for
        example service accounts or shared mailboxes by name or department.
      - The expression gets each user with the fields the sync reads (V(id), V(userPrincipalName), V(givenName),
        V(surname), V(mail), V(proxyAddresses), V(accountEnabled), V(userType), V(assignedLicenses)) and
        V(displayName), V(mailNickname), V(jobTitle), V(department), V(companyName), V(officeLocation),
        V(usageLocation) and V(createdDateTime), which are read only when this option is set. It selects users
        (their V(mail) is exempt) or addresses, for example V([?department=='Shared mailboxes']) or
        V([?starts_with(userPrincipalName, 'svc-')].mail).
      - Give the same expression as to M(moduscloud.azure_sync.moduscloud_import_settings), which saves what it
        selects as the organization's exemptions for the service. The report lists each user it exempts under
        C(skipped) with reason C(exempt) and the detail C(selected by exemption_query), and the result lists
        them in RV(query_exemptions).
      - A bad expression fails before any request, with JMESPath's message.
    type: str
  planned_exemptions:
    description:
      - The exemptions an earlier task of the same run saves, for example the C(exemptions) given to
        M(moduscloud.azure_sync.moduscloud_import_settings); in check mode the report uses them instead of the
        organization's saved exemptions, so that a dry run predicts what the real run syncs.
      - The addresses O(exemption_query) selects are exempt as well, as that module saves them too.
      - Used in check mode only. Otherwise the organization's saved exemptions are read.
    type: list
    elements: str
  planned_settings:
    description:
      - The import settings an earlier task of the same run saves, for example the C(settings) that
        M(moduscloud.azure_sync.moduscloud_import_settings) returns; in check mode the report uses them instead of
        the organization's saved settings (the options set here still win), so that a dry run predicts what the
        real run syncs.
      - Used in check mode only. Otherwise the saved settings are read, as the service reads them.
    type: dict
  planned_domains:
    description:
      - Domains an earlier task of the same run adds to the organization, for example
        M(moduscloud.azure_sync.moduscloud_domain); in check mode the report treats them as present.
      - That task's check mode only predicts the addition, so without this option a dry run would skip the
        users on those domains (C(domain_missing)) that the real run then syncs.
      - Used in check mode only. Otherwise the organization's real domains are read, and a domain given here
        that is not on the organization is still reported missing.
    type: list
    elements: str
    default: []
  verified_domains:
    description:
      - The verified domains of the tenant, as an earlier task read them from Microsoft Graph with the same
        O(access_token), for example RV(moduscloud.azure_sync.azure_domain_info#module:verified_domains). The report
        then uses them instead of reading them again, and when O(tenant_id) is one of them, they also show that the
        token belongs to the tenant.
      - Needs O(access_token); the sync app's own view of the tenant is always read.
    type: list
    elements: str
  max_removals:
    description:
      - With O(mode=apply), the most users a run may remove. When the report removes more, the whole run is
        refused before anything is written (in check mode too), and the failure lists every address that
        would be removed.
      - A guard against mass deletion, for example after a wrong filter or a missing domain. Raise it on
        purpose for a large clean-up.
    type: int
    default: 10
  removal_guard:
    description:
      - With O(mode=report), what to do when the report removes more than O(max_removals) users, that is what
        the service's own next scheduled sync would remove with the settings it reads (O(planned_settings) in
        check mode).
      - V(report) only lists them in RV(removals_over_limit).
      - V(fail) refuses the task, listing them, so that a caller stops before it saves C(remove_users) on (or
        before anything else when it is already saved on).
      - V(disable) does the same when C(remove_users) is not yet saved on in the service. When it is, the task
        succeeds with RV(remove_users_off=true) and a RV(removal_warning), and the caller saves C(remove_users)
        off for this run, so that the service removes nobody until the guard is satisfied.
    type: str
    default: report
    choices: [report, fail, disable]
  validate_only:
    description:
      - Only check the options, then stop before any request and change nothing (RV(validated) is V(true)).
      - For a preflight that refuses bad input before an earlier task writes anything, as the
        P(moduscloud.azure_sync.azure_user_sync#role) role does.
    type: bool
    default: false
  report_limit:
    description:
      - How many entries of each list of the report the result and the Markdown file of O(report_path) show;
        the counts are always complete.
      - Use O(report_path) for the whole report.
    type: int
    default: 20
  report_path:
    description:
      - Write the whole report to this file as JSON, and beside it (same name, other extension) a CSV file
        with one row per user and action (add, change, remove, skip) for a spreadsheet, and a Markdown
        summary to attach to an AWX job or a pull request - the counts, then the first O(report_limit)
        entries of each list, pointing to the JSON and CSV files for the rest.
      - Written on the host that runs the module (normally the controller), in check mode too, and before
        anything is applied. The directory must exist.
      - The report holds names and addresses of people, so the files are readable by their owner only
        (mode C(0600)); keep them where such data may be kept.
    type: path
  report_folder:
    description:
      - Make this folder (and its missing parents) when it does not exist, readable by its owner only (mode
        C(0700)), and fail unless the module may write there. Done first, in check mode and with
        O(validate_only) too, for example to check the folder of a later task's O(report_path) before anything
        is written.
    type: path
  wait_timeout:
    description:
      - With O(mode=wait), how many seconds to wait at most for the service's next successful sync.
      - The service syncs every C(sync_frequency_hours) hours, counted from its last run, so the default
        covers one hourly cycle with some margin.
    type: int
    default: 4200
  wait_interval:
    description:
      - With O(mode=wait), the seconds between two reads of the service's sync status.
    type: int
    default: 60
  since:
    description:
      - With O(mode=wait), the service's sync must have succeeded after this moment, given as an ISO 8601
        UTC date and time such as C(2026-07-01T10:00:00Z).
      - Defaults to the start of this task. Set it to the time just before the import settings were saved
        so that a sync that ran in between counts.
    type: str
extends_documentation_fragment:
  - moduscloud.azure_sync.moduscloud
  - moduscloud.azure_sync.moduscloud.ORG
  - moduscloud.azure_sync.moduscloud.KNOWN_STATE
  - moduscloud.azure_sync.attributes
  - moduscloud.azure_sync.attributes.ACTION_GROUP_MODUSCLOUD
attributes:
  check_mode:
    support: full
    details:
      - With O(mode=apply), check mode returns the report as the prediction of what would be applied
        (and refuses it the same way when it removes more than O(max_removals)); nothing is written.
      - With O(mode=wait), check mode does not wait; it returns the current report.
      - O(report_path) is written in check mode too, so a dry run leaves the plan for review.
      - The O(planned_domains) count as domains of the organization, and the O(planned_settings) as its saved
        settings, in check mode only.
  diff_mode:
    support: full
    details:
      - With O(mode=apply), each user to add, update or remove is shown with the fields the sync manages,
        before and after. The other modes change nothing.
notes:
  - The module belongs to the C(moduscloud) action group only. The Graph connection of the
    C(graph) group (the automation identity that registers apps) is deliberately not used - the point is
    to read the directory as the sync app. Set O(access_token), O(cloud), O(authority_host) and O(graph_url)
    on the task when they are needed.
  - Reading a large directory takes one Graph request per 999 users and per 999 groups, plus, when groups
    are synced, one JSON batch per 20 groups for their members (several batches at once). Users and groups
    are read side by side. Members that Graph throttles are read again after its Retry-After.
  - The report is a prediction of the service's behaviour; C(docs/sync-rules.md) says which rules are
    confirmed and which are assumptions.
requirements:
  - msal >= 1.24.0
seealso:
  - module: moduscloud.azure_sync.moduscloud_import_settings
  - module: moduscloud.azure_sync.moduscloud_sync_info
  - module: moduscloud.azure_sync.moduscloud_domain
  - module: moduscloud.azure_sync.azure_app_consent
  - module: moduscloud.azure_sync.azure_app_secret
"""

EXAMPLES = r"""
- name: Search Now - what would the sync do? (writes nothing)
  moduscloud.azure_sync.moduscloud_user_sync:
    org: contoso.com
    key: "{{ sync_app_secret }}"
    report_path: "{{ playbook_dir }}/artifacts/contoso-sync.json"
  register: sync_report

- name: Show the counts
  ansible.builtin.debug:
    var: sync_report.report.counts

- name: Sync Active Directory and Confirm - apply the users now (allow up to 50 removals)
  moduscloud.azure_sync.moduscloud_user_sync:
    org: contoso.com
    key: "{{ sync_app_secret }}"
    mode: apply
    max_removals: 50

- name: Search Now in a later run, without the key - with the automation identity's token
  moduscloud.azure_sync.moduscloud_user_sync:
    org: contoso.com
    access_token: "{{ lookup('moduscloud.azure_sync.graph_token') }}"
  no_log: true  # the arguments carry the token
  register: sync_report

- name: What would happen if removals were switched on?
  moduscloud.azure_sync.moduscloud_user_sync:
    org: contoso.com
    key: "{{ sync_app_secret }}"
    remove_users: true

- name: Wait for the service's first scheduled sync after saving the settings
  moduscloud.azure_sync.moduscloud_user_sync:
    org: contoso.com
    key: "{{ sync_app_secret }}"
    mode: wait
    since: "{{ settings_saved_at }}"
    wait_timeout: 7200
"""

RETURN = r"""
msg:
  description:
    - The report's counts in one line, with the mode, and C(predicted) in check mode.
    - With O(mode=wait) (not in check mode, which does not wait), first how long the run waited and the
      service's last successful sync.
  returned: unless O(validate_only=true)
  type: str
  sample: "Sync report (apply): users to add 1, change 1, remove 0, unchanged 42; groups 4; skipped 3; missing domains 1"
summary:
  description:
    - The lines an operator reads about the run - how the directory was read (as the sync app with O(key), or with
      O(access_token)), RV(msg), then the users to add, change and remove, the groups,
      the skipped objects with their reasons, the missing domains (each list as far as O(report_limit) shows it,
      with how many more there are), the users O(exemption_query) exempts, the report files, and what was applied
      (in check mode, what would be applied).
  returned: unless O(validate_only=true)
  type: list
  elements: str
  sample:
    - "Read as the sync app, with its key"
    - "Sync report (apply): users to add 1, change 1, remove 0, unchanged 42; groups 4; skipped 1; missing domains 0"
    - "Users to add: adelev@contoso.com"
    - "Users to change: meganb@contoso.com"
    - "Users to remove: -"
    - "Groups: IT Admins, Sales, Sales Team, Support"
    - "Skipped: pat@fabrikam.com (guest)"
    - "Missing domains: -"
    - "Exempt by exemption_query: -"
    - "Report files: -"
    - "Applied: added 1, updated 1, removed 0 users"
validated:
  description: Whether the options were only checked (O(validate_only=true)); nothing else is returned then.
  returned: when O(validate_only=true)
  type: bool
  sample: true
removals_over_limit:
  description:
    - The addresses of every user the report removes when that is more than O(max_removals), else V([]).
    - In O(mode=report) and O(mode=wait) too, so that a caller can refuse to let the service's own scheduled sync
      make those removals (the P(moduscloud.azure_sync.azure_user_sync#role) role's removal guard).
  returned: unless O(validate_only=true)
  type: list
  elements: str
  sample: [left.company@contoso.com]
remove_users_off:
  description:
    - Whether the removal guard (O(removal_guard=disable)) asks the caller to save C(remove_users) off for this run,
      because it is saved on and the service's next scheduled sync would remove more than O(max_removals) users.
  returned: in O(mode=report), unless O(validate_only=true)
  type: bool
  sample: false
removal_warning:
  description:
    - The removal guard's warning, when C(remove_users) is saved on and the service's next scheduled sync would
      remove more than O(max_removals) users (O(removal_guard=disable)).
  returned: when O(removal_guard=disable) turns C(remove_users) off
  type: str
  sample: "WARNING: with remove_users on, modusCloud's next scheduled sync would remove 12 users, more than max_removals (10): ..."
report:
  description:
    - The sync report, with each list cut to its first O(report_limit) entries (sorted by address or name)
      and complete counts. In O(mode=apply), the report computed before anything was written.
  returned: always
  type: dict
  contains:
    users:
      description: What the sync does with users.
      type: dict
      contains:
        add:
          description: Users to add, as they would be created.
          type: list
          elements: dict
          sample:
            - primary_email: adelev@contoso.com
              firstname: Adele
              surname: Vance
              alias_emails: [adele.vance@contoso.com]
              is_active: true
              type: end_user
        change:
          description: Users to change (updated through the Users API), with each changed field before and after.
          type: list
          elements: dict
          sample:
            - primary_email: meganb@contoso.com
              changes:
                surname: {before: Bowen-Smith, after: Bowen}
        remove:
          description: Users to remove.
          type: list
          elements: dict
          sample: [{primary_email: left.company@contoso.com, type: end_user}]
        unchanged:
          description: How many in-scope users already match.
          type: int
          sample: 42
    groups:
      description: The groups the service imports on its schedule.
      type: list
      elements: dict
      sample:
        - name: Sales
          kind: distribution
          address: sales@contoso.com
          members: 2
    skipped:
      description: Objects the sync leaves alone, each with the reason (see C(docs/sync-rules.md)).
      type: list
      elements: dict
      sample:
        - object: user
          address: pat@fabrikam.com
          reason: guest
          detail: userType is Guest
    missing_domains:
      description: Verified Entra domains the organization lacks; the service's sync fails until they are added.
      type: list
      elements: str
      sample: [contoso.onmicrosoft.com]
    counts:
      description: The complete number of entries of each list.
      type: dict
      sample: {add: 1, change: 1, remove: 0, unchanged: 42, groups: 4, skipped: 3, missing_domains: 1}
    truncated:
      description: Whether any list was cut to O(report_limit) entries.
      type: bool
      sample: false
settings:
  description: The import settings the report was computed with - the saved ones, overridden by the options set.
  returned: always
  type: dict
  sample:
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
tenant_id:
  description: The tenant whose directory was read - the one the sync app signed in to, or the access token's.
  returned: always
  type: str
  sample: contoso.com
app_id:
  description:
    - The sync app's Application (client) ID, as given or saved.
    - With O(access_token), V(null) when neither gives one, and the placeholder C(\(known after apply\)) when
      check mode was given it.
  returned: always
  type: str
  sample: 4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21
known_state:
  description:
    - The organization's import settings, domains and exemptions as this task read them (or took them from
      O(known_state)), in the form of M(moduscloud.azure_sync.moduscloud_sync_info)'s result without users, which a
      later task may pass as its O(known_state) while nothing else changes the organization. Applying the report
      writes users only, so it leaves them as they are.
  returned: in O(mode=report) and O(mode=apply), unless O(validate_only=true)
  type: dict
sync_status:
  description:
    - The service's sync status as it returned it; in O(mode=wait), as read when the wait ended.
    - Both values are V(null) when the organization has no import settings.
  returned: always
  type: dict
  sample: {secret_expiry: "2028-07-01", last_successful_sync: "2026-07-01T10:00:00Z"}
applied:
  description: How many users this run added, updated and removed (all V(0) in check mode).
  returned: when O(mode=apply)
  type: dict
  sample: {added: 1, updated: 1, removed: 0}
waited_seconds:
  description: How long the run waited for the service's sync.
  returned: when O(mode=wait)
  type: float
  sample: 1260.4
report_files:
  description: The files the whole report was written to.
  returned: when O(report_path) is set
  type: dict
  sample:
    json: /runner/artifacts/contoso-sync.json
    markdown: /runner/artifacts/contoso-sync.md
    csv: /runner/artifacts/contoso-sync.csv
query_exemptions:
  description: The addresses O(exemption_query) selects from the directory, all of them, sorted.
  returned: when O(exemption_query) is set
  type: list
  elements: str
  sample: [reception@contoso.com, svc-scanner@contoso.com]
removals:
  description:
    - Every address the run would have removed, when it was refused for removing more than O(max_removals)
      (O(mode=apply), or O(removal_guard) in O(mode=report)).
  returned: on that failure
  type: list
  elements: str
  sample: [a@contoso.com, b@contoso.com]
"""

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._connection import GRAPH_CONNECTION_SPEC
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud import ModusCloudModule
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._removal_guard import POLICIES
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync import SWITCHES, USER_ROLES
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._user_sync import run_user_sync


def argument_spec():
    spec = dict(
        mode=dict(type="str", default="report", choices=["report", "apply", "wait"]),
        tenant_id=dict(type="str"),
        app_id=dict(type="str", aliases=["application_id"]),
        key=dict(type="str", no_log=True),
        default_user_role=dict(type="str", choices=list(USER_ROLES)),
        max_removals=dict(type="int", default=10),
        removal_guard=dict(type="str", default="report", choices=list(POLICIES)),
        report_limit=dict(type="int", default=20),
        validate_only=dict(type="bool", default=False),
        report_path=dict(type="path"),
        report_folder=dict(type="path"),
        wait_timeout=dict(type="int", default=4200),
        wait_interval=dict(type="int", default=60),
        since=dict(type="str"),
        planned_domains=dict(type="list", elements="str", default=[]),
        planned_exemptions=dict(type="list", elements="str"),
        planned_settings=dict(type="dict"),
        verified_domains=dict(type="list", elements="str"),
        known_state=dict(type="dict"),
        exemption_query=dict(type="str"),
    )
    # The token and where the sync app signs in, exactly as the Graph modules take them.
    spec.update((name, dict(GRAPH_CONNECTION_SPEC[name])) for name in ("access_token", "cloud", "authority_host", "graph_url"))
    for switch in SWITCHES:
        spec[switch] = dict(type="bool")
    return spec


def main():
    module = ModusCloudModule(argument_spec(), mutually_exclusive=[("key", "access_token")], required_one_of=[("key", "access_token")])
    run_user_sync(module)


if __name__ == "__main__":
    main()
