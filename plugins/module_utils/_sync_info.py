# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""One moduscloud_sync_info task: an organization's domains, import settings, sync status and health,
exemptions and (optionally) users, read only, and checked against what the caller expects (the domains it must
have, the application and users a run saved).

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ServiceError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_values import missing_domains, missing_domains_message
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import (
    UNKNOWNS_DOC,
    WIRE,
    sync_health,
    unreadable_status,
)


def run_sync_info(module):
    """The whole task for a ModusCloudModule with moduscloud_sync_info's options: read only."""
    module.run(sync_info)


def sync_info(module):
    expected_users = module.params["expected_users"]
    result = read_state(module.client, module.org, module.params["include_users"] or expected_users is not None)
    warning = expiry_warning(result, module.params["warn_secret_expiry_days"])
    if warning:
        module.warn(warning)
    for name in unreadable_status(result):
        module.warn(
            "modusCloud answered %s in a form the collection cannot read, so the days and hours derived "
            "from it are unknown (an open question: see %s)" % (name, UNKNOWNS_DOC)
        )
    # The organization as it is, dry run or not: the Entra tenant's domains it lacks fail the service's sync.
    required_domains = module.params["required_domains"]
    if required_domains is not None:
        missing = missing_domains(required_domains, [domain["name"] for domain in result["domains"]])
        if missing:
            raise ServiceError(missing_domains_message(module.org, missing), options=("required_domains",))
    # In check mode the earlier tasks of the run only predicted their writes: what is read here is not what the
    # run would leave, so the expectations (which name what those writes make) are not checked.
    expected_app_id = module.params["expected_app_id"]
    expecting = expected_app_id is not None or expected_users is not None
    problem = module.changes.live(unexpected, result, expected_app_id, expected_users) if expecting else None
    if problem:
        option, message = problem
        raise ServiceError(message, options=(option,))
    result["dry_run"] = module.changes.dry_run
    result["msg"] = state_line(result)
    return result


def state_line(state):
    """The line an operator reads of what was read (the result's `msg`): how many users (when read), the last
    successful sync and the key's expiry."""
    users = len(state["users"]) if "users" in state else "not read"
    return "Users in modusCloud: %s; last successful sync %s; key expiry %s" % (
        users,
        state["last_successful_sync"] or "never",
        state["secret_expiry"] or "unknown",
    )


def unexpected(state, app_id, users):
    """What in `state` (read_state's result, users included when `users` is given) differs from what the caller
    expects, as (option, message), or None: the import settings name application `app_id` (unless it is None; an empty
    value matches none), and the organization lists every primary address in `users` (a sync just added them)."""
    if app_id is not None:
        named = (state["settings"] or {}).get("app_id") if state["configured"] else None
        if not named and not app_id:
            return "expected_app_id", "modusCloud's import settings name no application, and none is registered yet."
        if not named or named.lower() != app_id.lower():
            return "expected_app_id", "modusCloud's import settings do not name application %s (they name %s)." % (app_id, named or "nothing")
    if users is not None:
        email = WIRE["user.primary_email"]
        present = set(str(user.get(email, "")).lower() for user in state["users"])
        missing = []
        for address in users:
            address = address.lower()
            if address not in present and address not in missing:
                missing.append(address)
        if missing:
            return "expected_users", "These users were added but modusCloud does not list them: %s" % ", ".join(missing)
    return None


def read_state(client, org, include_users):
    domains = client.list_domains(org)
    settings, status = client.read_import_settings(org)
    result = state_view(domains, (settings, status), client.list_exemptions(org))
    if include_users:
        email = WIRE["user.primary_email"]
        result["users"] = sorted(client.list_users(org), key=lambda user: str(user.get(email, "")).lower())
    return result


def state_view(domains, settings, exemptions):
    """moduscloud_sync_info's result (without users) from the organization's domains, (import settings, status) and
    exemptions: also what a task that read them returns as known_state for a later one."""
    settings, status = settings
    status = status or {"secret_expiry": None, "last_successful_sync": None}
    result = {"configured": settings is not None, "settings": settings, "domains": sorted(domains, key=lambda domain: domain["name"]), "exemptions": exemptions}
    result.update(status)
    result.update(sync_health(status))
    return result


def expiry_warning(state, warn_days):
    days = state["secret_days_remaining"]
    if days is None or days > warn_days:
        return None
    advice = (
        "rotate it with moduscloud.azure_sync.azure_app_secret and send the new value with "
        "moduscloud.azure_sync.moduscloud_import_settings (update_key: always)"
    )
    if days < 0:
        return "The Azure AD key stored in modusCloud expired on %s (%d days ago): the sync has stopped; %s" % (state["secret_expiry"], -days, advice)
    return "The Azure AD key stored in modusCloud expires on %s (in %d days): %s" % (state["secret_expiry"], days, advice)
