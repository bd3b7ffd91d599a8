# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Sign-in method azure_cli: the token of the person signed in to the Azure CLI on the controller
(`az login`), from `az account get-access-token`.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import shutil
import subprocess

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_base import AuthMethod, TokenError

CLI_TIMEOUT = 60


class AzureCliAuth(AuthMethod):
    NAME = "azure_cli"
    DESCRIPTION = "the account signed in to the Azure CLI (az login)"

    @classmethod
    def available(cls, options):
        if shutil.which("az") is None:
            return "the Azure CLI (az) is not on PATH"
        return None

    def problems(self):
        if shutil.which("az") is None:
            return ["auth=azure_cli needs the Azure CLI (az) on the controller's PATH; install it and run az login"]
        return []

    def failure(self, message):
        return TokenError(None, self.options.get("tenant_id"), message=message, method=self.NAME, subject="the account signed in to the Azure CLI")

    def token(self):
        command = [shutil.which("az") or "az", "account", "get-access-token", "--resource", self.connection.graph_url, "--output", "json"]
        if self.options.get("tenant_id"):
            command += ["--tenant", self.options["tenant_id"]]
        try:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=CLI_TIMEOUT, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            raise self.failure("the Azure CLI could not be run: %s" % exc)
        errors = done.stderr.decode("utf-8", "replace").strip().rstrip(".")
        if done.returncode != 0:
            hint = (
                " Sign in first with: az login%s" % (" --tenant %s" % self.options["tenant_id"] if self.options.get("tenant_id") else "")
                if "az login" in errors
                else ""
            )
            raise self.failure("az account get-access-token failed (exit status %d): %s.%s" % (done.returncode, errors[-500:] or "no message", hint))
        try:
            token = json.loads(done.stdout.decode("utf-8"))["accessToken"]
        except (ValueError, KeyError, TypeError):
            raise self.failure("az account get-access-token answered no accessToken")
        return token
