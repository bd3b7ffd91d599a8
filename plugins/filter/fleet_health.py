# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of playbooks/fleet_health.yml: the health row of a tenant, the rows of a run worst first,
and the Markdown page. The logic lives in plugins/module_utils/_health.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _health


def fleet_health_row(reads, host, thresholds=None):
    """{{ reads | moduscloud.azure_sync.fleet_health_row(inventory_hostname, thresholds) }}: one tenant's row."""
    try:
        return _health.health_row(host, dict(reads or {}), thresholds)
    except ValueError as error:
        raise AnsibleFilterError(str(error))


def fleet_health_rows(hosts, hostvars, fact="azure_user_sync_health_row"):
    """{{ ansible_play_hosts_all | moduscloud.azure_sync.fleet_health_rows(hostvars) }}: every host's row, worst first.

    A host that has no row (it failed before its reads) gets one that says so.
    """

    def row_of(host):
        try:
            variables = hostvars[host]
        except KeyError:
            return None
        row = variables.get(fact) if hasattr(variables, "get") else None
        return dict(row) if row else None

    return _health.rows_for_hosts(list(hosts or []), row_of)


def fleet_health_sort(rows):
    """{{ rows | moduscloud.azure_sync.fleet_health_sort }}: rows (for example merged from several slices), worst first."""
    if isinstance(rows, dict):
        rows = list(rows.values())
    return _health.sorted_rows([dict(row) for row in rows or []])


def fleet_health_markdown(rows, generated=None, thresholds=None, title=None):
    """{{ rows | moduscloud.azure_sync.fleet_health_markdown(generated, thresholds) }}: the Markdown page."""
    try:
        if title:
            return _health.markdown(list(rows or []), title=title, generated=generated, thresholds=thresholds)
        return _health.markdown(list(rows or []), generated=generated, thresholds=thresholds)
    except ValueError as error:
        raise AnsibleFilterError(str(error))


class FilterModule(object):
    def filters(self):
        return {
            "fleet_health_row": fleet_health_row,
            "fleet_health_rows": fleet_health_rows,
            "fleet_health_sort": fleet_health_sort,
            "fleet_health_markdown": fleet_health_markdown,
        }
