# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Sign-in method client_secret: an application signs in with a client secret (app-only token).

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_base import AuthMethod


class ClientSecretAuth(AuthMethod):
    NAME = "client_secret"
    DESCRIPTION = "tenant_id, client_id and client_secret"
    REQUIRED = (
        ("tenant_id", ("AZURE_TENANT_ID", "AZURE_TENANT")),
        ("client_id", ("AZURE_CLIENT_ID",)),
        ("client_secret", ("AZURE_CLIENT_SECRET", "AZURE_SECRET")),
    )

    @classmethod
    def available(cls, options):
        if not options.get("client_secret"):
            return "no client_secret (AZURE_CLIENT_SECRET, AZURE_SECRET)"
        return None

    def problems(self):
        missing = self.missing()
        if missing:
            return missing
        if self.options.get("client_certificate_path") and self.connection.auth_option == "auto":
            return [
                "client_secret and client_certificate_path are mutually exclusive (either may come from "
                "AZURE_CLIENT_SECRET / AZURE_SECRET or AZURE_CLIENT_CERTIFICATE_PATH): set auth to choose one"
            ]
        return []

    def token(self, max_retries=None, sleep=None):
        secret = self.options["client_secret"]
        kwargs = {} if max_retries is None else {"max_retries": max_retries}
        return self.signed_in_as_application(secret, secret=secret, sleep=sleep, **kwargs)
