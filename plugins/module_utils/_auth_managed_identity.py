# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Sign-in method managed_identity: the Azure machine the controller runs on signs in as its managed
identity (system-assigned, or user-assigned by client_id), through msal's ManagedIdentityClient.

Private to this collection: no compatibility promise outside it.

msal picks the source from the environment: App Service, Functions and Container Apps
(IDENTITY_ENDPOINT and IDENTITY_HEADER), Azure Arc (IDENTITY_ENDPOINT and IMDS_ENDPOINT), Azure
Machine Learning (MSI_ENDPOINT and MSI_SECRET), else the virtual machine's instance metadata
service (IMDS, 169.254.169.254), which cannot be detected without asking it: auth=auto chooses
this method only when one of those variables says so, auth=managed_identity always.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_base import AuthMethod, load_msal
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import GraphError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._transport import env_value

# The variables msal reads to find the managed identity endpoint.
SOURCE_ENV = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET")
# The instance metadata service answers only on the machine itself: never through a proxy.
IMDS_HOST = "169.254.169.254"


@contextlib.contextmanager
def _without_empty_source_variables():
    """msal tests the presence of its variables, not their value: an empty one (AWX injects unused keys as "")
    would send it to a source that does not exist. Hidden for the duration of the sign-in."""
    hidden = dict((name, os.environ[name]) for name in SOURCE_ENV if name in os.environ and not os.environ[name].strip())
    for name in hidden:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(hidden)


class ManagedIdentityAuth(AuthMethod):
    NAME = "managed_identity"
    DESCRIPTION = "the managed identity of the Azure machine the controller runs on"

    @classmethod
    def available(cls, options):
        if env_value("IDENTITY_ENDPOINT", "MSI_ENDPOINT"):
            return None
        return (
            "no IDENTITY_ENDPOINT or MSI_ENDPOINT in the environment (on an Azure virtual machine, whose instance "
            "metadata service cannot be detected without asking it, set auth=managed_identity)"
        )

    def problems(self):
        msal = load_msal()
        if not hasattr(msal, "ManagedIdentityClient"):
            return ["auth=managed_identity needs msal 1.29.0 or later on the controller (found %s)" % getattr(msal, "__version__", "an older one")]
        return []

    @property
    def identity_label(self):
        client_id = self.options.get("client_id")
        return "managed identity %s" % client_id if client_id else "system-assigned managed identity"

    def token(self):
        client_id = self.options.get("client_id")
        resource = self.connection.graph_url

        def sign_in(http):
            msal = load_msal()
            endpoint = env_value("IDENTITY_ENDPOINT", "MSI_ENDPOINT") or IMDS_HOST
            http.direct = IMDS_HOST in endpoint
            identity = msal.UserAssignedManagedIdentity(client_id=client_id) if client_id else msal.SystemAssignedManagedIdentity()
            with _without_empty_source_variables():
                client = msal.ManagedIdentityClient(identity, http_client=http, token_cache=msal.TokenCache())
                return client.acquire_token_for_client(resource=resource)

        try:
            return self.signed_in(sign_in, client_id, subject=self.identity_label)
        except ValueError as exc:  # pragma: no cover - msal refuses an identity it cannot use
            raise GraphError("auth=managed_identity: %s" % exc)
