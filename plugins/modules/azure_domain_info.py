#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: azure_domain_info
short_description: Read the verified domains of an Entra ID tenant
description:
  - Reads the domains of the tenant through Microsoft Graph (all pages) and returns the verified ones.
  - modusCloud's sync fails while any verified domain of the tenant is missing from the organization, so
    the role reads them with this module before it saves the import settings.
  - The read goes through the collection's Graph client, so throttling (429 with Retry-After) and transient
    server errors are retried within the same bounded budget as every other Graph call.
version_added: 1.0.0
author:
  - moduscloud.azure_sync maintainers (@moduscloud)
options:
  required_domain:
    description:
      - Fail unless this domain is one of the tenant's verified domains (compared without regard to case), naming
        the verified ones. modusCloud finds the tenant through the primary domain of its import settings, so the
        role checks that one here before anything is written.
    type: str
extends_documentation_fragment:
  - moduscloud.azure_sync.graph
  - moduscloud.azure_sync.attributes
  - moduscloud.azure_sync.attributes.INFO_MODULE
  - moduscloud.azure_sync.attributes.ACTION_GROUP_GRAPH
notes:
  - "Microsoft Graph application permission the calling identity needs: C(Domain.Read.All) or
    C(Directory.Read.All)."
seealso:
  - module: moduscloud.azure_sync.moduscloud_domain
"""

EXAMPLES = r"""
- name: Read the tenant's verified domains
  moduscloud.azure_sync.azure_domain_info:
  register: tenant_domains

- name: Make sure the organization has each of them
  moduscloud.azure_sync.moduscloud_domain:
    org: example.com
    domains: "{{ tenant_domains.verified_domains }}"

- name: Check that the domain modusCloud finds the tenant through is a verified domain
  moduscloud.azure_sync.azure_domain_info:
    required_domain: contoso.com
"""

RETURN = r"""
verified_domains:
  description: The names of the tenant's verified domains, lower case, sorted.
  returned: always
  type: list
  elements: str
  sample: [contoso.com, contoso.onmicrosoft.com]
"""

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import GraphError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_module import GraphModule


def run(module):
    verified = sorted(set(module.graph.verified_domains()))
    required = module.params["required_domain"]
    if required is not None and required.lower() not in verified:
        raise GraphError(
            "required_domain is %s, which is not a verified domain of the Entra tenant. Allowed: one of %s." % (required.lower(), ", ".join(verified)),
            options=("required_domain",),
        )
    return {"changed": False, "verified_domains": verified}


def main():
    module = GraphModule(dict(required_domain=dict(type="str")), reports_changes=False)
    module.run(run)


if __name__ == "__main__":
    main()
