# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The application an azure_app_registration task declares, ensured: options checked as Entra ID would,
found by app_id, unique_name or display_name, then created, updated or removed through ChangeSet.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from urllib.parse import urlsplit

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import GraphError, ServiceError, options_error
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import (
    APPLICATION_IDENTITY,
    GUID,
    application_body,
    created_application,
    described_identity,
    required_resource_access,
    wanted_application,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import PLACEHOLDER, is_placeholder

SIGN_IN_AUDIENCES = ["AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"]
LABEL = "application"
# Entra ID's rules for web redirect URIs: https, or plain http to this machine for local development.
LOCAL_HOSTS = ("localhost", "127.0.0.1")
REDIRECT_URI_MAX_LENGTH = 256


def invalid_identity(params):
    """The identity options that could never name an application, each with what is allowed (values as JSON):
    (option, message) pairs."""
    app_id = params["app_id"]
    if app_id is not None and not is_placeholder(app_id) and not GUID.match(app_id.strip()):
        return [
            (
                "app_id",
                "app_id must be an application (client) id, a GUID such as 4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21, or be "
                "left unset so that unique_name (or display_name) finds the application; got %s" % json.dumps(app_id),
            )
        ]
    if app_id is None and params["display_name"] is None and not (params["unique_name"] or "").strip():
        return [("unique_name", "unique_name must be the application's unique name when app_id is not set; got %s" % json.dumps(params["unique_name"]))]
    return []


def invalid_urls(params):
    """Every redirect URI and home page URL that Entra ID would refuse, each named with what is allowed: (option,
    message) pairs."""
    problems = []
    for uri in params["redirect_uris"] or []:
        parts = _url_parts(uri)
        if len(uri) > REDIRECT_URI_MAX_LENGTH:
            problems.append(("redirect_uris", "redirect_uris: %r is longer than %d characters" % (uri, REDIRECT_URI_MAX_LENGTH)))
        elif "#" in uri:
            problems.append(("redirect_uris", "redirect_uris: %r has a fragment (#...), which Entra ID does not allow in a redirect URI" % uri))
        elif not (parts and parts.netloc and (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS))):
            problems.append(
                (
                    "redirect_uris",
                    "redirect_uris: %r is not an absolute https:// URL (plain http is allowed only for "
                    "http://localhost and http://127.0.0.1, for local development)" % uri,
                )
            )
    home_page_url = params["home_page_url"]
    if home_page_url:
        parts = _url_parts(home_page_url)
        if not (parts and parts.netloc and parts.scheme in ("https", "http")):
            problems.append(("home_page_url", "home_page_url: %r is not an absolute https:// or http:// URL" % home_page_url))
    return problems


def _url_parts(url):
    """urlsplit(url), or None for what cannot be a URL (blanks anywhere, an unclosed [ in the host)."""
    if any(character.isspace() for character in url):
        return None
    try:
        return urlsplit(url)
    except ValueError:
        return None


def desired_view(graph, params, resolved):
    """The fields the task manages (options left out are not managed), as APPLICATION_WIRE reads them."""
    desired = wanted_application(params)
    if resolved is not None:
        desired["api_permissions"] = graph.permission_view(resolved)
    return desired


def identify(params):
    """The one option that finds the application (app_id, else unique_name, else display_name), the others None."""
    first = next((name for name in APPLICATION_IDENTITY if params[name]), None)
    return dict((name, params[name] if name == first else None) for name in APPLICATION_IDENTITY)


def absent_message(params, current, tense):
    """One sentence: the application deleted (or, in check mode, that would be), or that there was none."""
    if current is None:
        return "No application with %s exists: nothing to delete." % described_identity(identify(params))
    return "Application %s %s." % (current["app_id"], tense("was deleted", "would be deleted"))


def refuse_display_name_conflict(graph, params):
    """display_name_conflict=fail, before a create: fail, before any write, when applications already carry the
    display name (Entra ID allows two of one name; the person who made one by hand rarely wants a second)."""
    if identify(params)["display_name"]:
        return  # found by display name, none has it: there is no other
    # One that carries our unique name is ours, made by another run and not yet found by it (Graph is eventually
    # consistent): the create is an upsert by unique name, so it updates that one rather than adding a second.
    named = sorted(app["appId"] for app in graph.list_applications(display_name=params["display_name"]) if app.get("uniqueName") != params["unique_name"])
    if not named:
        return
    several = len(named) > 1
    raise GraphError(
        "%s named %r already %s (app id %s) without unique_name %r, and display_name_conflict=fail refuses to create "
        "another beside %s. Adopt %s by setting app_id to its app id, or choose another display_name. Nothing was written."
        % (
            "%d applications" % len(named) if several else "An application",
            params["display_name"],
            "exist" if several else "exists",
            ", ".join(named),
            params["unique_name"],
            "them" if several else "it",
            "one of them" if several else "it",
        ),
        options=("app_id", "display_name"),
        app_ids=named,
    )


def ensure_application(module):
    """azure_app_registration: bring the application to the options, or remove it; the module's result."""
    params = module.params
    problems = invalid_identity(params) + invalid_urls(params)
    if problems:
        # Found before any request: with state=absent, the task removed nothing.
        raise options_error(problems, prefix="Invalid options: ", suffix=". Nothing was removed." if params["state"] == "absent" else "")
    graph = module.graph
    changes = module.changes
    resolved = None
    if params["state"] == "present" and params["api_permissions"] is not None:
        resolved, warnings = graph.resolve_permissions(params["api_permissions"])
        for warning in warnings:
            module.warn(warning)

    application = graph.find_application(**identify(params))
    if application is not None and params["unique_name"] and application.get("uniqueName") != params["unique_name"]:
        raise GraphError(
            "application %s has unique_name %r, not %r: a unique name can only be set when the "
            "application is created" % (application["appId"], application.get("uniqueName"), params["unique_name"]),
            options=("unique_name",),
        )
    module.refuse_removing_own_application(application)
    current = graph.describe_application(application) if application is not None else None

    if params["state"] == "absent":
        changes.ensure(LABEL, current, None, delete=lambda: graph.delete_application(application["id"]))
        return {
            # As the other modules with state=absent: the app_id given when no application has it.
            "app_id": current["app_id"] if current else params["app_id"],
            "object_id": current and current["object_id"],
            "app_id_known": current is not None,
            "msg": absent_message(params, current, changes.tense),
        }

    if application is None and params["app_id"]:
        raise GraphError(
            "no application has app_id %s; Graph chooses app ids, so omit app_id (and use unique_name or display_name) to create one" % params["app_id"],
            options=("app_id",),
        )
    if application is None and not params["display_name"]:
        raise ServiceError("display_name is required to create the application", options=("display_name",))
    if application is None and params["display_name_conflict"] == "fail":
        refuse_display_name_conflict(graph, params)
    desired = desired_view(graph, params, resolved)

    stored = {"requiredResourceAccess": (application or {}).get("requiredResourceAccess") or []}

    def create(fields):
        body = application_body(fields, resolved)
        if params["unique_name"]:
            created = graph.upsert_application(params["unique_name"], body)
        else:
            created = graph.create_application(body)
        stored["requiredResourceAccess"] = created.get("requiredResourceAccess") or []
        return graph.describe_application(created)

    def update(fields):
        graph.update_application(application["id"], application_body(fields, resolved, application))

    placeholder = dict(created_application(PLACEHOLDER), unique_name=params["unique_name"])
    after = changes.ensure(LABEL, current, desired, create=create, update=update, placeholder=placeholder)
    result = dict(after)
    # Whether app_id is a real id, rather than check mode's placeholder for an application a run would create.
    result["app_id_known"] = result["app_id"] != PLACEHOLDER
    # The verdict itself, for a caller that hides `changed` (a check-mode run first, with changed_when: false).
    result["up_to_date"] = not changes.changed
    result["required_resource_access"] = required_resource_access(resolved) if resolved is not None else stored["requiredResourceAccess"]
    return result
