# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Sign-in method access_token: a Microsoft Graph token obtained elsewhere (the graph_token lookup,
a pipeline), used as given.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_base import AuthMethod


class AccessTokenAuth(AuthMethod):
    NAME = "access_token"
    DESCRIPTION = "access_token"

    @classmethod
    def available(cls, options):
        if not options.get("access_token"):
            return "no access_token"
        return None

    def problems(self):
        token = self.options.get("access_token")
        if not token or not token.strip():
            return ["auth=access_token needs access_token (a Microsoft Graph token, for example from the "
                    "moduscloud.azure_sync.graph_token lookup)"]
        return []

    def token(self):
        return self.options["access_token"].strip()
