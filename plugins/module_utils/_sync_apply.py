# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Applying the user part of a sync report through the Users API: removals, updates, then additions,
each ensured or recorded through the run's ChangeSet (the max_removals refusal comes first, in _user_sync.py).

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync import UPDATABLE_FIELDS

# The API documents batch creation but no batch limit; modest batches keep each request small.
CREATE_BATCH_SIZE = 100


def user_label(address):
    return "user " + address


def update_user(client, org, address, fields):
    """Set the fields the sync owns (UPDATABLE_FIELDS) on a user; any other field is refused before any request."""
    refused = sorted(set(fields) - set(UPDATABLE_FIELDS))
    if refused:
        raise ValueError("update of user %s changes %s; only %s may change" % (address, ", ".join(refused), ", ".join(UPDATABLE_FIELDS)))
    # The client reads the whole user, sets these fields and writes it back (PUT replaces the object).
    return client.update_user(org, address, fields)


class SyncApply(object):
    """Writes one report's users to an organization; `applied` counts what was written so far."""

    def __init__(self, client, org, changes):
        self.client = client
        self.org = org
        self.changes = changes
        self.applied = None

    def apply(self, report):
        """Removals, then updates, then additions, so an address can move from one user to another."""
        self.applied = {"added": 0, "updated": 0, "removed": 0}
        changes = self.changes
        for user in report["users"]["remove"]:
            changes.ensure(user_label(user["primary_email"]), user, None, delete=lambda address=user["primary_email"]: self.remove(address))
        for user in report["users"]["change"]:
            before = dict((field, change["before"]) for field, change in user["changes"].items())
            after = dict((field, change["after"]) for field, change in user["changes"].items())
            changes.ensure(user_label(user["primary_email"]), before, after, update=lambda fields, address=user["primary_email"]: self.update(address, fields))
        additions = report["users"]["add"]
        for user in additions:
            changes.record(user_label(user["primary_email"]), None, user)
        for start in range(0, len(additions), CREATE_BATCH_SIZE):
            changes.write(self.add, additions[start : start + CREATE_BATCH_SIZE])
        return self.applied

    def remove(self, address):
        self.client.delete_user(self.org, address)
        self.applied["removed"] += 1

    def update(self, address, fields):
        update_user(self.client, self.org, address, fields)
        self.applied["updated"] += 1

    def add(self, users):
        self.client.create_users(self.org, users)
        self.applied["added"] += len(users)
