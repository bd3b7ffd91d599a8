# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The base of every modusCloud module: the connection options, their checks before any request, and
ModusCloudModule.run(action), the one path from a module's options to its exit (client, changes, errors).

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ServiceError, options_error
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import REQUESTS_IMPORT_ERROR
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._module_exit import run_to_exit
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_client import (
    AUTO_STACK,
    STACKS,
    ConnectionOptionsError,
    ModusCloudClient,
    connection_base,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_values import (
    invalid_settings,
    is_email,
    known_state_problem,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import normalize_domain
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import ChangeSet, without_placeholders
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._transport import Transport, env_fallback

# Options an earlier task's check-mode create may leave as _state.PLACEHOLDER: the application's id (by either
# name: a message names the one the task used too) and its key.
PLACEHOLDER_OPTIONS = ("app_id", "application_id", "key")


# Environment variables set but empty count as unset (AWX injects every key of a credential type).
MODUSCLOUD_CONNECTION_SPEC = dict(
    api_url=dict(type="str", fallback=(env_fallback, ["MODUSCLOUD_API_URL"])),
    stack=dict(type="str", choices=list(STACKS) + [AUTO_STACK], fallback=(env_fallback, ["MODUSCLOUD_STACK"])),
    # Required, but checked by connection_problem, whose message names the environment and role variables.
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
    return "modusCloud connection: missing %s. Set the option%s %s, or the environment variable%s %s (in the role azure_user_sync: %s)" % (
        " and ".join(missing),
        "s" if len(missing) > 1 else "",
        " and ".join(missing),
        "s" if len(missing) > 1 else "",
        " and ".join(variables[name] for name in missing),
        " and ".join("azure_user_sync_moduscloud_%s" % name for name in missing),
    )


def moduscloud_argument_spec(**options):
    """The connection options, the organization every modusCloud module acts on (org), and a module's own.

    Documented by the doc fragments moduscloud.azure_sync.moduscloud and moduscloud.azure_sync.moduscloud.ORG.
    """
    spec = dict((name, dict(value)) for name, value in MODUSCLOUD_CONNECTION_SPEC.items())
    spec["org"] = dict(type="str", required=True)
    spec.update(options)
    return spec


def credentials_problem(params):
    """Why the admin credentials cannot sign in, found before any request, as (options, message), or None: missing
    (an empty value, as AWX injects for an unused credential field, counts as missing), or a username that is not
    an address."""
    problem = missing_credentials(params)
    if problem:
        return tuple(name for name in ("username", "password") if not (params.get(name) or "").strip()), problem
    username = params["username"].strip()
    if not is_email(username):
        return "username", "username must be the modusCloud admin's login email address, got %r" % username
    return None


def connection_problems(params):
    """Why the connection options cannot work, found without any request: (options, message) pairs."""
    try:
        connection_base(params.get("api_url"), params.get("stack"))
    except ConnectionOptionsError as error:
        return [(error.options, str(error))]
    problem = credentials_problem(params)
    if problem:
        return [problem]
    return Transport(params.get("ca_path"), params.get("validate_certs", True), proxy_url=params.get("proxy_url")).problems()


def connect(params, org):
    """The client of connection options that connection_problem() accepted, for organization `org`: primed with
    known_state when given, its stack discovered first with stack=auto. Raises ServiceError or ApiError."""
    base_url, discover = connection_base(params.get("api_url"), params.get("stack"))
    transport = Transport(params.get("ca_path"), params.get("validate_certs", True), proxy_url=params.get("proxy_url"))
    client = ModusCloudClient(base_url, params["username"], params["password"], transport=transport, wire_format=params.get("wire_format"))
    known = params.get("known_state")
    if known is not None:
        problem = known_state_problem(known)
        if problem:
            raise ServiceError(problem, options=("known_state",))
        client.prime(org, known)
    if discover:
        client.discover(org)
    return client


class ModusCloudModule(AnsibleModule):
    """The base of every modusCloud module: the connection options and org (a module's spec holds only its own
    options), check mode, the dependency checks, and run(action), the one path from options to exit:
    checks, then module.org, module.client and module.changes for the action, then one exit or failure."""

    def __init__(self, argument_spec, **kwargs):
        super(ModusCloudModule, self).__init__(argument_spec=moduscloud_argument_spec(**argument_spec), supports_check_mode=True, **kwargs)
        if REQUESTS_IMPORT_ERROR:
            self.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        self.org = None
        # What a failed action had already done, for its failure: set by an action that writes in steps.
        self.progress = dict
        self._client = None
        self._changes = None

    @property
    def client(self):
        """The ModusCloudClient of the module's options for module.org, made on first use."""
        if self._client is None:
            self._client = connect(self.params, self.org)
        return self._client

    @property
    def changes(self):
        """The run's ChangeSet, made on first use. A run that never uses it only reads: it exits with
        changed=False and no diff."""
        if self._changes is None:
            self._changes = ChangeSet(self.check_mode)
        return self._changes

    def run(self, action, problems=None, libraries=()):
        """exit_json(**action(self)) with changed and diff from module.changes.

        Before any request: the `libraries` ((name, import error) pairs) the options need, the placeholders of
        app_id and key (_state.without_placeholders), the options (the import settings, org, and
        problems(params) -> (option, message) pairs of a module's own), the connection options. A failed call or
        a refused option becomes fail_json, without traceback, naming the options (_module_exit.run_to_exit).
        """
        for library, error in libraries:
            if error:
                self.fail_json(msg=missing_required_lib(library), exception=error)

        def steps():
            # The one check of placeholders (_state.without_placeholders, as ChangeSet.refuse_placeholders makes it),
            # called directly: module.changes made now would give a run that only reads a diff.
            known, refused = without_placeholders(dict((name, self.params.get(name)) for name in PLACEHOLDER_OPTIONS), self.check_mode)
            if refused:
                raise options_error(refused)
            found = invalid_settings(dict(self.params, **known))
            if problems is not None:
                found += problems(self.params)
            if found:
                raise options_error(found, prefix="Invalid options: ")
            found = connection_problems(self.params)
            if found:
                raise options_error(found)
            self.org = normalize_domain(self.params["org"])
            return action(self)

        def progress():
            # Looked up when the run fails: an action that writes in steps replaces module.progress.
            return self.progress()

        run_to_exit(self, steps, lambda: self._changes.result(self._diff) if self._changes is not None else {"changed": False}, progress)
