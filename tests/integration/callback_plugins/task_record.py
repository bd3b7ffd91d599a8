# Test-only callback: writes every task result (changed/failed/skipped) and the play recap to the
# JSON file named by TASK_RECORD_FILE, so tests assert on structure instead of grepping output.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: task_record
type: aggregate
short_description: Record task results for the collection's tests
description: Writes each task's changed/failed/skipped status and the recap to a JSON file.
options: {}
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.tasks = []

    def _record(self, result, status):
        self.tasks.append(
            {
                "host": result._host.get_name(),
                "task": result._task.get_name(),
                "action": result._task.action,
                "status": status,
                "changed": bool(result._result.get("changed")),
            }
        )

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        recap = dict((host, stats.summarize(host)) for host in sorted(stats.processed))
        with open(os.environ["TASK_RECORD_FILE"], "w") as handle:
            json.dump({"tasks": self.tasks, "recap": recap, "custom_stats": stats.custom}, handle, indent=1)
