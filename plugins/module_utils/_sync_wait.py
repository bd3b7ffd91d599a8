# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Waiting for modusCloud's own scheduled sync: the checks of what makes it fail, the poll of its status, and
the proof that the users then match the directory.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
from datetime import datetime, timezone

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError, SyncFailure
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import TIMESTAMP_FORMAT, parse_timestamp


class SyncWait(object):
    """Waits for one organization's scheduled sync. reader: the run's SyncReader (its Graph sign-in and
    error hints); warn(text): the module's warning."""

    def __init__(self, reader, warn):
        self.reader = reader
        self.params = reader.params
        self.client = reader.client
        self.org = reader.org
        self.warn = warn

    def wait(self, saved, tenant_id, app_id, since):
        """Check what makes the sync fail, then wait for it; (status, seconds waited)."""
        self.preflight(saved, tenant_id, app_id)
        return self.wait_for_sync(since)

    def preflight(self, saved, tenant_id, app_id):
        """Fail now on what makes the service's sync fail: sign-in, consent (both only with key), missing domains."""
        graph = self.reader.graph(tenant_id, app_id)()
        try:
            tenant_domains = graph.verified_domains()
            graph.check_directory_read()
        except ApiError as error:
            raise self.reader.explained_graph_error(error)
        org_domains = set(domain["name"] for domain in self.client.list_domains(self.org))
        missing = sorted(set(tenant_domains) - org_domains)
        if missing:
            raise SyncFailure(
                "modusCloud's scheduled sync fails while these verified Entra domains are missing on "
                "organization %s: %s. Add them (for example with moduscloud.azure_sync.moduscloud_domain)"
                " before waiting for the sync" % (self.org, ", ".join(missing)),
                missing_domains=missing,
            )
        saved_app = (saved.get("primary_domain"), saved.get("app_id"))
        if self.params["key"] and (tenant_id, app_id) != saved_app:
            self.warn(
                "The sync app given here (tenant %s, application %s) is not the one saved in modusCloud "
                "(tenant %s, application %s), so its checks say little about the service's sign-in" % ((tenant_id, app_id) + saved_app)
            )

    def wait_for_sync(self, since):
        """Poll the sync status until last_successful_sync is later than `since`; (status, seconds waited)."""
        timeout, interval = self.params["wait_timeout"], self.params["wait_interval"]
        begin = time.monotonic()
        self.client.forget()  # the status changes while we wait: never from known_state
        while True:
            saved, status = self.client.read_import_settings(self.org)
            if saved is None:
                raise SyncFailure("the Azure AD import settings of %s were removed while waiting for the sync" % self.org)
            last = parse_timestamp(status.get("last_successful_sync"))
            waited = time.monotonic() - begin
            if last is not None and last > since:
                return status, round(waited, 1)
            if waited >= timeout:
                raise SyncFailure(self.timeout_message(since, status, saved, waited), sync_status=status)
            time.sleep(min(interval, timeout - waited))

    def timeout_message(self, since, status, saved, waited):
        text = "modusCloud's scheduled sync did not succeed after %s within %d seconds (last successful sync: %s; the service syncs every %s hour(s))." % (
            since.strftime(TIMESTAMP_FORMAT),
            waited,
            status.get("last_successful_sync") or "never",
            saved.get("sync_frequency_hours"),
        )
        expiry = parse_timestamp(status.get("secret_expiry"))
        if expiry is not None and expiry < datetime.now(timezone.utc):
            return text + (
                " The key stored in modusCloud expired on %s: rotate it with "
                "moduscloud.azure_sync.azure_app_secret and save the new value with "
                "moduscloud.azure_sync.moduscloud_import_settings." % status["secret_expiry"]
            )
        if self.params["access_token"]:
            return text + (
                " No Entra domain is missing. This run read the directory with access_token, so it did not "
                "check the sync app's own sign-in and consent: check them by running mode=report with key "
                "(the value modusCloud holds), and that wait_timeout covers the sync frequency."
            )
        return text + (
            " The key given here signs in, the app may read the directory and no Entra domain is missing, "
            "so check that modusCloud stores this same key (save it again with "
            "moduscloud.azure_sync.moduscloud_import_settings and update_key=always) and that "
            "wait_timeout covers the sync frequency."
        )

    def require_converged(self, report, result):
        counts, users = report["counts"], report["users"]
        limit = self.params["report_limit"]
        pending = [
            "%d to %s (%s)" % (counts[kind], kind, ", ".join(entry["primary_email"] for entry in users[kind][:limit]))
            for kind in ("add", "change", "remove")
            if counts[kind]
        ]
        if pending:
            raise SyncFailure(
                "modusCloud's sync succeeded at %s, but the users still differ from the directory: %s"
                % (result["sync_status"].get("last_successful_sync"), "; ".join(pending)),
                **result,
            )
