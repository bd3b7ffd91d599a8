#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: moduscloud_sync_info
short_description: Read the state of modusCloud's Azure AD user sync
description:
  - Reads what a modusCloud (Proofpoint Essentials) organization knows about its Azure AD (Entra ID)
    user sync - the import settings (never the key), when the stored key expires, when the
    last sync succeeded, the sync exemptions and the organization's domains, and optionally its
    users with their aliases (KB article 2012, modusCloud step 9).
  - Warns when the stored key expires within O(warn_secret_expiry_days) days - the service's
    sync stops silently when it does.
version_added: 1.0.0
author:
  - moduscloud.azure_sync maintainers (@moduscloud)
options:
  include_users:
    description:
      - Also return the organization's users (with their aliases). One more request; large
        organizations return a long list.
    type: bool
    default: false
  expected_app_id:
    description:
      - Fail unless the import settings name this application (its Application (client) ID), compared without
        regard to case; an empty value matches no application. The check of KB modusCloud step 9 that the
        service syncs with the application just registered.
      - Not checked in check mode, where the tasks before this one only predicted what they would save.
    type: str
  expected_users:
    description:
      - Fail, naming them, unless the organization lists a user with each of these primary addresses (compared
        without regard to case), for example the users a sync just added. Reads the users, as O(include_users) does.
      - Not checked in check mode (the users are still read), where a sync only predicted what it would add.
    type: list
    elements: str
  required_domains:
    description:
      - Fail, naming them, unless the organization has each of these domains (compared without regard to case or
        a trailing dot), for example the Entra tenant's verified domains, any of which missing fails the
        service's sync. Checked in check mode too (what is read is the organization as it is).
      - M(moduscloud.azure_sync.moduscloud_domain) with O(moduscloud.azure_sync.moduscloud_domain#module:fail_on_missing)
        makes the same check, with the same message.
    type: list
    elements: str
  warn_secret_expiry_days:
    description:
      - Warn when the stored key expires within this many days (or has expired). V(0) warns only once it has expired.
    type: int
    default: 30
extends_documentation_fragment:
  - moduscloud.azure_sync.moduscloud
  - moduscloud.azure_sync.moduscloud.ORG
  - moduscloud.azure_sync.moduscloud.KNOWN_STATE
  - moduscloud.azure_sync.attributes
  - moduscloud.azure_sync.attributes.INFO_MODULE
  - moduscloud.azure_sync.attributes.ACTION_GROUP_MODUSCLOUD
notes:
  - Days and hours are counted from the controller's clock (UTC).
seealso:
  - module: moduscloud.azure_sync.moduscloud_import_settings
  - module: moduscloud.azure_sync.moduscloud_user_sync
"""

EXAMPLES = r"""
- name: Read the sync state
  moduscloud.azure_sync.moduscloud_sync_info:
    org: contoso.com
  register: sync

- name: The settings match what was saved
  ansible.builtin.assert:
    that:
      - sync.configured
      - sync.settings.sync_frequency_hours == 1
      - sync.secret_days_remaining > 30

- name: Check that modusCloud syncs with the application and lists the users a sync added
  moduscloud.azure_sync.moduscloud_sync_info:
    org: contoso.com
    expected_app_id: 4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21
    expected_users: [jane@contoso.com]

- name: List the imported users and their aliases
  moduscloud.azure_sync.moduscloud_sync_info:
    org: contoso.com
    include_users: true
  register: sync_users
"""

RETURN = r"""
dry_run:
  description:
    - Whether the task ran in check mode, from C(--check) or the play's C(check_mode) keyword. Nothing is written
      either way; later tasks of a role read it to word their output as a plan (ansible tells roles only about
      C(--check) on the command line).
  returned: always
  type: bool
  sample: false
msg:
  description:
    - What was read, in one line - how many users the organization has (C(not read) unless they were read), when
      the last sync succeeded (C(never)) and when the stored key expires (C(unknown)).
  returned: always
  type: str
  sample: "Users in modusCloud: 42; last successful sync 2026-07-01T10:00:00Z; key expiry 2028-07-01"
configured:
  description: Whether the organization has Azure AD import settings.
  returned: always
  type: bool
  sample: true
settings:
  description:
    - The import settings by option name of M(moduscloud.azure_sync.moduscloud_import_settings);
      only those the service returns. Never the key. V(null) when not configured.
  returned: always
  type: dict
  sample:
    primary_domain: contoso.com
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
secret_expiry:
  description:
    - When the stored key expires, as C(YYYY-MM-DD) whatever form the service wrote it in (a form the
      collection cannot read is returned as sent, with a warning).
  returned: always
  type: str
  sample: "2028-07-01"
secret_days_remaining:
  description: Whole days from today (UTC) until RV(secret_expiry); negative once expired; V(null) if unknown.
  returned: always
  type: int
  sample: 729
last_successful_sync:
  description:
    - When the service's last sync succeeded, as C(YYYY-MM-DDTHH:MM:SSZ) (UTC) whatever form the service wrote
      it in (a form the collection cannot read is returned as sent, with a warning); V(null) if never.
  returned: always
  type: str
  sample: "2026-07-01T10:00:00Z"
last_sync_age_hours:
  description: Hours since RV(last_successful_sync), to one decimal; V(null) if never.
  returned: always
  type: float
  sample: 0.5
exemptions:
  description: The sync exemptions, lower case and sorted.
  returned: always
  type: list
  elements: str
  sample: [reception@contoso.com]
domains:
  description: The organization's domains.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The domain name, in lower case.
      type: str
      sample: contoso.com
    is_active:
      description: Whether the domain is active.
      type: bool
      sample: true
    is_relay:
      description: Whether mail for the domain is relayed to RV(domains[].destination).
      type: bool
      sample: true
    destination:
      description: The host that receives the domain's mail.
      type: str
      sample: contoso-com.mail.protection.outlook.com
users:
  description: The organization's users as the service returns them, sorted by C(primary_email).
  returned: when O(include_users=true) or O(expected_users) is given
  type: list
  elements: dict
  sample:
    - primary_email: jane@contoso.com
      uid: 100002
      firstname: Jane
      surname: Doe
      type: end_user
      is_active: true
      alias_emails: [j.doe@contoso.com]
"""


from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud import ModusCloudModule
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync_info import run_sync_info


def main():
    module = ModusCloudModule(
        argument_spec=dict(
            include_users=dict(type="bool", default=False),
            expected_app_id=dict(type="str"),
            expected_users=dict(type="list", elements="str"),
            required_domains=dict(type="list", elements="str"),
            warn_secret_expiry_days=dict(type="int", default=30, no_log=False),
            known_state=dict(type="dict"),
        ),
    )
    run_sync_info(module)


if __name__ == "__main__":
    main()
