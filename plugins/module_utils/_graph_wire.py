# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Graph's wire as this collection speaks it: APPLICATION_WIRE, the one table between an application's
options and its Graph properties (read and write), CREDENTIAL_WIRE for its client secrets, permission kinds,
OData literals and $batch's size.
Pure code, no I/O.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

# One option of an application and the Graph property it travels as ("web.redirectUris": a property of the
# web complex value), with the conversion each way: read(wire value) -> option value, write(option value)
# -> wire value. write None: Graph sets it (the ids) or only a create sets it (uniqueName, the upsert's key).
AppField = namedtuple("AppField", "option graph read write")


def _as_is(value):
    return value


def _sorted_list(value):
    return sorted(value or [])


def _or_none(value):
    return value or None


# Option names for the two kinds of permission, and the Graph resourceAccess type of each.
PERMISSION_KINDS = (("application", "Role"), ("delegated", "Scope"))


def required_resource_access(resolved: dict) -> list:
    """Graph's requiredResourceAccess for resolve_permissions()' result."""
    body = []
    for app_id in sorted(resolved):
        access = []
        for kind, access_type in PERMISSION_KINDS:
            ids_by_name = resolved[app_id][kind]
            access.extend({"id": ids_by_name[name], "type": access_type} for name in sorted(ids_by_name))
        if access:
            body.append({"resourceAppId": app_id, "resourceAccess": access})
    return body


def permission_kind(access_type: str) -> str:
    """The option name (application, delegated) of a resourceAccess type (Role, Scope)."""
    return "application" if access_type == "Role" else "delegated"


APPLICATION_WIRE = (
    AppField("app_id", "appId", _as_is, None),
    AppField("object_id", "id", _as_is, None),
    AppField("display_name", "displayName", _as_is, _as_is),
    AppField("unique_name", "uniqueName", _as_is, None),
    AppField("sign_in_audience", "signInAudience", _as_is, _as_is),
    AppField("redirect_uris", "web.redirectUris", _sorted_list, _as_is),
    AppField("home_page_url", "web.homePageUrl", _or_none, _as_is),
    # Names on the option side, ids on the wire: reading names them through the tenant's APIs
    # (PermissionCatalogue.requested_permissions); writing takes resolve_permissions()' ids.
    AppField("api_permissions", "requiredResourceAccess", None, required_resource_access),
)

# A client secret's fields (_secret_plan.Secret) and the passwordCredential properties they travel as, both ways
# (the dates as ISO 8601 text on the wire). The value (secretText) is none of them: it is only in addPassword's
# answer, and this collection never reads it back.
CREDENTIAL_WIRE = (
    ("key_id", "keyId"),
    ("description", "displayName"),
    ("hint", "hint"),
    ("start", "startDateTime"),
    ("end", "endDateTime"),
)
# What addPassword takes: startDateTime too, so that the lifetime a policy measures is exactly end - start.
CREDENTIAL_WRITTEN = ("description", "start", "end")

# Properties of a complex value that Graph derives from the ones written: never sent back.
DERIVED = {"web": ("redirectUriSettings",)}

# What an application read selects: the table's properties, and the credentials and tags of its secrets.
APPLICATION_FIELDS = ",".join(sorted(set(field.graph.split(".")[0] for field in APPLICATION_WIRE)) + ["passwordCredentials", "tags"])
SERVICE_PRINCIPAL_FIELDS = "id,appId,displayName,appRoles,oauth2PermissionScopes"

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Graph's JSON batching ($batch) takes at most 20 requests per call.
BATCH_LIMIT = 20


def application_view(application: dict) -> dict:
    """The options APPLICATION_WIRE reads from a Graph application (all but api_permissions)."""
    view = {}
    for field in APPLICATION_WIRE:
        if field.read is not None:
            parent, _dot, name = field.graph.rpartition(".")
            value = (application.get(parent) or {}) if parent else application
            view[field.option] = field.read(value.get(name))
    return view


def application_body(fields: dict, resolved: dict = None, current: dict = None) -> dict:
    """The Graph body that writes these option values (a create, or the changed fields of an update).

    `resolved` is resolve_permissions()' result, the ids api_permissions is written with. A complex value
    (web) is sent whole, as `current` has it with these fields replaced and its derived properties left out:
    its other settings (logout URL, implicit grant) must survive however Graph treats a partial value.
    """
    body = {}
    for field in APPLICATION_WIRE:
        if field.write is None or field.option not in fields:
            continue
        value = field.write(resolved if field.option == "api_permissions" else fields[field.option])
        parent, _dot, name = field.graph.rpartition(".")
        if not parent:
            body[name] = value
            continue
        if parent not in body:
            body[parent] = dict((current or {}).get(parent) or {})
            for derived in DERIVED.get(parent, ()):
                body[parent].pop(derived, None)
        body[parent][name] = value
    return body


def odata_literal(value: str) -> str:
    """An OData string literal: quoted, with embedded single quotes doubled."""
    return "'%s'" % value.replace("'", "''")
