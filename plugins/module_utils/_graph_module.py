# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""GraphModule: the AnsibleModule base of every Graph module (connection options, dependency check,
check-mode placeholders, the client on first use, `changed` and the diff on exit, failures reported
without a traceback).

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._connection import (
    GRAPH_CONNECTION_SPEC,
    MSAL_IMPORT_ERROR,
    GraphConnection,
    connection_options,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import GraphError, ServiceError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import APPLICATION_IDENTITY, described_identity
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import REQUESTS_IMPORT_ERROR
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._module_exit import run_to_exit
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import ChangeSet, is_placeholder


class GraphModule(AnsibleModule):
    """AnsibleModule with the Graph connection options, check mode, the dependency check, and a
    run() that reports ApiError/ServiceError (GraphError among them) as a clean failure.

    `placeholders`: the options that may hold a check-mode placeholder (of an earlier task's predicted create),
    refused in a real run before any request. `reports_changes`: the result's `changed` and diff are those
    of `changes`, the run's one ChangeSet (an info module, which changes nothing, says False).
    """

    def __init__(self, argument_spec, placeholders=(), reports_changes=True, **kwargs):
        spec = copy.deepcopy(GRAPH_CONNECTION_SPEC)
        spec.update(argument_spec)
        kwargs.setdefault("supports_check_mode", True)
        super(GraphModule, self).__init__(argument_spec=spec, **kwargs)
        for library, error in (("requests", REQUESTS_IMPORT_ERROR), ("msal", MSAL_IMPORT_ERROR)):
            if error:
                self.fail_json(msg=missing_required_lib(library), exception=error)
        self._graph = None
        self._connection = None
        self._placeholders = placeholders
        self._reports_changes = reports_changes
        self.changes = ChangeSet(self.check_mode)

    @property
    def connection(self):
        """The GraphConnection of the module's options, checked (before any request) on first use."""
        if self._connection is None:
            self._connection = GraphConnection(connection_options(self.params))
        return self._connection

    @property
    def graph(self):
        """The GraphClient, authenticated on first use (a module that needs no Graph call never logs in)."""
        if self._graph is None:
            self._graph = self.connection.client()
        return self._graph

    def named_application(self):
        """The application the task names by app_id, unique_name or display_name (tried in this order), or None;
        with state=absent, the one this module signs in as is refused before any write
        (refuse_removing_own_application).

        None when there is none and state=absent, or in check mode when an earlier task would create it: an app_id
        placeholder says so, and a missing one is warned about. A real run with state=present waits for it (an
        earlier task may just have created it: Graph can take a few seconds to show it), and fails without it.
        """
        params = self.params
        if is_placeholder(params["app_id"]):
            return None
        identity = dict((name, params[name]) for name in APPLICATION_IDENTITY)
        if params["state"] == "absent":
            application = self.graph.find_application(**identity)
            self.refuse_removing_own_application(application)
            return application
        described = described_identity(identity)
        return self.changes.prerequisite(
            lambda: self.graph.find_application(**identity),
            lambda: self.graph.wait_for_application(**identity),
            GraphError("no application with %s" % described),
            "no application with %s exists; check mode assumes an earlier task creates it" % described,
            self.warn,
        )

    def refuse_removing_own_application(self, application):
        """With state=absent, fail before any write when `application` (or, when none was found, the app_id option)
        is the one this module signs in as: removing it (or its consent or secrets) would lock the automation out
        of the tenant."""
        if self.params["state"] != "absent":
            return
        app_id = ((application or {}).get("appId") or self.params.get("app_id") or "").strip()
        if not app_id or is_placeholder(app_id):
            return
        signed_in = self.graph.signed_in_app_id
        if signed_in and app_id.lower() == signed_in.lower():
            raise ServiceError(
                "application %s is the identity this module signs in as: state=absent never removes it, nor its "
                "consent or secrets. Name another application by app_id or unique_name. Nothing was removed." % app_id
            )

    def run(self, action):
        """exit_json(**action(self)) with `changed` and the diff of `changes`; a failed call or a user error becomes
        fail_json, without traceback (_module_exit.run_to_exit)."""

        def steps():
            self.changes.refuse_placeholders(dict((name, self.params[name]) for name in self._placeholders))
            self.connection  # noqa: B018 (options that cannot make a connection fail here, before any request)
            return action(self)

        run_to_exit(self, steps, lambda: self.changes.result(self._diff) if self._reports_changes else {})
