# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The base of every modusCloud module: the connection options, their checks before any request, and
ModusCloudModule.client(), the one way a module gets a ModusCloudClient.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import REQUESTS_IMPORT_ERROR
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_client import (
    AUTO_STACK,
    STACKS,
    ConnectionOptionsError,
    ModusCloudClient,
    connection_base,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_values import (
    is_email,
    known_state_problem,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._transport import Transport, env_fallback

# ---------------------------------------------------------------------------------------------
# Connection options and base URL
# ---------------------------------------------------------------------------------------------

# Environment variables set but empty count as unset (AWX injects every key of a credential type).
MODUSCLOUD_CONNECTION_SPEC = dict(
    api_url=dict(type="str", fallback=(env_fallback, ["MODUSCLOUD_API_URL"])),
    stack=dict(type="str", choices=list(STACKS) + [AUTO_STACK], fallback=(env_fallback, ["MODUSCLOUD_STACK"])),
    # Required, but checked by client_from_module, whose message names the environment and role variables.
    username=dict(type="str", fallback=(env_fallback, ["MODUSCLOUD_USERNAME"])),
    password=dict(type="str", no_log=True, fallback=(env_fallback, ["MODUSCLOUD_PASSWORD"])),
    ca_path=dict(type="path", fallback=(env_fallback, ["MODUSCLOUD_CA_PATH", "AZURE_SYNC_CA_PATH"])),
    validate_certs=dict(type="bool", default=True),
    proxy_url=dict(type="str", no_log=True),
)


def missing_credentials(params):
    """The message for missing modusCloud admin credentials, or None."""
    missing = [name for name in ("username", "password") if not (params.get(name) or "").strip()]
    if not missing:
        return None
    variables = dict(username="MODUSCLOUD_USERNAME", password="MODUSCLOUD_PASSWORD")
    return ("modusCloud connection: missing %s. Set the option%s %s, or the environment variable%s %s (in the role "
            "azure_user_sync: %s)" % (" and ".join(missing), "s" if len(missing) > 1 else "", " and ".join(missing),
                                      "s" if len(missing) > 1 else "",
                                      " and ".join(variables[name] for name in missing),
                                      " and ".join("azure_user_sync_moduscloud_%s" % name for name in missing)))


def moduscloud_argument_spec(**options):
    """The connection options, the organization every modusCloud module acts on (org), and a module's own.

    Documented by the doc fragments moduscloud.azure_sync.moduscloud and moduscloud.azure_sync.moduscloud.ORG.
    """
    spec = dict((name, dict(value)) for name, value in MODUSCLOUD_CONNECTION_SPEC.items())
    spec["org"] = dict(type="str", required=True)
    spec.update(options)
    return spec


def credentials_problem(params):
    """Why the admin credentials cannot sign in, found before any request, or None: missing (an empty value, as
    AWX injects for an unused credential field, counts as missing), or a username that is not an address."""
    problem = missing_credentials(params)
    if problem:
        return problem
    username = params["username"].strip()
    if not is_email(username):
        return "username must be the modusCloud admin's login email address, got %r" % username
    return None


def connection_problem(params):
    """Why the connection options cannot work, found without any request, or None."""
    try:
        connection_base(params.get("api_url"), params.get("stack"))
    except ConnectionOptionsError as error:
        return str(error)
    problems = Transport(params.get("ca_path"), params.get("validate_certs", True),
                         proxy_url=params.get("proxy_url")).problems()
    return "; ".join(problems) if problems else credentials_problem(params)


def client_from_module(module, org=None, **http_options):
    """A client for the module's connection options (fails the module with a clear message otherwise).

    With stack=auto the org's stack is discovered first, which needs `org`.
    """
    if REQUESTS_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    params = module.params
    try:
        base_url, discover = connection_base(params.get("api_url"), params.get("stack"))
    except ConnectionOptionsError as error:
        module.fail_json(msg=str(error))
    problem = credentials_problem(params)
    if problem:
        module.fail_json(msg=problem)
    transport = Transport(params.get("ca_path"), params.get("validate_certs", True), proxy_url=params.get("proxy_url"))
    problems = transport.problems()
    if problems:
        module.fail_json(msg="; ".join(problems))
    client = ModusCloudClient(base_url, params["username"], params["password"], transport=transport,
                              wire_format=params.get("wire_format"), **http_options)
    known = params.get("known_state")
    if known is not None and org:
        problem = known_state_problem(known)
        if problem:
            module.fail_json(msg=problem)
        client.prime(org, known)
    if discover:
        if not org:
            module.fail_json(msg="stack=%s needs the organization's domain to discover its stack" % AUTO_STACK)
        try:
            client.discover(org)
        except ApiError as error:
            module.fail_json(msg=str(error), **error.to_result())
    return client


class ModusCloudModule(AnsibleModule):
    """The base of every modusCloud module: the connection options and org (added when the module's own spec
    leaves them out), check mode, the dependency check, and client(org), the one way to a ModusCloudClient."""

    def __init__(self, argument_spec, **kwargs):
        spec = moduscloud_argument_spec()
        spec.update(argument_spec)
        kwargs.setdefault("supports_check_mode", True)
        super(ModusCloudModule, self).__init__(argument_spec=spec, **kwargs)
        if REQUESTS_IMPORT_ERROR:
            self.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)

    def client(self, org=None, **http_options):
        """The client of the module's connection options (fails the module with a clear message otherwise)."""
        return client_from_module(self, org, **http_options)
