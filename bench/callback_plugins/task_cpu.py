# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Benchmark aid (not part of the collection): the CPU each task of a play costs this machine, over all hosts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: task_cpu
type: aggregate
short_description: CPU seconds per task (bench/fleet.py --profile)
description:
  - Between one task's start and the next, the CPU time of ansible-playbook and of the processes it has reaped
    (its forks and, through them, the module processes), written as JSON to the file TASK_CPU_OUT names.
requirements:
  - enable in configuration
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_cpu"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.rows = []
        self.task = None
        self.mark = None

    @staticmethod
    def _now():
        times = os.times()
        return times.user + times.system, times.children_user + times.children_system, time.monotonic()

    def _close(self):
        if self.task is not None:
            now = self._now()
            self.rows.append(
                {
                    "task": self.task[0],
                    "action": self.task[1],
                    "controller": now[0] - self.mark[0],
                    "children": now[1] - self.mark[1],
                    "wall": now[2] - self.mark[2],
                }
            )
        self.task = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self.task = (task.get_name(), task.action)
        self.mark = self._now()

    def v2_playbook_on_stats(self, stats):
        self._close()
        path = os.environ.get("TASK_CPU_OUT")
        if path:
            with open(path, "w") as handle:
                json.dump(self.rows, handle)
