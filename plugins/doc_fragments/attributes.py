# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Attribute documentation shared by the collection's modules, and what every module's failure returns."""

    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return a changed status prediction without modifying the target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
notes:
  - A failure that an option's value causes (a check before any request, or a value the service or tenant refuses)
    returns C(invalid_options), the list of the options it is about, beside C(msg), so that a caller can name its own
    variables for them. An option whose parts can be wrong apart is named by the part, as
    C(api_permissions.application) and C(api_permissions.delegated). The checks of Ansible's own argument spec
    (required options, types, choices) fail without it.
"""

    # Modules that only read.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: This module only reads, so it runs normally in check mode.
  diff_mode:
    support: N/A
    details: This module never changes anything.
"""

    ACTION_GROUP_GRAPH = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/moduscloud.azure_sync.graph) in C(module_defaults) to set the Microsoft Graph connection options once per play.
    support: full
    membership:
      - moduscloud.azure_sync.graph
"""

    ACTION_GROUP_MODUSCLOUD = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/moduscloud.azure_sync.moduscloud) in C(module_defaults) to set the modusCloud connection options once per play.
    support: full
    membership:
      - moduscloud.azure_sync.moduscloud
"""
