#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: moduscloud_api_check
short_description: Compare what the modusCloud API answers with what the collection assumes
description:
  - Calls every read the collection uses on one organization and compares each answer with the
    collection's wire table (the one place that spells the modusCloud API's paths, keys and value
    forms; docs/moduscloud-api.md explains it). Each row of the table is reported as C(as assumed),
    C(differs) with the keys and JSON types seen, or C(not checked) with the reason.
  - The report holds shapes, never values - no address, id, key or date (a date shows only its form,
    digits as C(9)). It is safe to paste into a bug report.
  - Read-only unless O(write_probe_org) names the organization again. The write probes then settle the
    questions only a write can answer (does a settings save without the key keep it, which body adds
    exemptions, which boolean form the service takes, what an organization without settings answers)
    and restore what they changed. Use a test organization without Azure AD settings.
version_added: 1.0.0
author:
  - moduscloud.azure_sync maintainers (@moduscloud)
options:
  probe_bad_password:
    description:
      - Send one request with a wrong password, to see the status the service answers (401 or 403).
      - One failed login; turn it off where failed logins alert someone.
    type: bool
    default: true
  write_probe_org:
    description:
      - Run the write probes on O(org). Must be the same domain as O(org), as a second, explicit consent.
      - The organization must have no Azure AD settings - the probes save settings with a made-up application
        id and key (and a sync frequency of 0, never), then clear them. They also add and remove one exemption,
        C(contract-check-probe@) the organization's domain.
      - Not run in check mode.
    type: str
extends_documentation_fragment:
  - moduscloud.azure_sync.moduscloud
  - moduscloud.azure_sync.moduscloud.ORG
  - moduscloud.azure_sync.attributes
  - moduscloud.azure_sync.attributes.ACTION_GROUP_MODUSCLOUD
attributes:
  check_mode:
    support: full
    details: The reads run; the write probes do not.
  diff_mode:
    support: none
notes:
  - A failed read is reported with its HTTP status only, never with the service's message (which may
    name the organization).
seealso:
  - module: moduscloud.azure_sync.moduscloud_sync_info
  - module: moduscloud.azure_sync.moduscloud_import_settings
"""

EXAMPLES = r"""
- name: Check the API read-only and keep the report
  moduscloud.azure_sync.moduscloud_api_check:
    stack: us1
    username: admin@example.com
    password: "{{ moduscloud_password }}"
    org: example.com
  register: api_check

- name: Settle the write questions on a test organization
  moduscloud.azure_sync.moduscloud_api_check:
    org: test.example.com
    write_probe_org: test.example.com
"""

RETURN = r"""
report:
  description: The comparison, row by row, and the write probes. Shapes only, no values.
  returned: always
  type: dict
  contains:
    rows:
      description: One per wire table row, in its order.
      type: list
      elements: dict
      sample:
        - row: settings.booleans
          wire: JSON boolean
          assumed: how the boolean settings travel on PUT
          mark: "?"
          result: differs
          seen: "read: string true/false"
    counts:
      description: How many rows are C(as assumed), C(differs) and C(not checked).
      type: dict
      sample: {"as assumed": 30, "differs": 1, "not checked": 4}
    differing_rows:
      description: The names of the rows that differ.
      type: list
      elements: str
      sample: [settings.booleans]
    write_probes:
      description: What each write probe found and whether it restored what it changed.
      type: list
      elements: dict
      sample:
        - question: exemptions.add_key
          answer: the service took json_list (refused - comma_string HTTP 400)
          restored: "yes"
markdown:
  description: The same report as a Markdown document.
  returned: always
  type: str
"""

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._api_check import run_api_check
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud import ModusCloudModule


def main():
    module = ModusCloudModule(
        dict(
            probe_bad_password=dict(type="bool", default=True, no_log=False),
            write_probe_org=dict(type="str"),
        )
    )
    run_api_check(module)


if __name__ == "__main__":
    main()
