# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The exemption_query_matches filter; its documentation is in exemption_query_matches.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._exemption_query import (
    QueryError,
    matching_addresses,
)


def exemption_query_matches(users, query):
    """The addresses `query` (an exemption_query) selects from `users`, as the modules compute them."""
    if not isinstance(users, list):
        raise AnsibleFilterError("exemption_query_matches takes a list of users (dicts with Graph user fields), got %s" % type(users).__name__)
    if not isinstance(query, str) or not query.strip():
        raise AnsibleFilterError("exemption_query_matches needs the exemption_query expression as its argument")
    try:
        return matching_addresses(query, users)
    except QueryError as error:
        raise AnsibleFilterError(str(error))


class FilterModule(object):
    def filters(self):
        return {"exemption_query_matches": exemption_query_matches}
