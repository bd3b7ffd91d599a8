# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""One moduscloud_user_sync task: check its options, then report, apply or wait, and exit with the result.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import datetime, timezone

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._exemption_query import (
    JMESPATH_IMPORT_ERROR,
    QueryError,
    check as check_exemption_query,
    given as query_given,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._connection import MSAL_IMPORT_ERROR
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ServiceError, SyncFailure
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_values import is_domain_name, is_guid
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import parse_timestamp
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._removal_guard import guard_verdict, refusal_text
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync import removals_over_limit, trim_report
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync_apply import SyncApply
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync_files import make_report_folder, report_path_problem, write_report
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync_info import state_view
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync_report import SyncReader
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync_summary import message, summary_lines
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync_wait import SyncWait


def option_problems(params):
    """Every problem with the options the base does not check, each naming the option and what is allowed:
    (option, message) pairs."""
    problems = []
    if params["access_token"] is not None and not params["access_token"].strip():
        problems.append(("access_token", "access_token must not be empty"))
    tenant_id = params["tenant_id"]
    if tenant_id is not None and not (is_guid(tenant_id) or is_domain_name(tenant_id)):
        problems.append(("tenant_id", "tenant_id must be the tenant id (a GUID) or one of its domains, got %r" % tenant_id))
    for name in ("max_removals", "report_limit", "wait_timeout"):
        if params[name] < 0:
            problems.append((name, "%s must be 0 or more, got %d" % (name, params[name])))
    if params["wait_interval"] < 1:
        problems.append(("wait_interval", "wait_interval must be at least 1 second, got %d" % params["wait_interval"]))
    if params["verified_domains"] is not None and not params["access_token"]:
        problems.append(
            (
                ("verified_domains", "access_token"),
                "verified_domains needs access_token (they must have been read with the same token); with key the sync app reads the tenant's domains itself",
            )
        )
    not_domains = [name for name in params["planned_domains"] if not is_domain_name(name)]
    if not_domains:
        problems.append(("planned_domains", "planned_domains must be domain names such as contoso.com, got %s" % ", ".join(not_domains)))
    if params["removal_guard"] != "report" and params["mode"] != "report":
        problems.append((("removal_guard", "mode"), "removal_guard %s needs mode report, got mode %s" % (params["removal_guard"], params["mode"])))
    if params["since"] is not None and parse_timestamp(params["since"]) is None:
        problems.append(("since", "since must be a UTC date and time such as 2026-07-01T10:00:00Z, got %r" % params["since"]))
    if query_given(params["exemption_query"]):
        try:
            check_exemption_query(params["exemption_query"])
        except QueryError as error:
            problems.append(("exemption_query", str(error)))
    if params["report_path"] is not None:
        problem = report_path_problem(params["report_path"])
        if problem:
            problems.append(("report_path", problem))
    return problems


def run_user_sync(module):
    """The whole task for a ModusCloudModule with moduscloud_user_sync's options."""
    libraries = [("msal", MSAL_IMPORT_ERROR)]
    if query_given(module.params["exemption_query"]):
        libraries.append(("jmespath", JMESPATH_IMPORT_ERROR))
    module.run(user_sync, option_problems, libraries)


def user_sync(module):
    """Options only checked (validate_only, after the base's checks), or the report computed and acted on."""
    # Made in check mode too, before any request: the report files are the plan to review.
    if module.params["report_folder"]:
        problem = make_report_folder(module.params["report_folder"])
        if problem:
            raise ServiceError(problem, options=("report_folder",))
    if module.params["validate_only"]:
        return {"validated": True}
    started = datetime.now(timezone.utc)
    sync = UserSync(module)
    module.progress = sync.progress
    return sync.execute(started)


class UserSync(object):
    """One task: read both sides and compute the report (SyncReader), then write its files, apply it
    (SyncApply) or wait for the service's sync (SyncWait), as the mode says."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.org = org = module.org
        self.changes = module.changes
        self.reader = SyncReader(module.params, module.client, org, self.changes)
        self.applier = SyncApply(module.client, org, self.changes)
        self.waiter = SyncWait(self.reader, module.warn)

    def progress(self):
        """What a failed run had already written, for fail_json."""
        applied = self.applier.applied
        if applied is None:
            return {}
        return {"changed": any(applied.values()), "applied": dict(applied)}

    def execute(self, started):
        params, reader = self.params, self.reader
        saved, status = reader.client.read_import_settings(self.org)
        settings = reader.effective_settings(saved)
        tenant_id, app_id = reader.sync_app(saved)
        result = {"settings": settings, "tenant_id": tenant_id, "app_id": app_id}
        mode = params["mode"]

        if mode == "wait":
            since = parse_timestamp(params["since"]) if params["since"] else started
            status, result["waited_seconds"] = self.changes.live(self.waiter.wait, saved, tenant_id, app_id, since, dry=(status, 0.0))
        result["sync_status"] = status or {"secret_expiry": None, "last_successful_sync": None}

        report = reader.compute_report(settings, tenant_id, app_id)
        if reader.query_exemptions is not None:
            result["query_exemptions"] = reader.query_exemptions
        result["report"] = trim_report(report, params["report_limit"])
        result["removals_over_limit"] = [user["primary_email"] for user in removals_over_limit(report, params["max_removals"])]
        if params["report_path"]:
            result["report_files"] = write_report(
                params["report_path"], report, settings, self.org, tenant_id, started, params["report_limit"], self.module.atomic_move
            )
        if report["missing_domains"] and mode != "wait":
            self.module.warn(
                "modusCloud's scheduled sync fails until these Entra domains are added to organization "
                "%s: %s" % (self.org, ", ".join(report["missing_domains"]))
            )

        if mode == "report":
            self.guard(result, saved)
        elif mode == "apply":
            self.refuse_mass_removal(result)
            result["applied"] = self.applier.apply(report)
        elif mode == "wait":
            self.changes.live(self.waiter.require_converged, report, result)
        # What this run read of the organization, for a later task's known_state (not while waiting: the status moves).
        seen = reader.client.seen(self.org) if mode != "wait" else None
        if seen:
            result["known_state"] = state_view(**seen)
        # The lines an operator reads, worded here so that a caller only shows them.
        result["msg"] = message(result, mode, self.changes.tense)
        result["summary"] = summary_lines(result, mode, self.changes.tense, as_sync_app=bool(params["key"]))
        return result

    def refuse_mass_removal(self, result):
        """This run's apply refused, before any write, when it would remove more users than max_removals."""
        over = result["removals_over_limit"]
        if over:
            raise SyncFailure(refusal_text(over, self.params["max_removals"], "this sync"), options=("max_removals",), removals=over, report=result["report"])

    def guard(self, result, saved):
        """The removal guard for the service's next scheduled sync (removal_guard): refuse before anything is
        written, or tell the caller to save remove_users off for this run."""
        saved_on = bool((saved or {}).get("remove_users"))
        warning, off, refusal = guard_verdict(result["removals_over_limit"], self.params["max_removals"], self.params["removal_guard"], saved_on)
        if refusal:
            raise SyncFailure(refusal, options=("max_removals",), removals=result["removals_over_limit"])
        result["remove_users_off"] = off
        if warning:
            result["removal_warning"] = warning
