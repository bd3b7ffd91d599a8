# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The sync report: which sync app and settings apply, the directory read as that app (Graph) and the
organization read from modusCloud, compared by the rules of _sync.py.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._connection import TokenError, signing_in_as
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError, SyncFailure
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._exemption_query import (
    QueryError,
    given as query_given,
    matching_addresses,
    user_fields,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_directory import with_members
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import normalize_domain
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import is_placeholder
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync import GRAPH_USER_FIELDS, SWITCHES, reconcile

# The import settings the report depends on, by option name; None in params = the saved value.
SETTING_OPTIONS = SWITCHES + ("default_user_role",)

# Only the Graph fields the sync rules read (docs/sync-rules.md).
USER_FIELDS = ",".join(GRAPH_USER_FIELDS)
GROUP_FIELDS = "id,displayName,mail,mailEnabled,securityEnabled"

CONSENT_HINT = (
    "the sync app cannot read the directory, so modusCloud's scheduled sync fails the same way: grant it "
    "admin consent for the Microsoft Graph application permission Directory.Read.All (for example with "
    "moduscloud.azure_sync.azure_app_consent)"
)
TOKEN_READ_HINT = (
    "the access_token given cannot read the directory: give a token of an identity with the Microsoft "
    "Graph permission Directory.Read.All (this says nothing about the sync app's own consent)"
)
TOKEN_REFUSED_HINT = (
    "Graph refused the access_token given (expired, or not a Microsoft Graph token): get a new one, "
    "for example with the moduscloud.azure_sync.graph_token lookup"
)
SIGN_IN_HINT = (
    "Entra ID refused the sync app's credentials, so modusCloud's scheduled sync fails the same way: "
    "check app_id and tenant_id, and that key is the value (not the id) of a client secret of "
    "that app that has not expired (rotate it with moduscloud.azure_sync.azure_app_secret and save it "
    "with moduscloud.azure_sync.moduscloud_import_settings)"
)


class SyncReader(object):
    """Reads both sides of one organization's sync and computes its report.

    params: the moduscloud_user_sync options; client: the org's ModusCloudClient; changes: the run's ChangeSet,
    asked only what a dry run counts as planned.
    """

    def __init__(self, params, client, org, changes):
        self.params = params
        self.client = client
        self.org = org
        self.changes = changes
        self.query_exemptions = None
        self._new_graph_client = None

    # -- inputs

    def effective_settings(self, saved):
        """The saved import settings (in check mode the planned ones), overridden by the options set; every one
        must be known."""
        # An earlier task of the run saves the planned settings; a dry run of that task only predicted it.
        planned = self.changes.planned(self.params["planned_settings"])
        source = dict(saved or {}, **planned) if planned is not None else saved
        settings = dict((name, (source or {}).get(name)) for name in SETTING_OPTIONS)
        settings.update((name, self.params[name]) for name in SETTING_OPTIONS if self.params[name] is not None)
        unknown = [name for name in SETTING_OPTIONS if settings[name] is None]
        if unknown:
            reason = (
                "organization %s has no Azure AD import settings" % self.org
                if source is None
                else "the saved import settings of %s do not include %s" % (self.org, ", ".join(unknown))
            )
            raise SyncFailure(
                "%s, so the sync they describe is unknown: set %s, or save the settings with "
                "moduscloud.azure_sync.moduscloud_import_settings" % (reason, ", ".join(unknown))
            )
        if self.params["mode"] == "wait":
            # What the service syncs by: the saved settings, or in a dry run those the earlier task would save.
            if source is None:
                raise SyncFailure(
                    "mode=wait: organization %s has no Azure AD import settings, so the service never "
                    "syncs; save them with moduscloud.azure_sync.moduscloud_import_settings" % self.org
                )
            if not source.get("sync_frequency_hours"):
                raise SyncFailure(
                    "mode=wait: the import settings of %s have no sync frequency (sync_frequency_hours "
                    "is 0 or not returned), so the service does not sync on its own; set it with "
                    "moduscloud.azure_sync.moduscloud_import_settings" % self.org
                )
        return settings

    def sync_app(self, saved):
        """(tenant, app id) the service signs in with, unless given; a token needs only the tenant."""
        saved = saved or {}
        tenant_id = self.params["tenant_id"] or saved.get("primary_domain")
        app_id = self.params["app_id"] or saved.get("app_id")
        if not tenant_id or not (app_id or self.params["access_token"]):
            raise SyncFailure(
                "organization %s has no saved Azure AD import settings to take the sync app from: set "
                "tenant_id%s" % (self.org, "" if self.params["access_token"] else " and app_id")
            )
        return tenant_id.strip().lower(), (app_id.strip().lower() if app_id else None)

    # -- the directory, as the sync app reads it

    def graph(self, tenant_id, app_id):
        """A factory of Graph clients for the directory reads (one token per run, a client per thread).

        With key, the token is the sync app's own, and a refused sign-in fails with what it means for the
        service. With access_token, the token given, once it is known to belong to the tenant.
        """
        if self._new_graph_client is None:
            connection = self.graph_connection(tenant_id, app_id)
            if self.params["access_token"]:
                self._check_token_tenant(connection.client(), tenant_id)
            else:
                try:
                    connection.token()
                except TokenError as error:
                    raise SyncFailure("%s. %s" % (error, SIGN_IN_HINT), **error.to_result())
            self._new_graph_client = connection.client
        return self._new_graph_client

    def graph_connection(self, tenant_id, app_id):
        """The sync app's Graph connection (its key), or the access_token's, through the module's transport."""
        params = self.params
        if not params["access_token"] and (is_placeholder(app_id) or is_placeholder(params["key"])):
            raise SyncFailure(
                "the sync app cannot sign in with a check-mode placeholder (of an application or a "
                "secret an earlier task would create): give access_token instead of key to compute the "
                "report in a dry run"
            )
        if params["access_token"]:
            return signing_in_as(params, auth="access_token", access_token=params["access_token"])
        return signing_in_as(params, auth="client_secret", tenant_id=tenant_id, client_id=app_id, client_secret=params["key"])

    def _check_token_tenant(self, graph, tenant_id):
        # The service reads the tenant of its primary domain; a token of another tenant would report on
        # (and apply) the wrong directory. Domains read earlier with the same token say it as well.
        if tenant_id in [name.lower() for name in self.params["verified_domains"] or ()]:
            return
        try:
            names = graph.tenant_names()
        except ApiError as error:
            raise self.explained_graph_error(error)
        if tenant_id not in names:
            raise SyncFailure(
                "the access_token given belongs to another tenant (%s) than %s, the tenant modusCloud "
                "syncs organization %s from: give a token of that tenant" % (", ".join(sorted(names)), tenant_id, self.org)
            )

    def explained_graph_error(self, error):
        """A Graph failure of the directory read, with what it means (for the service, or for the token given)."""
        if self.params["access_token"]:
            hint = {401: TOKEN_REFUSED_HINT, 403: TOKEN_READ_HINT}.get(error.status)
        else:
            hint = {403: CONSENT_HINT}.get(error.status)
        if hint is None:
            return error
        return SyncFailure("%s. Hint: %s" % (error, hint), **error.to_result())

    # -- the report

    def compute_report(self, settings, tenant_id, app_id):
        new_graph_client = self.graph(tenant_id, app_id)
        query = self.params["exemption_query"]
        # The organization's side does not depend on the directory: it is read while Graph is.
        with ThreadPoolExecutor(max_workers=1) as pool:
            organization = pool.submit(self.read_organization)
            try:
                domains, users, groups = read_directory(new_graph_client, settings, self.params["verified_domains"], user_fields(query, USER_FIELDS))
            except ApiError as error:
                raise self.explained_graph_error(error)
            org_domains, exemptions, org_users = organization.result()
        if query_given(query):
            try:
                self.query_exemptions = matching_addresses(query, users)
            except QueryError as error:
                raise SyncFailure(str(error), options=("exemption_query",))
        # Earlier tasks of this run add these domains and save these exemptions (with the rule's matches); a dry
        # run of those tasks only predicted that.
        org_domains += [normalize_domain(name) for name in self.changes.planned(self.params["planned_domains"], [])]
        planned_exemptions = self.changes.planned(self.params["planned_exemptions"])
        if planned_exemptions is not None:
            exemptions = planned_exemptions
        return reconcile(
            entra_users=users,
            entra_groups=groups,
            tenant_domains=domains,
            settings=settings,
            exemptions=exemptions,
            org_domains=org_domains,
            org_users=org_users,
            rule_exemptions=self.query_exemptions or (),
        )

    def read_organization(self):
        """The organization's domain names, exemptions and users, as the report compares them."""
        client, org = self.client, self.org
        return ([domain["name"] for domain in client.list_domains(org)], client.list_exemptions(org), client.list_users(org))


def read_directory(new_graph_client, settings, tenant_domains=None, select_users=USER_FIELDS):
    """(verified domain names, users, groups with members) as the sync reads them; only what the settings need.

    `select_users`: the user fields to read (comma-separated), more than the sync's when an exemption rule needs them.

    The users' pages and the groups' pages (with their members read in batches as the pages arrive) are two
    chains of requests that do not wait for each other, so they run side by side: the read takes as long as
    the longer chain.
    """
    graph = new_graph_client()
    domains = [name.lower() for name in tenant_domains] if tenant_domains is not None else graph.verified_domains()
    read_users = settings["sync_active_users"]
    read_groups = settings["sync_distribution_groups"] or settings["sync_security_groups"]
    if not (read_users and read_groups):
        users = graph.list_users(select_users) if read_users else []
        groups = with_members(new_graph_client, graph.iter_groups(GROUP_FIELDS)) if read_groups else []
        return domains, users, groups
    with ThreadPoolExecutor(max_workers=1) as pool:
        users_read = pool.submit(lambda: new_graph_client().list_users(select_users))
        try:
            groups = with_members(new_graph_client, graph.iter_groups(GROUP_FIELDS))
        except Exception:
            users_read.result()  # a failure to read the users is the one to report, as when they were read first
            raise
        return domains, users_read.result(), groups
