#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: moduscloud_domain
short_description: Ensure domains on a modusCloud organization, or check that the tenant's domains are there
description:
  - Adds or removes domains of a modusCloud (Proofpoint Essentials) organization.
  - modusCloud's Azure AD sync fails when any domain of the Entra tenant is missing from the
    organization. With O(required_domains) the module only checks, reports exactly which of
    those domains are missing and, with O(fail_on_missing=true), fails naming them. It then
    never writes.
version_added: 1.0.0
author:
  - moduscloud.azure_sync maintainers (@moduscloud)
options:
  domains:
    description:
      - Domains to add (O(state=present)) or remove (O(state=absent)).
      - Other domains of the organization are left alone.
      - Mutually exclusive with O(required_domains).
    type: list
    elements: str
  state:
    description:
      - Whether the O(domains) should be on the organization.
      - The organization's primary domain cannot be removed.
    type: str
    choices: [present, absent]
    default: present
  is_relay:
    description:
      - Whether modusCloud relays the mail of the O(domains) to O(destination).
      - Applied to every domain in O(domains) when set; not managed when omitted.
    type: bool
  destination:
    description:
      - The host that receives the O(domains)' mail, for example C(contoso-com.mail.protection.outlook.com).
      - Applied to every domain in O(domains) when set; not managed when omitted.
    type: str
  required_domains:
    description:
      - Check mode of its own, for a preflight - the domains that must be on the organization,
        normally the verified domains of the Entra tenant.
      - The module compares them (case-insensitively) with the organization's domains, returns
        RV(missing) and never writes.
      - Mutually exclusive with O(domains).
    type: list
    elements: str
  fail_on_missing:
    description:
      - With O(required_domains), fail naming the missing domains instead of only returning them.
    type: bool
    default: false
extends_documentation_fragment:
  - moduscloud.azure_sync.moduscloud
  - moduscloud.azure_sync.moduscloud.ORG
  - moduscloud.azure_sync.moduscloud.KNOWN_STATE
  - moduscloud.azure_sync.attributes
  - moduscloud.azure_sync.attributes.ACTION_GROUP_MODUSCLOUD
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: One entry per domain in O(domains), by name.
notes:
  - A new domain may still need verification (TXT or META record) in the console before mail flows.
seealso:
  - module: moduscloud.azure_sync.moduscloud_import_settings
  - module: moduscloud.azure_sync.moduscloud_sync_info
"""

EXAMPLES = r"""
- name: Fail early, naming the tenant domains missing from the organization
  moduscloud.azure_sync.moduscloud_domain:
    org: contoso.com
    required_domains: "{{ tenant_domains }}"
    fail_on_missing: true

- name: Add the missing domains, relayed to Exchange Online
  moduscloud.azure_sync.moduscloud_domain:
    org: contoso.com
    domains:
      - contoso.net
      - contoso.onmicrosoft.com
    is_relay: true
    destination: contoso-com.mail.protection.outlook.com

- name: Remove a domain that left the tenant
  moduscloud.azure_sync.moduscloud_domain:
    org: contoso.com
    domains: [old-brand.com]
    state: absent
"""

RETURN = r"""
domains:
  description: The organization's domains after the run (predicted in check mode), sorted by name.
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
known_state:
  description:
    - The O(known_state) given, with the organization's domains as this task leaves them, for a later task's
      O(known_state); the organization's settings and exemptions are as O(known_state) says, since this module does
      not change them.
  returned: when O(known_state) and O(domains) are given, except in check mode when a domain would change
  type: dict
missing:
  description: The O(required_domains) the organization lacks, lower case and sorted.
  returned: when O(required_domains) is given
  type: list
  elements: str
  sample: [contoso.onmicrosoft.com]
"""

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._domains import run_domains
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud import ModusCloudModule


def main():
    module = ModusCloudModule(
        argument_spec=dict(
            domains=dict(type="list", elements="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            is_relay=dict(type="bool"),
            destination=dict(type="str"),
            required_domains=dict(type="list", elements="str"),
            fail_on_missing=dict(type="bool", default=False),
            known_state=dict(type="dict"),
        ),
        mutually_exclusive=[("domains", "required_domains")],
        required_one_of=[("domains", "required_domains")],
    )
    run_domains(module)


if __name__ == "__main__":
    main()
