# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Graph's wire as this collection speaks it: APPLICATION_WIRE, the one table between an application's
options and its Graph properties (read, write and the wanted value of an option; APPLICATION_IDENTITY, the options
that name one), CREDENTIAL_WIRE for its
client secrets, TAG_WIRE for the collection's own records in an application's tags, permission kinds, OData
literals and $batch's size.
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
# read also gives an option value the form a read returns (sorted, empty as None), so wanted and read compare.
AppField = namedtuple("AppField", "option graph read write")


def _as_is(value):
    return value


def _sorted_list(value):
    return sorted(set(value or []))


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


# The options that name an application, in the order GraphClient.find_application tries them.
APPLICATION_IDENTITY = ("app_id", "unique_name", "display_name")


def described_identity(identity: dict) -> str:
    """The identity options given in `identity` (options or params), for a message: "app_id X, unique_name Y"."""
    return ", ".join("%s %s" % (name, identity[name]) for name in APPLICATION_IDENTITY if identity.get(name))


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


# The collection's own records on an application, kept in its tags (the free-form list the application's
# owner may write): record name -> the tag's prefix. The rest of the tag is the record's text:
#   lease: "<holder>,<expiry, ISO 8601 UTC>", the secret hand-over lease (_secret_lease.py);
#   handed_over_key: "<key id>", the secret last handed over to its consumer.
TAG_WIRE = {
    "lease": "moduscloud.azure_sync/lease=",
    "handed_over_key": "moduscloud.azure_sync/key=",
}


def tag_records(tags) -> dict:
    """The collection's records in an application's tags, by name (the first tag of each)."""
    records = {}
    for tag in tags or ():
        for name, prefix in TAG_WIRE.items():
            if tag.startswith(prefix) and name not in records:
                records[name] = tag[len(prefix) :]
    return records


def tags_with_records(tags, records: dict) -> list:
    """`tags` with the collection's records replaced by `records` (name -> text; empty or None: left out)."""
    kept = [tag for tag in tags or () if not tag.startswith(tuple(TAG_WIRE.values()))]
    return kept + [TAG_WIRE[name] + text for name, text in records.items() if text]


def wanted_application(params: dict) -> dict:
    """The options a task manages, in the form a read gives them: every written option it sets, but
    api_permissions (named through the tenant's APIs: PermissionCatalogue.permission_view)."""
    wanted = {}
    for field in APPLICATION_WIRE:
        if field.write is not None and field.read is not None and params.get(field.option) is not None:
            wanted[field.option] = field.read(params[field.option])
    return wanted


def created_application(generated) -> dict:
    """What a read of an application created without the optional options would give: the ids Graph
    chooses as `generated`, every other option empty (the create's own options overwrite these)."""
    return dict((field.option, generated if field.write is None else field.read(None) if field.read else []) for field in APPLICATION_WIRE)


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
