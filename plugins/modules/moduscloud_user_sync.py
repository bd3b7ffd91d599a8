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
    (O(application_id) and O(key)), exactly as the modusCloud service does. A missing admin
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
  application_id:
    description:
      - The Application (client) ID of the sync app, the app registration modusCloud signs in with.
      - Defaults to the one saved in the organization's import settings.
      - Required with O(key) when the organization has no import settings. With O(access_token) it is not
        used to read the directory, only returned.
      - In check mode with O(access_token), the placeholder C(\(known after apply\)) (an application an earlier
        task would create) is accepted.
    type: str
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
  tenant_domains:
    description:
      - The verified domains of the tenant, as an earlier task read them from Microsoft Graph with the same
        O(access_token). The report then uses them instead of reading them again, and when O(tenant_id) is
        one of them, they also show that the token belongs to the tenant.
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
      - The O(planned_domains) count as domains of the organization in check mode only.
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
application_id:
  description:
    - The sync app's Application (client) ID, as given or saved.
    - With O(access_token), V(null) when neither gives one, and the placeholder C(\(known after apply\)) when
      check mode was given it.
  returned: always
  type: str
  sample: 4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21
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
  description: Every address the run would have removed, when it was refused for removing more than O(max_removals).
  returned: on that failure
  type: list
  elements: str
  sample: [a@contoso.com, b@contoso.com]
"""

import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph import (
    GRAPH_CONNECTION_SPEC,
    MSAL_IMPORT_ERROR,
    GraphConnection,
    GraphError,
    TokenError,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_directory import with_members
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._exemption_query import (
    JMESPATH_IMPORT_ERROR,
    QueryError,
    check as check_exemption_query,
    given as query_given,
    matching_addresses,
    user_fields,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import REQUESTS_IMPORT_ERROR, ApiError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud import (
    ModusCloudModule,
    connection_problem,
    invalid_settings,
    is_domain_name,
    is_guid,
    moduscloud_argument_spec,
    normalize_domain,
    parse_timestamp,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import (
    PLACEHOLDER,
    SECRET_VALUE_PLACEHOLDER,
    ChangeSet,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync import (
    SWITCHES,
    USER_ROLES,
    reconcile,
    removals_over_limit,
    render_csv,
    render_markdown,
    trim_report,
)

# The import settings the report depends on, by option name; None in params = the saved value.
SETTING_OPTIONS = SWITCHES + ("default_user_role",)

# Only the Graph fields the sync rules read (docs/sync-rules.md).
USER_FIELDS = "id,userPrincipalName,givenName,surname,mail,proxyAddresses,accountEnabled,userType,assignedLicenses"
GROUP_FIELDS = "id,displayName,mail,mailEnabled,securityEnabled"
# The API documents batch creation but no batch limit; modest batches keep each request small.
CREATE_BATCH_SIZE = 100
MARKDOWN_EXTENSION = ".md"
CSV_EXTENSION = ".csv"
REPORT_FILE_MODE = 0o600
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

CONSENT_HINT = ("the sync app cannot read the directory, so modusCloud's scheduled sync fails the same way: grant it "
                "admin consent for the Microsoft Graph application permission Directory.Read.All (for example with "
                "moduscloud.azure_sync.azure_app_consent)")
TOKEN_READ_HINT = ("the access_token given cannot read the directory: give a token of an identity with the Microsoft "
                   "Graph permission Directory.Read.All (this says nothing about the sync app's own consent)")
TOKEN_REFUSED_HINT = ("Graph refused the access_token given (expired, or not a Microsoft Graph token): get a new one, "
                      "for example with the moduscloud.azure_sync.graph_token lookup")
SIGN_IN_HINT = ("Entra ID refused the sync app's credentials, so modusCloud's scheduled sync fails the same way: "
                "check application_id and tenant_id, and that key is the value (not the id) of a client secret of "
                "that app that has not expired (rotate it with moduscloud.azure_sync.azure_app_secret and save it "
                "with moduscloud.azure_sync.moduscloud_import_settings)")


def argument_spec():
    spec = moduscloud_argument_spec(
        mode=dict(type="str", default="report", choices=["report", "apply", "wait"]),
        tenant_id=dict(type="str"),
        application_id=dict(type="str"),
        key=dict(type="str", no_log=True),
        default_user_role=dict(type="str", choices=list(USER_ROLES)),
        max_removals=dict(type="int", default=10),
        report_limit=dict(type="int", default=20),
        validate_only=dict(type="bool", default=False),
        report_path=dict(type="path"),
        wait_timeout=dict(type="int", default=4200),
        wait_interval=dict(type="int", default=60),
        since=dict(type="str"),
        planned_domains=dict(type="list", elements="str", default=[]),
        planned_exemptions=dict(type="list", elements="str"),
        tenant_domains=dict(type="list", elements="str"),
        known_state=dict(type="dict"),
        exemption_query=dict(type="str"),
    )
    # The token and where the sync app signs in, exactly as the Graph modules take them.
    spec.update((name, dict(GRAPH_CONNECTION_SPEC[name]))
                for name in ("access_token", "cloud", "authority_host", "graph_url"))
    for switch in SWITCHES:
        spec[switch] = dict(type="bool")
    return spec


def invalid_options(params, check_mode):
    """Every problem with the options, each naming the option and what is allowed."""
    problems = invalid_settings(dict((name, params[name]) for name in ("org", "application_id", "key")), check_mode)
    if params["access_token"] is not None and not params["access_token"].strip():
        problems.append("access_token must not be empty")
    tenant_id = params["tenant_id"]
    if tenant_id is not None and not (is_guid(tenant_id) or is_domain_name(tenant_id)):
        problems.append("tenant_id must be the tenant id (a GUID) or one of its domains, got %r" % tenant_id)
    for name in ("max_removals", "report_limit", "wait_timeout"):
        if params[name] < 0:
            problems.append("%s must be 0 or more, got %d" % (name, params[name]))
    if params["wait_interval"] < 1:
        problems.append("wait_interval must be at least 1 second, got %d" % params["wait_interval"])
    if params["tenant_domains"] is not None and not params["access_token"]:
        problems.append("tenant_domains needs access_token (they must have been read with the same token); with "
                        "key the sync app reads the tenant's domains itself")
    not_domains = [name for name in params["planned_domains"] if not is_domain_name(name)]
    if not_domains:
        problems.append("planned_domains must be domain names such as contoso.com, got %s" % ", ".join(not_domains))
    if params["since"] is not None and parse_timestamp(params["since"]) is None:
        problems.append("since must be a UTC date and time such as 2026-07-01T10:00:00Z, got %r" % params["since"])
    if query_given(params["exemption_query"]):
        try:
            check_exemption_query(params["exemption_query"])
        except QueryError as error:
            problems.append(str(error))
    path = params["report_path"]
    if path is not None:
        if path.lower().endswith((MARKDOWN_EXTENSION, CSV_EXTENSION)):
            problems.append("report_path names the JSON file (the Markdown and CSV files are written next to it), "
                            "got %s" % path)
        elif not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            problems.append("report_path %s: the directory %s does not exist"
                            % (path, os.path.dirname(os.path.abspath(path))))
    return problems


def main():
    module = ModusCloudModule(argument_spec(), mutually_exclusive=[("key", "access_token")],
                              required_one_of=[("key", "access_token")])
    libraries = [("requests", REQUESTS_IMPORT_ERROR), ("msal", MSAL_IMPORT_ERROR)]
    if query_given(module.params["exemption_query"]):
        libraries.append(("jmespath", JMESPATH_IMPORT_ERROR))
    for library, error in libraries:
        if error:
            module.fail_json(msg=missing_required_lib(library), exception=error)
    problems = invalid_options(module.params, module.check_mode)
    if problems:
        module.fail_json(msg="Invalid options: " + "; ".join(problems))
    if module.params["validate_only"]:
        problem = connection_problem(module.params)
        if problem:
            module.fail_json(msg=problem)
        module.exit_json(changed=False, validated=True)

    started = datetime.now(timezone.utc)
    org = normalize_domain(module.params["org"])
    sync = UserSync(module, module.client(org), org)
    try:
        result = sync.run(started)
    except (ApiError, GraphError) as error:
        module.fail_json(msg=str(error), **dict(error.to_result(), **sync.progress()))
    result.update(sync.changes.result(module._diff))
    module.exit_json(**result)


class SyncFailure(GraphError):
    """A reason to stop that is not a failed API call; `result` goes into fail_json beside the message."""


class UserSync(object):
    """One run of the module: read both sides, compute the report, then report, apply or wait."""

    def __init__(self, module, client, org):
        self.module = module
        self.params = module.params
        self.client = client
        self.org = org
        self.changes = ChangeSet(module.check_mode)
        self.applied = None
        self._new_graph_client = None
        self.query_exemptions = None

    def progress(self):
        """What a failed run had already written, for fail_json."""
        if self.applied is None:
            return {}
        return {"changed": any(self.applied.values()), "applied": dict(self.applied)}

    def run(self, started):
        saved, status = self.client.read_import_settings(self.org)
        settings = self.effective_settings(saved)
        tenant_id, application_id = self.sync_app(saved)
        result = {"settings": settings, "tenant_id": tenant_id, "application_id": application_id}
        mode = self.params["mode"]

        if mode == "wait" and not self.module.check_mode:
            since = parse_timestamp(self.params["since"]) if self.params["since"] else started
            self.preflight(saved, tenant_id, application_id)
            status, waited = self.wait_for_sync(since)
            result["waited_seconds"] = waited
        elif mode == "wait":
            result["waited_seconds"] = 0.0
        result["sync_status"] = status or {"secret_expiry": None, "last_successful_sync": None}

        report = self.compute_report(settings, tenant_id, application_id)
        if self.query_exemptions is not None:
            result["query_exemptions"] = self.query_exemptions
        result["report"] = trim_report(report, self.params["report_limit"])
        result["removals_over_limit"] = [user["primary_email"]
                                         for user in removals_over_limit(report, self.params["max_removals"])]
        if self.params["report_path"]:
            result["report_files"] = self.write_report(report, settings, tenant_id, started)
        if report["missing_domains"] and mode != "wait":
            self.module.warn("modusCloud's scheduled sync fails until these Entra domains are added to organization "
                             "%s: %s" % (self.org, ", ".join(report["missing_domains"])))

        if mode == "apply":
            self.refuse_mass_removal(report)
            result["applied"] = self.apply(report)
        elif mode == "wait" and not self.module.check_mode:
            self.require_converged(report, result)
        return result

    # -- inputs

    def effective_settings(self, saved):
        """The saved import settings, overridden by the options set; every one must be known."""
        settings = dict((name, (saved or {}).get(name)) for name in SETTING_OPTIONS)
        settings.update((name, self.params[name]) for name in SETTING_OPTIONS if self.params[name] is not None)
        unknown = [name for name in SETTING_OPTIONS if settings[name] is None]
        if unknown:
            reason = ("organization %s has no Azure AD import settings" % self.org if saved is None
                      else "the saved import settings of %s do not include %s" % (self.org, ", ".join(unknown)))
            raise SyncFailure("%s, so the sync they describe is unknown: set %s, or save the settings with "
                              "moduscloud.azure_sync.moduscloud_import_settings" % (reason, ", ".join(unknown)))
        if self.params["mode"] == "wait":
            if saved is None:
                raise SyncFailure("mode=wait: organization %s has no Azure AD import settings, so the service never "
                                  "syncs; save them with moduscloud.azure_sync.moduscloud_import_settings" % self.org)
            if not saved.get("sync_frequency_hours"):
                raise SyncFailure("mode=wait: the import settings of %s have no sync frequency (sync_frequency_hours "
                                  "is 0 or not returned), so the service does not sync on its own; set it with "
                                  "moduscloud.azure_sync.moduscloud_import_settings" % self.org)
        return settings

    def sync_app(self, saved):
        """(tenant, application id) the service signs in with, unless given; a token needs only the tenant."""
        saved = saved or {}
        tenant_id = self.params["tenant_id"] or saved.get("primary_domain")
        application_id = self.params["application_id"] or saved.get("application_id")
        if not tenant_id or not (application_id or self.params["access_token"]):
            raise SyncFailure("organization %s has no saved Azure AD import settings to take the sync app from: set "
                              "tenant_id%s" % (self.org, "" if self.params["access_token"] else " and application_id"))
        return tenant_id.strip().lower(), (application_id.strip().lower() if application_id else None)

    def graph(self, tenant_id, application_id):
        """A factory of Graph clients for the directory reads (one token per run, a client per thread).

        With key, the token is the sync app's own, and a refused sign-in fails with what it means for the
        service. With access_token, the token given, once it is known to belong to the tenant.
        """
        if self._new_graph_client is None:
            connection = self.graph_connection(tenant_id, application_id)
            if self.params["access_token"]:
                self._check_token_tenant(connection.client(), tenant_id)
            else:
                try:
                    connection.token()
                except TokenError as error:
                    raise SyncFailure("%s. %s" % (error, SIGN_IN_HINT), **error.to_result())
            self._new_graph_client = connection.client
        return self._new_graph_client

    def graph_connection(self, tenant_id, application_id):
        """The sync app's Graph connection (its key), or the access_token's, through the module's transport."""
        params = self.params
        if not params["access_token"] and (application_id == PLACEHOLDER
                                           or params["key"] == SECRET_VALUE_PLACEHOLDER):
            raise SyncFailure("the sync app cannot sign in with a check-mode placeholder (of an application or a "
                              "secret an earlier task would create): give access_token instead of key to compute the "
                              "report in a dry run")
        names = ("cloud", "authority_host", "graph_url", "ca_path", "validate_certs", "proxy_url")
        options = dict((name, params[name]) for name in names)
        if params["access_token"]:
            options.update(auth="access_token", access_token=params["access_token"])
        else:
            options.update(auth="client_secret", tenant_id=tenant_id, client_id=application_id,
                           client_secret=params["key"])
        return GraphConnection(options, environment=False)

    def _check_token_tenant(self, graph, tenant_id):
        # The service reads the tenant of its primary domain; a token of another tenant would report on
        # (and apply) the wrong directory. Domains read earlier with the same token say it as well.
        if tenant_id in [name.lower() for name in self.params["tenant_domains"] or ()]:
            return
        try:
            names = graph.tenant_names()
        except ApiError as error:
            raise self.explained_graph_error(error)
        if tenant_id not in names:
            raise SyncFailure("the access_token given belongs to another tenant (%s) than %s, the tenant modusCloud "
                              "syncs organization %s from: give a token of that tenant"
                              % (", ".join(sorted(names)), tenant_id, self.org))

    def explained_graph_error(self, error):
        """A Graph failure of the directory read, with what it means (for the service, or for the token given)."""
        if self.params["access_token"]:
            hint = {401: TOKEN_REFUSED_HINT, 403: TOKEN_READ_HINT}.get(error.status)
        else:
            hint = {403: CONSENT_HINT}.get(error.status)
        if hint is None:
            return error
        return SyncFailure("%s. Hint: %s" % (error, hint), **error.to_result())

    def compute_report(self, settings, tenant_id, application_id):
        new_graph_client = self.graph(tenant_id, application_id)
        query = self.params["exemption_query"]
        # The organization's side does not depend on the directory: it is read while Graph is.
        with ThreadPoolExecutor(max_workers=1) as pool:
            organization = pool.submit(self.read_organization)
            try:
                domains, users, groups = read_directory(new_graph_client, settings, self.params["tenant_domains"],
                                                        user_fields(query, USER_FIELDS))
            except ApiError as error:
                raise self.explained_graph_error(error)
            org_domains, exemptions, org_users = organization.result()
        if query_given(query):
            try:
                self.query_exemptions = matching_addresses(query, users)
            except QueryError as error:
                raise SyncFailure(str(error))
        if self.module.check_mode:
            # An earlier task of this run adds them; its check mode only predicted that.
            org_domains += [normalize_domain(name) for name in self.params["planned_domains"]]
            if self.params["planned_exemptions"] is not None:
                # An earlier task saves these (with the rule's matches); its check mode only predicted that.
                exemptions = self.params["planned_exemptions"]
        return reconcile(entra_users=users, entra_groups=groups, tenant_domains=domains, settings=settings,
                         exemptions=exemptions, org_domains=org_domains, org_users=org_users,
                         rule_exemptions=self.query_exemptions or ())

    def read_organization(self):
        """The organization's domain names, exemptions and users, as the report compares them."""
        client, org = self.client, self.org
        return ([domain["name"] for domain in client.list_domains(org)], client.list_exemptions(org),
                client.list_users(org))

    # -- report files

    def write_report(self, report, settings, tenant_id, started):
        """The whole report as JSON and CSV, and a Markdown summary (counts, the first report_limit entries)."""
        json_path = self.params["report_path"]
        base = os.path.splitext(json_path)[0]
        markdown_path, csv_path = base + MARKDOWN_EXTENSION, base + CSV_EXTENSION
        generated = started.strftime(TIMESTAMP_FORMAT)
        document = dict(report, org=self.org, tenant_id=tenant_id, generated_at=generated, settings=settings)
        title = "modusCloud Azure AD sync report for %s (%s)" % (self.org, generated)
        files = [("JSON", os.path.basename(json_path)),
                 ("every user and action as CSV, for a spreadsheet", os.path.basename(csv_path))]
        self.write_file(json_path, json.dumps(document, indent=1, sort_keys=True) + "\n")
        self.write_file(csv_path, render_csv(report))
        self.write_file(markdown_path,
                        render_markdown(trim_report(report, self.params["report_limit"]), title, files) + "\n")
        return {"json": json_path, "markdown": markdown_path, "csv": csv_path}

    def write_file(self, path, text):
        # Written beside the target, then moved over it: a reader never sees half a report. The report
        # holds people's names and addresses: only the owner may read it, whatever the file was before.
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".report-")
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        self.module.atomic_move(temporary, path)
        os.chmod(path, REPORT_FILE_MODE)

    # -- mode apply

    def refuse_mass_removal(self, report):
        too_many = removals_over_limit(report, self.params["max_removals"])
        if too_many:
            raise SyncFailure(
                "Refused: the sync would remove %d users, more than max_removals (%d); nothing was written. Review "
                "them in 'removals', then raise max_removals to at least %d to apply the sync"
                % (len(too_many), self.params["max_removals"], len(too_many)),
                removals=[user["primary_email"] for user in too_many],
                report=trim_report(report, self.params["report_limit"]))

    def apply(self, report):
        """Removals, then updates, then additions, so an address can move from one user to another."""
        self.applied = {"added": 0, "updated": 0, "removed": 0}
        changes = self.changes
        for user in report["users"]["remove"]:
            changes.ensure(user_label(user["primary_email"]), user, None,
                           delete=lambda address=user["primary_email"]: self.remove(address))
        for user in report["users"]["change"]:
            before = dict((field, change["before"]) for field, change in user["changes"].items())
            after = dict((field, change["after"]) for field, change in user["changes"].items())
            changes.ensure(user_label(user["primary_email"]), before, after,
                           update=lambda fields, address=user["primary_email"]: self.update(address, fields))
        additions = report["users"]["add"]
        for user in additions:
            changes.record(user_label(user["primary_email"]), None, user)
        for start in range(0, len(additions), CREATE_BATCH_SIZE):
            changes.run(self.add, additions[start:start + CREATE_BATCH_SIZE])
        return self.applied

    def remove(self, address):
        self.client.delete_user(self.org, address)
        self.applied["removed"] += 1

    def update(self, address, fields):
        # The client reads the whole user, sets these fields and writes it back (PUT replaces the object).
        self.client.update_user(self.org, address, fields)
        self.applied["updated"] += 1

    def add(self, users):
        self.client.create_users(self.org, users)
        self.applied["added"] += len(users)

    # -- mode wait

    def preflight(self, saved, tenant_id, application_id):
        """Fail now on what makes the service's sync fail: sign-in, consent (both only with key), missing domains."""
        graph = self.graph(tenant_id, application_id)()
        try:
            tenant_domains = graph.verified_domains()
            graph.check_directory_read()
        except ApiError as error:
            raise self.explained_graph_error(error)
        org_domains = set(domain["name"] for domain in self.client.list_domains(self.org))
        missing = sorted(set(tenant_domains) - org_domains)
        if missing:
            raise SyncFailure("modusCloud's scheduled sync fails while these verified Entra domains are missing on "
                              "organization %s: %s. Add them (for example with moduscloud.azure_sync.moduscloud_domain)"
                              " before waiting for the sync" % (self.org, ", ".join(missing)), missing_domains=missing)
        saved_app = (saved.get("primary_domain"), saved.get("application_id"))
        if self.params["key"] and (tenant_id, application_id) != saved_app:
            self.module.warn("The sync app given here (tenant %s, application %s) is not the one saved in modusCloud "
                             "(tenant %s, application %s), so its checks say little about the service's sign-in"
                             % ((tenant_id, application_id) + saved_app))

    def wait_for_sync(self, since):
        """Poll the sync status until last_successful_sync is later than `since`; (status, seconds waited)."""
        timeout, interval = self.params["wait_timeout"], self.params["wait_interval"]
        begin = time.monotonic()
        self.client.forget()  # the status changes while we wait: never from known_state
        while True:
            saved, status = self.client.read_import_settings(self.org)
            if saved is None:
                raise SyncFailure("the Azure AD import settings of %s were removed while waiting for the sync" % self.org)
            last = parse_timestamp(status.get("last_successful_sync"))
            waited = time.monotonic() - begin
            if last is not None and last > since:
                return status, round(waited, 1)
            if waited >= timeout:
                raise SyncFailure(self.timeout_message(since, status, saved, waited), sync_status=status)
            time.sleep(min(interval, timeout - waited))

    def timeout_message(self, since, status, saved, waited):
        text = ("modusCloud's scheduled sync did not succeed after %s within %d seconds (last successful sync: %s; "
                "the service syncs every %s hour(s))."
                % (since.strftime(TIMESTAMP_FORMAT), waited, status.get("last_successful_sync") or "never",
                   saved.get("sync_frequency_hours")))
        expiry = parse_timestamp(status.get("secret_expiry"))
        if expiry is not None and expiry < datetime.now(timezone.utc):
            return text + (" The key stored in modusCloud expired on %s: rotate it with "
                           "moduscloud.azure_sync.azure_app_secret and save the new value with "
                           "moduscloud.azure_sync.moduscloud_import_settings." % status["secret_expiry"])
        if self.params["access_token"]:
            return text + (" No Entra domain is missing. This run read the directory with access_token, so it did not "
                           "check the sync app's own sign-in and consent: check them by running mode=report with key "
                           "(the value modusCloud holds), and that wait_timeout covers the sync frequency.")
        return text + (" The key given here signs in, the app may read the directory and no Entra domain is missing, "
                       "so check that modusCloud stores this same key (save it again with "
                       "moduscloud.azure_sync.moduscloud_import_settings and update_key=always) and that "
                       "wait_timeout covers the sync frequency.")

    def require_converged(self, report, result):
        counts, users = report["counts"], report["users"]
        pending = ["%d to %s (%s)" % (counts[kind], kind, ", ".join(entry["primary_email"]
                                                                    for entry in users[kind][:self.params["report_limit"]]))
                   for kind in ("add", "change", "remove") if counts[kind]]
        if pending:
            raise SyncFailure("modusCloud's sync succeeded at %s, but the users still differ from the directory: %s"
                              % (result["sync_status"].get("last_successful_sync"), "; ".join(pending)), **result)


def user_label(address):
    return "user " + address


def read_directory(new_graph_client, settings, tenant_domains=None, select_users=USER_FIELDS):
    """(verified domain names, users, groups with members) as the sync reads them; only what the settings need.

    `select_users`: the user fields to read (comma-separated), more than the sync's when an exemption rule needs them.

    The users' pages and the groups' pages (with their members read in batches as the pages arrive) are two
    chains of requests that do not wait for each other, so they run side by side: the read takes as long as
    the longer chain.
    """
    graph = new_graph_client()
    domains = [name.lower() for name in tenant_domains] if tenant_domains is not None else graph.verified_domains()
    read_users = settings["sync_active_users"]
    read_groups = settings["sync_distribution_groups"] or settings["sync_security_groups"]
    if not (read_users and read_groups):
        users = graph.list_users(select_users) if read_users else []
        groups = with_members(new_graph_client, graph.iter_groups(GROUP_FIELDS)) if read_groups else []
        return domains, users, groups
    with ThreadPoolExecutor(max_workers=1) as pool:
        users_read = pool.submit(lambda: new_graph_client().list_users(select_users))
        try:
            groups = with_members(new_graph_client, graph.iter_groups(GROUP_FIELDS))
        except Exception:
            users_read.result()  # a failure to read the users is the one to report, as when they were read first
            raise
        return domains, users_read.result(), groups


if __name__ == "__main__":
    main()
