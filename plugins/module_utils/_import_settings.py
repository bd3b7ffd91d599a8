# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""One moduscloud_import_settings task: the Azure AD import settings and the sync exemptions of an
organization, ensured through _state's ChangeSet (or cleared, with the users the sync imported).

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import datetime, timezone

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._exemption_query import (
    JMESPATH_IMPORT_ERROR,
    QUERY_USER_FIELDS,
    QueryError,
    check as check_exemption_query,
    given as query_given,
    matching_addresses,
    not_text as query_not_text,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._connection import signing_in_as
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import GraphError, ServiceError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_values import is_domain_name
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import (
    SETTINGS_FIELDS,
    TIMESTAMP_FORMAT,
    UNKNOWNS_DOC,
    WIRE,
    normalize_domain,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import differences
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync import MANAGED_USER_TYPES

# Shown in the diff in place of the key, only when the run sends it.
KEY_SENT = "(sent)"
SETTINGS_LABEL = "azure_ad_import"
EXEMPTIONS_LABEL = "sync_exemptions"


def desired_settings(params):
    """The import settings by their option names in WIRE_TABLE (app_id goes on the wire as `application_id`)."""
    settings = dict((option, params[option]) for option in SETTINGS_FIELDS)
    settings["primary_domain"] = normalize_domain(settings["primary_domain"])
    settings["app_id"] = params["app_id"].strip().lower()
    return settings


def run_import_settings(module):
    """The whole task for a ModusCloudModule with moduscloud_import_settings' options."""
    needs_query = query_given(module.params["exemption_query"]) and module.params["state"] == "present"
    module.run(import_settings, invalid_input, libraries=[("jmespath", JMESPATH_IMPORT_ERROR)] if needs_query else [])


def invalid_input(params):
    """Problems with the options the base does not check (synced_domains, exemption_query): (option, message) pairs."""
    problems = []
    bad_domains = [name for name in params["synced_domains"] or [] if not is_domain_name(name)]
    if bad_domains:
        problems.append(("synced_domains", "synced_domains must be domain names such as example.com; not valid: %s" % ", ".join(bad_domains)))
    # required_if counts an option given as None (a role variable that rendered to nothing) as given.
    if params["state"] == "present" and not (params["app_id"] or "").strip():
        problems.append(
            (
                "app_id",
                "app_id must be the Application ID of the registered application (for example the app_id "
                "moduscloud.azure_sync.azure_app_registration returns), got %r" % params["app_id"],
            )
        )
    if params["app_unique_name"] is not None and not params["app_unique_name"].strip():
        problems.append(("app_unique_name", "app_unique_name must be the unique name of the application being removed, got %r" % params["app_unique_name"]))
    wrong_type = query_not_text(params["exemption_query"])
    if wrong_type:
        problems.append(("exemption_query", wrong_type))
    elif query_given(params["exemption_query"]) and params["state"] == "present":
        try:
            check_exemption_query(params["exemption_query"])
        except QueryError as error:
            problems.append(("exemption_query", str(error)))
        if not (params["access_token"] or "").strip():
            problems.append(
                (
                    "access_token",
                    "exemption_query needs access_token, a Microsoft Graph token that may read the users of "
                    "the tenant of primary_domain (for example from the moduscloud.azure_sync.graph_token "
                    "lookup)",
                )
            )
    return problems


def import_settings(module):
    if module.params["state"] == "present":
        return ensure_present(module, module.client, module.org, module.changes)
    return ensure_absent(module.client, module.org, module.changes, module.params)


def ensure_present(module, client, org, changes):
    params = module.params
    # Before anything is saved: a sync of the service that ends later ran with what this task saves.
    started = datetime.now(timezone.utc).strftime(TIMESTAMP_FORMAT)
    settings = desired_settings(params)
    org_domains = [domain["name"] for domain in client.list_domains(org)]

    def primary_domain():
        return settings["primary_domain"] if settings["primary_domain"] in org_domains else None

    problem = (
        "primary_domain %s is not a domain of organization %s (its domains: %s): add it first, for "
        "example with moduscloud.azure_sync.moduscloud_domain" % (settings["primary_domain"], org, ", ".join(sorted(org_domains)))
    )
    # A dry run of a whole play may add the domain in an earlier task that did not really run.
    changes.prerequisite(primary_domain, primary_domain, ServiceError(problem, options=("primary_domain",)), problem, module.warn)
    current, status = client.read_import_settings(org)
    # Read (and the rule applied) before anything is written: a rule that fails writes nothing.
    query_exemptions = None
    if query_given(params["exemption_query"]):
        query_exemptions = read_query_exemptions(params, settings["primary_domain"])
    managed_exemptions = params["exemptions"] is not None or query_exemptions is not None
    current_exemptions = client.list_exemptions(org) if managed_exemptions else None

    send_key = current is None or params["update_key"] == "always"
    if send_key and params["key"] is None:
        raise ServiceError("key is required: the Azure AD settings of %s do not exist yet and the API never returns the stored key" % org, options=("key",))
    desired = dict(settings)
    if current is not None:
        # Only what the service returns can be compared; the rest is sent on each write.
        unreadable = sorted(option for option in settings if option not in current)
        for option in unreadable:
            module.warn("modusCloud does not return %s, so it is sent on every write but not compared" % option)
            desired.pop(option)
    # Names of the settings whose saved value differs from the wanted one (the key aside: never returned).
    changed_settings = sorted(differences(current, desired)) if current is not None else sorted(desired)
    if send_key:
        desired["key"] = KEY_SENT

    def update(_changed):
        # PUT replaces the whole object: always send every setting, not only the changed ones.
        client.put_import_settings(org, settings, params["key"] if send_key else None)
        if not send_key and client.key_dropped(org, (status or {}).get("secret_expiry")):
            raise ServiceError(
                "modusCloud saved the Azure AD settings of %s without the key and no longer reports a key expiry: "
                "it seems to have dropped the stored key, so its sync stops until it gets one. This contradicts "
                "the assumption settings.put_without_key (a change without the key keeps the stored key; see %s). "
                "Send a new key now (update_key: always with a new secret's value)." % (org, UNKNOWNS_DOC),
                changed=True,
                wire_assumption="settings.put_without_key",
            )

    def create(view):
        update(view)
        return view

    after = changes.ensure(SETTINGS_LABEL, current, desired, create=create, update=update)
    after = dict((option, value) for option, value in after.items() if option != "key")
    # Sending the key always makes the settings differ (the service never returns it), so it is sent.
    result = {"settings": after, "key_sent": send_key, "changed_settings": changed_settings, "started": started}

    if managed_exemptions:
        wanted = set(email.strip().lower() for email in params["exemptions"] or ())
        wanted.update(query_exemptions or ())
        result["exemptions"] = ensure_exemptions(client, org, changes, current_exemptions, sorted(wanted))
    if query_exemptions is not None:
        result["query_exemptions"] = query_exemptions
    result["msg"] = present_message(org, changes, current is None, changed_settings, send_key)
    return result


def present_message(org, changes, created, changed_settings, key_sent):
    """One sentence: what the task did (or, in check mode, would do) to the organization's import settings."""
    if not changes.changed:
        return "The Azure AD import settings of %s are as wanted." % org
    what = "new" if created else "changed: %s" % (", ".join(changed_settings) or "sync exemptions")
    return "The Azure AD import settings of %s %s (%s)%s." % (org, changes.tense("were saved", "would be saved"), what, ", with a new key" if key_sent else "")


def read_query_exemptions(params, primary_domain):
    """The addresses exemption_query selects from the users of the tenant of `primary_domain`."""
    # The token's connection, through the same TLS trust and proxy as the modusCloud API.
    graph = signing_in_as(params, auth="access_token", access_token=params["access_token"]).client()
    names = graph.tenant_names()
    if primary_domain not in names:
        # Another tenant's users would exempt the wrong people.
        raise GraphError(
            "exemption_query: the access_token given belongs to another tenant (%s) than the one of "
            "primary_domain %s: give a token of that tenant" % (", ".join(sorted(names)), primary_domain),
            options=("access_token",),
        )
    try:
        return matching_addresses(params["exemption_query"], graph.list_users(",".join(QUERY_USER_FIELDS)))
    except QueryError as error:
        raise ServiceError(str(error), options=("exemption_query",))


def ensure_absent(client, org, changes, params):
    """Stop the sync first (the settings), then the users it imported (if asked), then the exemptions.

    A refused deletion raises before anything further is removed; a run stopped in between leaves
    what the next run still finds and removes (the users are found by domain, not by the settings).
    """
    client.list_domains(org)  # a clear error for an unknown org before anything else
    current = client.read_import_settings(org)[0]
    refuse_another_application(org, current, params["app_id"], params["app_unique_name"])
    current_exemptions = client.list_exemptions(org)
    synced = []
    if params["remove_synced_users"]:
        synced = synced_users(client.list_users(org), params["synced_domains"], current_exemptions)
    changes.ensure(SETTINGS_LABEL, current, None, delete=lambda: client.delete_import_settings(org))
    for user in synced:
        changes.ensure("users/%s" % user["primary_email"], user, None, delete=lambda email=user["primary_email"]: client.delete_user(org, email))
    exemptions = ensure_exemptions(client, org, changes, current_exemptions, [])
    return {
        "settings": None,
        "key_sent": False,
        "changed_settings": sorted(current or ()),
        "exemptions": exemptions,
        "removed_users": [user["primary_email"] for user in synced],
        "msg": absent_message(org, changes.tense, current is not None, synced if params["remove_synced_users"] else None, current_exemptions),
    }


def absent_message(org, tense, configured, synced, exemptions):
    """One sentence: what state=absent cleared and removed (or, in check mode, would); `synced` None when the
    synced users are kept."""
    if configured:
        cleared = tense("were cleared (its scheduled sync stops)", "would be cleared (its scheduled sync would stop)")
        parts = ["the Azure AD import settings of %s %s" % (org, cleared)]
    else:
        parts = ["the organization %s has no Azure AD import settings" % org]
    if synced is None:
        parts.append("the synced users are kept")
    elif synced:
        parts.append("%s %d synced user%s" % (tense("removed", "would remove"), len(synced), "" if len(synced) == 1 else "s"))
    else:
        parts.append("no synced user to remove")
    if exemptions:
        parts.append("%s %d sync exemption%s" % (tense("removed", "would remove"), len(exemptions), "" if len(exemptions) == 1 else "s"))
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]


def refuse_another_application(org, current, app_id, unique_name):
    """With state=absent: fail, before any write, when the saved settings name another application than app_id
    (clearing them would stop a sync that app_id's owner did not mean to stop), or name any application while
    the one being removed, by unique_name, is not in the tenant (app_id not given)."""
    saved = ((current or {}).get("app_id") or "").strip()
    if not saved or (app_id is None and unique_name is None):
        return
    if app_id is not None:
        if saved.lower() == app_id.strip().lower():
            return
        raise ServiceError(
            "modusCloud's organization %s syncs with the application %s, not app_id %s: clearing its settings would "
            "stop that sync and leave its application, secret and consent in place. Set app_id to %s to stop it, or "
            "correct app_id. Nothing was removed." % (org, saved, app_id.strip() or '""', saved),
            options=("app_id",),
        )
    raise ServiceError(
        "modusCloud's organization %s syncs with the application %s, but the application with app_unique_name %s is not "
        "in the tenant: clearing its settings would stop that sync and leave its application, secret and consent in "
        "place. Set app_id to %s to stop it, or correct app_unique_name. Nothing was removed." % (org, saved, unique_name, saved),
        options=("app_unique_name",),
    )


def synced_users(org_users, domains, exemptions):
    """The users the sync owns on `domains` (sorted views): sync-managed types only, never exempt ones."""
    domains = set(normalize_domain(name) for name in domains)
    exempt = set(exemptions)
    found = []
    for user in org_users:
        email = str(user.get(WIRE["user.primary_email"]) or "").strip().lower()
        if user.get("type") in MANAGED_USER_TYPES and email not in exempt and email.rpartition("@")[2] in domains:
            found.append({"primary_email": email, "type": user.get("type")})
    return sorted(found, key=lambda user: user["primary_email"])


def ensure_exemptions(client, org, changes, current, wanted):
    """Make the exemption list exactly `wanted`: add the missing, delete the extra (shown in the diff)."""

    def apply(_changes):
        extra = [email for email in current if email not in wanted]
        missing = [email for email in wanted if email not in current]
        if not wanted and extra:
            client.delete_all_exemptions(org)
        else:
            for email in extra:
                client.delete_exemption(org, email)
        if missing:
            client.add_exemptions(org, missing)

    after = changes.ensure(EXEMPTIONS_LABEL, {"emails": current}, {"emails": wanted}, update=apply)
    return after["emails"]
