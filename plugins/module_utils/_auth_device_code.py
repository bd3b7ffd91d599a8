# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Sign-in method device_code: a person signs in on any device with a one-time code (delegated token).

Private to this collection: no compatibility promise outside it. Only the graph_token lookup offers it:
a module cannot show the code while it runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_base import AuthMethod, load_msal

# What an administrator's delegated token needs for every module of the collection. Named, not
# "/.default": a public client such as Microsoft Graph Command Line Tools has no configured
# permissions, so ".default" would carry only what was consented before (nothing, at first).
DEVICE_CODE_SCOPES = (
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Directory.Read.All",
    "Policy.Read.All",
)


class DeviceCodeAuth(AuthMethod):
    NAME = "device_code"
    DESCRIPTION = "a person entering a one-time code"

    @classmethod
    def available(cls, options):
        return "device_code is only chosen explicitly"

    def problems(self):
        found = [name for name in ("tenant_id", "client_id") if not self.options.get(name)]
        if found:
            return ["auth=device_code needs %s (client_id: a public client application that allows the device code flow)" % " and ".join(found)]
        if self.connection.show is None:
            return ["auth=device_code is only possible in the moduscloud.azure_sync.graph_token lookup"]
        return []

    def token(self):
        """Blocks until the person finishes or the code expires. Not repeated on a transient failure: the
        person would be asked for a new code."""
        client_id = self.options["client_id"]
        requested = ["%s/%s" % (self.connection.graph_url, name) for name in (self.options.get("scopes") or DEVICE_CODE_SCOPES)]
        show = self.connection.show

        def sign_in(http):
            app = load_msal().PublicClientApplication(client_id, authority=self.authority, instance_discovery=False, http_client=http)
            flow = app.initiate_device_flow(scopes=requested)
            if "user_code" not in flow:
                return flow  # Entra's refusal
            show(flow["message"])
            return app.acquire_token_by_device_flow(flow)

        return self.signed_in(sign_in, client_id, max_retries=0)
