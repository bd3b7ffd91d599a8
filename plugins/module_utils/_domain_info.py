# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What azure_domain_info reports: the Entra tenant's verified domains, and the check that a required one is
among them. Reads only.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import GraphError


def domain_info(module):
    """azure_domain_info: the verified domains, lower case and sorted, failing unless required_domain is one of
    them; the module's result."""
    verified = sorted(set(module.graph.verified_domains()))
    required = module.params["required_domain"]
    if required is not None and required.lower() not in verified:
        raise GraphError(
            "required_domain is %s, which is not a verified domain of the Entra tenant. Allowed: one of %s." % (required.lower(), ", ".join(verified)),
            options=("required_domain",),
        )
    return {"changed": False, "verified_domains": verified}
