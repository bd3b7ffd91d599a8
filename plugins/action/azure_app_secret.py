# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of azure_app_secret: runs the module (in the worker when it can, see _in_process.py) and
hides the task result whenever it carries a new value.

A module cannot mark part of its own result as secret, so a playbook that forgot `no_log: true`
would print a freshly created client secret. This wrapper marks such results no_log, the same as
if the task had said so; the registered variable still holds the value for the next task.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.moduscloud.azure_sync.plugins.modules import azure_app_secret
from ansible_collections.moduscloud.azure_sync.plugins.plugin_utils._in_process import InProcessModuleAction


class ActionModule(InProcessModuleAction):
    MODULE = azure_app_secret
    # An async result is read back by async_status, past this plugin: it could not be hidden.
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        if result.get("value"):
            result["_ansible_no_log"] = True
        return result
