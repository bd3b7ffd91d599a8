# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Sign-in method workload_identity: an application signs in with a token its platform issues
(Kubernetes service account, GitHub Actions OIDC, ...), which the application's federated
credential trusts. The token file is read again at every sign-in, because the platform rotates it.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_base import AuthMethod
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import GraphError


class WorkloadIdentityAuth(AuthMethod):
    NAME = "workload_identity"
    DESCRIPTION = "tenant_id, client_id and federated_token_file"
    REQUIRED = (
        ("tenant_id", ("AZURE_TENANT_ID", "AZURE_TENANT")),
        ("client_id", ("AZURE_CLIENT_ID",)),
        ("federated_token_file", ("AZURE_FEDERATED_TOKEN_FILE",)),
    )

    @classmethod
    def available(cls, options):
        if not options.get("federated_token_file"):
            return "no federated_token_file (AZURE_FEDERATED_TOKEN_FILE)"
        return None

    def problems(self):
        missing = self.missing()
        if missing:
            return missing
        try:
            self.assertion()
        except GraphError as error:
            return [str(error)]
        return []

    def problem_options(self):
        options = super(WorkloadIdentityAuth, self).problem_options()
        # Every REQUIRED option set (only auth named): the problem is the token file's content.
        return options if len(options) > 1 else options + ["federated_token_file"]

    def assertion(self):
        path = self.options["federated_token_file"]
        try:
            with open(path) as handle:
                token = handle.read().strip()
        except (IOError, OSError) as exc:
            raise GraphError("federated_token_file %s cannot be read: %s" % (path, exc.strerror or exc), options=("federated_token_file",))
        if not token:
            raise GraphError("federated_token_file %s is empty: it must hold the token the platform issues" % path, options=("federated_token_file",))
        return token

    def token(self):
        # A callable: msal asks for the assertion at each request, so a rotated file is read afresh.
        return self.signed_in_as_application({"client_assertion": self.assertion})
