# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Attribute documentation shared by the collection's modules."""

    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return a changed status prediction without modifying the target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
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
